#[session::session]
struct Account {
    #[session(owner)]
    user_id: u64,
    #[session(owner)]
    email: String,
    #[session(owner = "yes")]
    name: String,
}

fn main() {}
