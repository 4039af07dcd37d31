//! The expansion is clean in a crate that denies the strict lints, documentation included.
#![deny(
    missing_docs,
    unused_qualifications,
    unused_results,
    unreachable_pub,
    rust_2018_idioms,
    missing_debug_implementations,
    clippy::pedantic
)]
#![forbid(unsafe_code)]

/// The signed-in user.
#[session::session(prefix = "user")]
pub struct User {
    /// The user's id.
    pub id: Option<u64>,
    /// How many pages the user has seen.
    #[session(default)]
    pub pages: u32,
    private: String,
}

fn main() {
    let user = User::from_session(&session::Session::new());
    user.set_private(String::from("x")).unwrap();
}
