#[session::session]
struct Cart {
    session: String,
    from_session: String,
    items: Vec<String>,
    set_items: Vec<String>,
    userId: u64,
    user_id: u64,
}

fn main() {}
