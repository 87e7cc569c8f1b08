//! People who sign in to the web app, and their sessions.
//!
//! Passwords are stored as argon2id hashes. A session is a random 256-bit id
//! the browser keeps in a cookie; the store keeps only its SHA-256, so a copy
//! of the store signs nobody in. Forms carry a token derived from the session
//! id, which a page on another site cannot know.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use rand::{RngCore, SeedableRng};
use serde::Serialize;
use winback_store::{NewUser, Store, User};

use crate::{AppError, Result};

/// How long a session lasts without signing in again.
pub const SESSION_SECS: i64 = 12 * 3600;

/// What a user may do: owners everything; staff view and record reasons,
/// calls and follow-ups, but not send campaigns or manage users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
        }
    }

    pub fn of(user: &User) -> Role {
        if user.role == "owner" {
            Role::Owner
        } else {
            Role::Staff
        }
    }
}

impl std::str::FromStr for Role {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "staff" => Ok(Role::Staff),
            _ => Err(AppError::Invalid(format!("unknown role '{s}'; expected owner or staff"))),
        }
    }
}

/// `bytes` random bytes from the OS, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut buf = vec![0u8; bytes];
    rng.fill_bytes(&mut buf);
    hex(&buf)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub use winback_store::digest;

/// A password for someone who did not choose one: 20 characters from an
/// alphabet without look-alikes (about 114 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::StdRng::from_os_rng();
    (0..20).map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char).collect()
}

/// Minimal shape check: something@something.something, no spaces.
pub fn check_email(email: &str) -> Result<String> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@')
            .is_some_and(|(a, d)| !a.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'));
    if ok {
        Ok(e)
    } else {
        Err(AppError::Invalid(format!("'{}' is not an email address", email.trim())))
    }
}

pub fn check_password(p: &str) -> Result<()> {
    if p.chars().count() < 12 {
        return Err(AppError::Invalid("a password needs at least 12 characters".into()));
    }
    if p.len() > 1024 {
        return Err(AppError::Invalid("a password of more than 1024 bytes is not accepted".into()));
    }
    Ok(())
}

pub fn hash_password(p: &str) -> Result<String> {
    Argon2::default()
        .hash_password(p.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Invalid(format!("cannot hash the password: {e}")))
}

/// Add a user; returns them.
pub fn add_user(store: &mut dyn Store, email: &str, role: Role, password: &str) -> Result<User> {
    let email = check_email(email)?;
    check_password(password)?;
    let id = store.add_user(&NewUser {
        email: email.clone(),
        role: role.as_str().into(),
        password_hash: hash_password(password)?,
    })?;
    store
        .users()?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| AppError::NotFound(format!("user {email} vanished after it was added")))
}

pub fn set_disabled(store: &mut dyn Store, email: &str, disabled: bool) -> Result<()> {
    Ok(store.set_user_disabled(&check_email(email)?, disabled)?)
}

/// A signed-in session: `id` goes in the cookie and nowhere else.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: User,
    pub expires_at: i64,
}

/// Why a sign-in failed, said the same way whatever the cause, so that the
/// form does not tell which emails have accounts.
pub const BAD_LOGIN: &str = "That email and password do not match an account.";

/// Check a password and start a session; `None` when they do not match (or
/// the user is disabled). Unknown emails cost the same argon2 work.
pub fn login(store: &mut dyn Store, email: &str, password: &str, now: i64) -> Result<Option<Session>> {
    let found = match check_email(email) {
        Ok(e) => store.user_for_login(&e)?,
        Err(_) => None,
    };
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, dummy_hash().to_string()),
    };
    let ok = Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok();
    let Some(user) = user.filter(|u| ok && !u.disabled) else { return Ok(None) };
    let id = random_hex(32);
    let expires_at = now + SESSION_SECS;
    store.start_session(&digest(&id), user.id, now, expires_at)?;
    Ok(Some(Session { id, user, expires_at }))
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&random_hex(16)).unwrap_or_default())
}

/// The user of a session cookie, if it is current.
pub fn session_user(store: &mut dyn Store, id: &str, now: i64) -> Result<Option<User>> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(store.session_user(&digest(id), now)?)
}

pub fn logout(store: &mut dyn Store, id: &str) -> Result<()> {
    Ok(store.end_session(&digest(id))?)
}

pub fn logout_everywhere(store: &mut dyn Store, user_id: i64) -> Result<usize> {
    Ok(store.end_sessions(user_id)?)
}

/// The token forms of a session carry: derived from the session id (secret
/// to the browser), so another site cannot forge it.
pub fn csrf_token(session_id: &str) -> String {
    digest(&format!("winback-csrf:{session_id}"))
}

/// Compare in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(Argon2::default().verify_password(b"correct horse battery", h.as_str()).is_ok());
        assert!(Argon2::default().verify_password(b"wrong horse battery", h.as_str()).is_err());
        assert!(check_password("short").is_err());
        let p = generate_password();
        assert_eq!(p.len(), 20);
        assert_ne!(p, generate_password());
    }

    #[test]
    fn tokens_are_random_and_hashes_fixed() {
        assert_eq!(random_hex(32).len(), 64);
        assert_ne!(random_hex(16), random_hex(16));
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
        assert_eq!(check_email(" Ada@Shop.Test ").unwrap(), "ada@shop.test");
        assert!(check_email("ada@shop").is_err() && check_email("a b@c.d").is_err());
    }
}
