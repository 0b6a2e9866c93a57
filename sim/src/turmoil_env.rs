//! The shell environment over turmoil sockets and tokio time.
