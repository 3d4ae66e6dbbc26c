//! Native tests of the migration Job on the in-memory store: fixtures end to end with
//! golden objects, parity with the real migrator, the adoption gate, the state
//! machine's waits and errors, crash-restart at every call (mid-batch too), tiny
//! pages, the rehearsal and status reports, the seed's recovery procedure, and
//! 1,000- and 10,000-volume clusters with the guest's memory measured.

mod support;

mod big;
mod crash;
mod fixtures;
mod flow;
mod gate;
mod grants;
mod memory;
mod paging;
mod parity;
mod recovery;
mod rehearsal;
mod status;
