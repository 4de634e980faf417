//! The README's Rust examples, compiled by `cargo test` as doctests.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}
