#[session::session]
enum Cart {
    Empty,
}

fn main() {}
