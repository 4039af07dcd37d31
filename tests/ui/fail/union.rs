#[session::session]
union Cart {
    count: u32,
}

fn main() {}
