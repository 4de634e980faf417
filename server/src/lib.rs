//! Torii server.
