//! The event loop that drives a core Node, generic over its environment.
