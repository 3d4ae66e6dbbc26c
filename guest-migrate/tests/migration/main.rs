//! Native tests of the migration Job on the in-memory store: fixtures end to end with
//! golden objects, the state machine's waits and errors, crash-restart at every call,
//! the seed's recovery procedure, and a 1,000-volume cluster.

mod support;

mod big;
mod crash;
mod fixtures;
mod flow;
mod grants;
mod recovery;
