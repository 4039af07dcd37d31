#[session::session(prefx = "cart")]
struct Cart {
    items: Vec<String>,
}

#[session::session(rename_all = "camelCase", prefix = "p")]
struct Prefs {
    theme: String,
}

#[session::session(key = "k")]
struct Misplaced {
    #[session(prefix = "p")]
    theme: String,
}

fn main() {}
