#[session::session(prefix = "cart")]
struct Cart {
    items: Vec<String>,
    #[session(key = "items")]
    more_items: Vec<String>,
    #[session(key = "x")]
    first: u8,
    #[session(key = "x")]
    second: u8,
}

fn main() {}
