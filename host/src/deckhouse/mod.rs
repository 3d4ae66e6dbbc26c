//! Running a hook as Deckhouse does, written once: [`run`] runs a guest in-process on a
//! run's inputs (what `hook run`, the shell protocol and the simulator use); [`invoke`]
//! runs this binary as a separate process with Deckhouse's files and environment (what
//! `test`, the integration tests, xtask and the benchmark use); [`record`] writes a real
//! run as a case folder `test` replays.

pub mod config;
pub mod invoke;
pub mod job;
pub mod record;
pub mod run;
