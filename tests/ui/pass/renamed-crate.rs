//! With the `session` crate under another name, `crate = "..."` tells the expansion where it is.

extern crate session as web_session;

#[web_session::session(crate = "::web_session", prefix = "p")]
struct Prefs {
    theme: String,
}

fn main() {
    let prefs = Prefs::from(web_session::Session::new());
    prefs.set_theme("dark".to_owned()).unwrap();
    assert_eq!(
        prefs.session().get::<String>("p.theme").unwrap().as_deref(),
        Some("dark")
    );
}
