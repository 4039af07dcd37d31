#[session::session]
struct Cart {
    #[session(default)]
    user_id: Option<u64>,
    #[session(default = "none")]
    coupon: std::option::Option<String>,
}

fn none() -> Option<String> {
    None
}

fn main() {}
