//! Deterministic simulation of synod.
