// One struct, many mistakes: every one is reported, and nothing else.
#[session::session(prefx = "cart")]
struct Cart<T> {
    #[session(key = "")]
    items: Vec<T>,
    #[session(default)]
    user_id: Option<u64>,
    #[session(key = "visits")]
    count: u32,
    visits: u32,
}

fn main() {
    // The item is still there, unchanged: no "cannot find type" errors.
    let _ = Cart::<u8> {
        items: Vec::new(),
        user_id: None,
        count: 0,
        visits: 0,
    };
}
