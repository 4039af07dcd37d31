#[session::session(prefix = "cart.")]
struct Cart {
    items: Vec<String>,
}

fn main() {}
