//! Runnable examples for the `session` toolkit: see the `[[example]]` targets.
//!
//! The library part holds the demo's application ([`demo`]), so that `cargo run --example
//! demo` and the browser test (`tests/browser.rs`) serve exactly the same code.
#![forbid(unsafe_code)]

pub mod demo;

/// The README's Rust snippets, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
