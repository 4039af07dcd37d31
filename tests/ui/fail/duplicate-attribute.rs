#[session::session(prefix = "a", prefix = "b")]
struct Cart {
    #[session(key = "i", key = "j")]
    items: Vec<String>,
    #[session(default)]
    #[session(default = "u32::default")]
    visits: u32,
}

fn main() {}
