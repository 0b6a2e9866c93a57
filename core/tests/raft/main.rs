//! Multi-node Raft scenarios over the public API: datadriven scripts (`testdata/*.txt`, after
//! etcd-io/raft; `REWRITE=1` regenerates them) and a randomized fault test.

mod cluster;
mod datadriven;
mod format;
mod random_test;
mod scenarios;
