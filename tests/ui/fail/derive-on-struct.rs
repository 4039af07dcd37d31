#[session::session]
#[derive(Clone, Debug)]
struct Cart {
    items: Vec<String>,
}

fn main() {}
