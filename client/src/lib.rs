//! Torii client.
