//! The session cookie: its settings and the rules they follow.

pub(crate) mod rules;
