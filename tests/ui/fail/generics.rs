#[session::session]
struct Cart<T> {
    items: Vec<T>,
}

#[session::session]
struct Borrowed<'a> {
    name: &'a str,
}

#[session::session]
struct Bounded
where
    u8: Copy,
{
    count: u8,
}

fn main() {}
