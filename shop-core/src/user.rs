//! Users, roles and the records behind refresh tokens.
//!
//! Password hashing itself lives in `shop-auth`; here a hash is an opaque string.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::string_newtype_impls;
use crate::id::{TokenFamilyId, UserId};
use crate::time::{Timestamp, now};
use crate::validate::{FieldError, bounded_text, check_len};

bounded_text!(
    /// A user's display name: 1–100 characters.
    DisplayName, field = "display_name", min = 1, max = 100
);

/// An email address, stored lower-case so uniqueness is case-insensitive on every backend.
///
/// The check is deliberately simple (one `@`, a dotted domain, no spaces, at most 254
/// characters): the only real proof of an address is mail that arrives.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Email))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Trims, lower-cases and checks `s`.
    ///
    /// # Errors
    /// A [`FieldError`] on `email`.
    pub fn parse(s: impl AsRef<str>) -> Result<Self, FieldError> {
        let t = s.as_ref().trim().to_lowercase();
        check_len("email", &t, 3, 254)?;
        let bad = || FieldError::new("email", "invalid_email", "is not a valid email address");
        let (local, domain) = t.split_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty()
            || local.len() > 64
            || !domain_ok
            || t.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        Ok(Self(t))
    }

    /// The address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Email);

/// A password hash in PHC string form. Opaque here; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash string produced by a password hasher.
    #[must_use]
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// What a user may do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Shops: cart, checkout, own orders, reviews.
    Customer,
    /// Manages the catalog and every order.
    Admin,
}

impl Role {
    /// `customer` or `admin`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }

    /// Parses [`Role::as_str`]'s output.
    ///
    /// # Errors
    /// A [`FieldError`] on `role`.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "customer" => Ok(Role::Customer),
            "admin" => Ok(Role::Admin),
            _ => Err(FieldError::new(
                "role",
                "invalid_choice",
                "must be customer or admin",
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// Unique (case-insensitively) sign-in address.
    pub email: Email,
    /// Name shown to others (e.g. on reviews).
    pub display_name: DisplayName,
    /// The password hash; hashing lives in `shop-auth`.
    pub password_hash: PasswordHash,
    /// What the user may do; never empty.
    pub roles: BTreeSet<Role>,
    /// When the user registered.
    pub created_at: Timestamp,
    /// When the user last changed.
    pub updated_at: Timestamp,
}

impl User {
    /// A new user with a fresh ID and timestamps.
    #[must_use]
    pub fn create(
        email: Email,
        display_name: DisplayName,
        password_hash: PasswordHash,
        roles: BTreeSet<Role>,
    ) -> Self {
        let at = now();
        let roles = if roles.is_empty() {
            BTreeSet::from([Role::Customer])
        } else {
            roles
        };
        Self {
            id: UserId::generate(),
            email,
            display_name,
            password_hash,
            roles,
            created_at: at,
            updated_at: at,
        }
    }

    /// Whether the user holds `role`.
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A partial update of a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// New display name.
    pub display_name: Option<DisplayName>,
    /// New password hash.
    pub password_hash: Option<PasswordHash>,
    /// New roles (must not be empty).
    pub roles: Option<BTreeSet<Role>>,
}

impl UserUpdate {
    /// Applies the update in memory, stamping `updated_at`.
    pub fn apply_to(&self, user: &mut User, at: Timestamp) {
        if let Some(v) = &self.display_name {
            user.display_name = v.clone();
        }
        if let Some(v) = &self.password_hash {
            user.password_hash = v.clone();
        }
        if let Some(v) = &self.roles
            && !v.is_empty()
        {
            user.roles = v.clone();
        }
        user.updated_at = at;
    }
}

/// The SHA-256 digest of a refresh token. Stores keep only this, never the token.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only a prefix: enough to correlate log lines, too little to matter.
        write!(
            f,
            "TokenHash({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// Digest of the token.
    pub token_hash: TokenHash,
    /// All tokens rotated from one login share a family; reuse revokes the family.
    pub family_id: TokenFamilyId,
    /// Whose token it is.
    pub user_id: UserId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was exchanged for a new one (a token works once).
    pub used_at: Option<Timestamp>,
    /// When it was revoked (logout, password change, reuse detected).
    pub revoked_at: Option<Timestamp>,
}

impl RefreshTokenRecord {
    /// Whether the token may be exchanged at `now`: not revoked, not used, not expired.
    #[must_use]
    pub fn is_usable_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.used_at.is_none() && self.expires_at > now
    }

    /// Whether the token can never be used again at `now` (expired or revoked), so keeping
    /// it serves nothing. A used but unexpired token is kept: presenting it again must still
    /// be detected as reuse.
    #[must_use]
    pub fn is_purgeable_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_some() || self.expires_at <= now
    }

    /// Why an unusable token is refused, in order of precedence: revoked, then already used
    /// (a reuse, to be treated as theft), then expired. For a usable token, `Fresh`.
    #[must_use]
    pub fn refusal_at(self, now: Timestamp) -> RefreshTokenUse {
        if self.revoked_at.is_some() {
            RefreshTokenUse::Revoked(self)
        } else if self.used_at.is_some() {
            RefreshTokenUse::AlreadyUsed(self)
        } else if self.expires_at <= now {
            RefreshTokenUse::Expired(self)
        } else {
            RefreshTokenUse::Fresh(self)
        }
    }
}

/// What presenting a refresh token found. Only [`RefreshTokenUse::Fresh`] marks it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshTokenUse {
    /// Valid; now marked used (atomically, so two racing uses cannot both get `Fresh`).
    Fresh(RefreshTokenRecord),
    /// Already used once: a sign of theft; the caller should revoke the family.
    AlreadyUsed(RefreshTokenRecord),
    /// Revoked earlier.
    Revoked(RefreshTokenRecord),
    /// Past its expiry.
    Expired(RefreshTokenRecord),
    /// No such token.
    Unknown,
}
