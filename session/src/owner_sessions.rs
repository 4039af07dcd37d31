//! A user's sessions from a request: [`Session::owner_sessions`] lists the sessions of the
//! current session's owner, the `revoke_*` methods sign them out. The binding itself
//! ([`Session::set_owner`]) and what is stored with it are in `session.rs` and
//! `middleware/devices.rs`; the index behind these calls is the store's
//! [`OwnerIndex`](crate::storage::OwnerIndex).

use crate::{
    session::Session,
    session_meta::is_well_formed_public_id,
    storage::{OwnerError, SessionInfo},
};

impl Session {
    /// The live sessions of this session's owner, on every device and every instance of the
    /// application, most recently seen first; the request's own session has `current` set.
    /// A session bound in this request is listed from the next request on (it is stored
    /// when the response is sent).
    ///
    /// # Errors
    /// [`OwnerError::Unsupported`] if the store keeps no owner index (the cookie store),
    /// [`OwnerError::NoOwner`] if the session is not bound ([`set_owner`](Self::set_owner)),
    /// [`OwnerError::Store`] if the store failed.
    ///
    /// ```
    /// use actix_web::{web, HttpResponse};
    /// use session::Session;
    ///
    /// async fn devices(session: Session) -> actix_web::Result<HttpResponse> {
    ///     let sessions = session
    ///         .owner_sessions()
    ///         .await
    ///         .map_err(actix_web::error::ErrorInternalServerError)?;
    ///     let lines: Vec<String> = sessions
    ///         .iter()
    ///         .map(|s| format!("{} {}", s.public_id, if s.current { "(this device)" } else { "" }))
    ///         .collect();
    ///     Ok(HttpResponse::Ok().body(lines.join("\n")))
    /// }
    /// # let _ = web::get().to(devices);
    /// ```
    pub async fn owner_sessions(&self) -> Result<Vec<SessionInfo>, OwnerError> {
        let (index, owner, current) = self.owner_context()?;
        let mut sessions = index.owner_sessions(&owner).await?;
        if let Some(current) = current {
            for info in &mut sessions {
                info.current = info.public_id == current;
            }
        }
        Ok(sessions)
    }

    /// Signs out the owner's session `public_id` (from [`owner_sessions`](Self::owner_sessions)),
    /// at once and on every instance. `Ok(false)` if the owner has no such session: an
    /// unknown id, another owner's, or a string that is no public id at all look the same.
    /// Signing out the request's own session also [purges](Self::purge) it.
    ///
    /// # Errors
    /// As [`owner_sessions`](Self::owner_sessions).
    pub async fn revoke_session(&self, public_id: &str) -> Result<bool, OwnerError> {
        let (index, owner, current) = self.owner_context()?;
        if !is_well_formed_public_id(public_id) {
            return Ok(false);
        }
        let revoked = index.revoke_owner_session(&owner, public_id).await?;
        if current.as_deref() == Some(public_id) {
            self.purge();
        }
        Ok(revoked)
    }

    /// Signs out every other session of the owner ("sign out everywhere else") and returns
    /// how many were signed out. The request's session stays.
    ///
    /// # Errors
    /// As [`owner_sessions`](Self::owner_sessions).
    pub async fn revoke_other_sessions(&self) -> Result<usize, OwnerError> {
        let (index, owner, current) = self.owner_context()?;
        // A session bound in this request is not stored yet: every stored one is another.
        let keep = current.unwrap_or_default();
        index.revoke_other_owner_sessions(&owner, &keep).await
    }

    /// Signs out every session of the owner, this one included (it is
    /// [purged](Self::purge)), and returns how many stored sessions were signed out.
    ///
    /// # Errors
    /// As [`owner_sessions`](Self::owner_sessions); the request's session is purged only if
    /// the others were signed out.
    pub async fn revoke_all_sessions(&self) -> Result<usize, OwnerError> {
        let (index, owner, _) = self.owner_context()?;
        let revoked = index.revoke_owner_sessions(&owner).await?;
        self.purge();
        Ok(revoked)
    }
}
