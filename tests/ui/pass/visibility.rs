//! Accessors take the visibility of their field; the handle that of the struct.

mod account {
    #[session::session(prefix = "account")]
    pub struct Account {
        pub name: String,
        pub(crate) tier: Option<u8>,
        secret: String,
    }

    impl Account {
        pub fn has_secret(&self) -> bool {
            self.secret().ok().flatten().is_some()
        }

        pub fn forget_secret(&self) {
            let _ = self.remove_secret();
            let _ = self.set_secret(String::new());
        }
    }
}

fn main() {
    let account = account::Account::from(session::Session::new());
    account.set_name("ann".to_owned()).unwrap();
    account.set_tier(2).unwrap();
    assert_eq!(account.name().unwrap().as_deref(), Some("ann"));
    assert_eq!(account.tier().unwrap(), Some(2));
    assert!(!account.has_secret());
    account.forget_secret();
    assert_eq!(account::Account::TIER_KEY, "account.tier");
}
