#[session::session]
struct Cart(Vec<String>);

fn main() {}
