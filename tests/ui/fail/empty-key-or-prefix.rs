#[session::session(prefix = "")]
struct Cart {
    #[session(key = "")]
    items: Vec<String>,
}

fn main() {}
