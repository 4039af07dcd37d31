#[derive(serde::Serialize, serde::Deserialize)]
struct UserId(u64);

#[session::session]
struct Account {
    #[session(owner)]
    user: UserId,
}

fn main() {}
