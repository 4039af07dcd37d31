//! Configuration for the `session` middleware (work in progress, see issue 5).
#![forbid(unsafe_code)]
