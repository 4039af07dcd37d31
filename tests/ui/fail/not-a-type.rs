#[session::session]
fn cart() {}

fn main() {}
