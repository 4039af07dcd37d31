//! `#[session(owner)]` on a typed field: the setter binds the session to the value.
use session::{session, Session};

#[session(prefix = "account")]
pub struct Account {
    /// The signed-in user.
    #[session(owner, key = "uid")]
    pub user_id: Option<u64>,
    #[session(default)]
    pub visits: u32,
}

#[session]
pub struct Named {
    #[session(owner)]
    pub name: String,
}

fn main() {
    let session = Session::new();
    let account = Account::from_session(&session);
    assert_eq!(session.owner(), None);
    account.set_visits(1).unwrap();
    assert_eq!(session.owner(), None);
    account.set_user_id(7).unwrap();
    assert_eq!(session.owner().as_deref(), Some("7"));
    Named::from_session(&session).set_name("carol".to_owned()).unwrap();
    assert_eq!(session.owner().as_deref(), Some("carol"));
}
