//! Fuzz target bodies, shared by `fuzz/` and the regression replay in `cargo test`.
