//! synod's runtime: drives synod-core over real sockets, files and timers.
