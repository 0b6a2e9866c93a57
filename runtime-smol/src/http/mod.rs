//! The HTTP API server (hand-rolled on httparse).
