#[session::session]
struct Cart;

fn main() {}
