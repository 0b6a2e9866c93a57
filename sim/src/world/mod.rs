//! Runtime-free discrete-event world simulator.
