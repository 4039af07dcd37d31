#[derive(serde::Serialize, serde::Deserialize)]
struct Level(u8);

fn make_level() -> u8 {
    1
}

#[session::session]
struct Cart {
    #[session(default)]
    level: Level,
    #[session(default = "make_level")]
    other: Level,
    #[session(default = "missing_function")]
    third: u8,
}

fn main() {}
