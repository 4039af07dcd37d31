#[session::session(prefix)]
struct Cart {
    items: Vec<String>,
}

#[session::session(prefix = 1)]
struct Other {
    #[session]
    items: Vec<String>,
    #[session(key = 7)]
    count: u8,
    #[session(default = "not a path")]
    name: String,
}

#[session::session(crate = "not a path")]
struct Third {
    items: Vec<String>,
}

fn main() {}
