//! Argon2id password hashing.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so parameters travel with
//! each hash and can be raised later: `Verification::Valid { needs_rehash }` tells the caller
//! to store a fresh hash at the next successful login. Hashing and verification are deliberately slow, so
//! the async functions run them on the blocking pool, where a burst of logins cannot stall the
//! executor.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use shop_core::{Email, FieldError, PasswordHash};

use crate::AuthError;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in characters (bounds the hashing work an attacker can ask for).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordParams {
    /// OWASP's recommendation for Argon2id: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Wrong password (or an unreadable hash).
    Invalid,
    /// Right password. When `needs_rehash`, the stored hash uses weaker parameters than the
    /// current ones and should be replaced.
    Valid {
        /// Whether to store a new hash.
        needs_rehash: bool,
    },
}

/// Hashes and verifies passwords with fixed Argon2id parameters.
#[derive(Clone)]
pub struct Passwords {
    params: PasswordParams,
    argon: Arc<Argon2<'static>>,
    /// A hash of a random password, verified against when the email is unknown so that a
    /// login takes as long whether or not the account exists.
    dummy: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// A hasher with `params`.
    ///
    /// # Errors
    /// [`AuthError::Config`] when Argon2 rejects the parameters.
    pub fn new(params: PasswordParams) -> Result<Self, AuthError> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| AuthError::Config(format!("argon2 parameters: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let salt = SaltString::generate(&mut OsRng);
        let dummy = argon
            .hash_password(b"dummy password never used by anyone", &salt)
            .map_err(|e| AuthError::Config(format!("argon2: {e}")))?
            .to_string();
        Ok(Self {
            params,
            argon: Arc::new(argon),
            dummy: dummy.into(),
        })
    }

    /// The parameters new hashes use.
    #[must_use]
    pub fn params(&self) -> PasswordParams {
        self.params
    }

    /// Hashes `password` now, on the calling thread.
    ///
    /// # Errors
    /// [`AuthError::Config`] if Argon2 fails (it does not for valid parameters).
    pub fn hash_blocking(&self, password: &str) -> Result<PasswordHash, AuthError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| PasswordHash::new(h.to_string()))
            .map_err(|e| AuthError::Config(format!("argon2: {e}")))
    }

    /// Checks `password` against `hash` now, on the calling thread. Constant-time in the
    /// comparison; a malformed hash counts as a wrong password.
    #[must_use]
    pub fn verify_blocking(&self, password: &str, hash: &str) -> Verification {
        let Ok(parsed) = argon2::PasswordHash::new(hash) else {
            return Verification::Invalid;
        };
        if self
            .argon
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Verification::Invalid;
        }
        Verification::Valid {
            needs_rehash: self.is_weaker(&parsed),
        }
    }

    fn is_weaker(&self, parsed: &argon2::PasswordHash<'_>) -> bool {
        if parsed.algorithm != Algorithm::Argon2id.ident() {
            return true;
        }
        match Params::try_from(parsed) {
            Ok(p) => {
                p.m_cost() < self.params.memory_kib
                    || p.t_cost() < self.params.iterations
                    || p.p_cost() < self.params.parallelism
            }
            Err(_) => true,
        }
    }

    /// Hashes on the blocking pool.
    ///
    /// # Errors
    /// As [`Passwords::hash_blocking`].
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, AuthError> {
        let this = self.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || this.hash_blocking(&password))
            .await
            .map_err(|e| AuthError::Config(format!("hashing task failed: {e}")))?
    }

    /// Verifies on the blocking pool; `None` for the hash verifies against a dummy hash and
    /// reports `Invalid`, taking as long as a real check.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Verification {
        let this = self.clone();
        let password = password.to_owned();
        let (hash, real) = match hash {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy.to_string(), false),
        };
        let outcome = tokio::task::spawn_blocking(move || this.verify_blocking(&password, &hash))
            .await
            .unwrap_or(Verification::Invalid);
        if real { outcome } else { Verification::Invalid }
    }
}

/// The password policy: 8–128 characters, and not the account's own email.
///
/// # Errors
/// A [`FieldError`] on `password`.
pub fn check_password_policy(password: &str, email: &Email) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            "too_short",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            "too_long",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password.trim().eq_ignore_ascii_case(email.as_str()) {
        return Err(FieldError::new(
            "password",
            "same_as_email",
            "must not be your email address",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        Passwords::new(PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn hash_then_verify() {
        let p = cheap();
        let h = p.hash_blocking("correct horse").unwrap();
        assert!(h.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            p.verify_blocking("correct horse", h.as_str()),
            Verification::Valid {
                needs_rehash: false
            }
        );
        assert_eq!(
            p.verify_blocking("wrong horse", h.as_str()),
            Verification::Invalid
        );
        assert_eq!(
            p.verify_blocking("x", "not a phc string"),
            Verification::Invalid
        );
    }

    #[test]
    fn weaker_stored_parameters_ask_for_a_rehash() {
        let old = cheap();
        let h = old.hash_blocking("correct horse").unwrap();
        let stronger = Passwords::new(PasswordParams {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        assert_eq!(
            stronger.verify_blocking("correct horse", h.as_str()),
            Verification::Valid { needs_rehash: true }
        );
    }

    #[test]
    fn default_parameters_are_owasp() {
        let d = PasswordParams::default();
        assert_eq!((d.memory_kib, d.iterations, d.parallelism), (19_456, 2, 1));
    }

    #[test]
    fn policy() {
        let email = Email::parse("ada@example.com").unwrap();
        assert!(check_password_policy("short", &email).is_err());
        assert!(check_password_policy(&"x".repeat(129), &email).is_err());
        assert_eq!(
            check_password_policy("ADA@example.com", &email)
                .unwrap_err()
                .code,
            "same_as_email"
        );
        assert!(check_password_policy("a fine passphrase", &email).is_ok());
    }

    #[tokio::test]
    async fn unknown_accounts_verify_against_the_dummy_and_fail() {
        let p = cheap();
        assert_eq!(p.verify("anything", None).await, Verification::Invalid);
        let h = p.hash("anything at all").await.unwrap();
        assert!(matches!(
            p.verify("anything at all", Some(h.as_str())).await,
            Verification::Valid { .. }
        ));
    }
}
