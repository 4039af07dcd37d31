struct Opaque;

#[session::session]
struct Cart {
    items: Vec<String>,
    opaque: Opaque,
    maybe: Option<Opaque>,
}

fn main() {}
