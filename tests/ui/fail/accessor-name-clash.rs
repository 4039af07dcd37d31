#[session::session]
struct Cart {
    session: String,
    from_session: String,
    clone: String,
    #[session(key = "f")]
    from: u8,
    items: Vec<String>,
    set_items: Vec<String>,
    #[allow(non_snake_case)]
    userId: u64,
    user_id: u64,
}

fn main() {}
