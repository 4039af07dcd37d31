#[session::session]
struct Cart {
    #[session(kye = "i")]
    items: Vec<String>,
    #[session(defualt)]
    visits: u32,
    #[session(rename = "n", skip)]
    name: String,
}

fn main() {}
