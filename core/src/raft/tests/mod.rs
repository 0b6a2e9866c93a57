//! Raft tests: unit tests per concern asserting exact actions, and datadriven scenarios.

mod cluster;
mod datadriven;
mod format;
mod scenarios;
