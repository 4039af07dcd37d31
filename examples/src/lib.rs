//! Runnable examples for the `session` toolkit: see the `[[example]]` targets.
