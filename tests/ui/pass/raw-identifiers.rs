//! Raw identifiers: the accessors keep `r#`, the key and the constant drop it.

#[session::session]
struct Notice {
    r#type: String,
    r#match: Option<u8>,
}

fn main() {
    let notice = Notice::from(session::Session::new());
    notice.set_type("info".to_owned()).unwrap();
    notice.set_match(1).unwrap();
    assert_eq!(notice.r#type().unwrap().as_deref(), Some("info"));
    assert_eq!(notice.remove_match().unwrap(), Some(1));
    assert_eq!(Notice::TYPE_KEY, "type");
    assert_eq!(Notice::MATCH_KEY, "match");
}
