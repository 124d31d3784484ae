//! The authentication use cases over the shop-core user and refresh-token stores.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shop_core::time::now;
use shop_core::validate::Validator;
use shop_core::{
    DisplayName, DomainEvent, Email, Error, OutboxStore, RefreshTokenRecord, RefreshTokenStore,
    RefreshTokenUse, Role, TokenFamilyId, TokenHash, User, UserId, UserStore, UserUpdate,
};
use tracing::{info, instrument, warn};

use crate::AuthError;
use crate::jwt::AccessTokens;
use crate::password::{Passwords, Verification, check_password_policy};
use crate::throttle::{Admission, AttemptId, LoginThrottle, MemoryThrottle, ThrottleKey};

/// What a client sends to register.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// Sign-in address.
    pub email: String,
    /// Password (8–128 characters, not the email).
    pub password: String,
    /// Name shown on reviews.
    pub display_name: String,
}

impl fmt::Debug for RegisterInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterInput")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .finish_non_exhaustive()
    }
}

/// Tokens for a signed-in user. `Debug` never shows the tokens.
#[derive(Clone)]
pub struct Session {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque, single-use token to get the next session.
    pub refresh_token: String,
    /// The user.
    pub user: User,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user.id)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The SHA-256 digest stores keep instead of a refresh token.
#[must_use]
pub fn refresh_token_hash(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

/// Registration, login, refresh-token rotation with reuse detection, logout, password change
/// and profile, over any [`UserStore`] and [`RefreshTokenStore`].
#[derive(Clone)]
pub struct AuthService {
    users: Arc<dyn UserStore>,
    refresh_tokens: Arc<dyn RefreshTokenStore>,
    outbox: Option<Arc<dyn OutboxStore>>,
    passwords: Passwords,
    tokens: Arc<AccessTokens>,
    throttle: Arc<dyn LoginThrottle>,
    limits: LoginLimits,
    /// Counts attempts while `throttle` cannot be reached (see [`AuthService::login`]).
    fallback: Arc<MemoryThrottle>,
    throttle_health: Arc<ThrottleHealth>,
    refresh_ttl: Duration,
}

/// Failed logins allowed within the throttle's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginLimits {
    /// Per email address: guesses at one account's password.
    pub per_email: usize,
    /// Per client address: guesses across accounts from one place. Larger, since one address
    /// (an office, a mobile carrier's NAT) may stand for many people, and attempts count
    /// while they are in flight: this many sign-ins at the very same moment from one address
    /// are admitted.
    pub per_client: usize,
}

impl Default for LoginLimits {
    /// 5 per email, 20 per client address.
    fn default() -> Self {
        Self {
            per_email: 5,
            per_client: 20,
        }
    }
}

/// How often the shared throttle could not be reached.
#[derive(Debug, Default)]
struct ThrottleHealth {
    failovers: AtomicU64,
    degraded: AtomicBool,
}

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("passwords", &self.passwords)
            .field("tokens", &self.tokens)
            .field("throttle", &self.throttle)
            .field("limits", &self.limits)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// The default refresh-token lifetime: 30 days.
    pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

    /// A service over the given stores and keys. Logins are throttled by `throttle` with the
    /// default [`LoginLimits`]; while it cannot be reached, by a per-process
    /// [`MemoryThrottle`] with a 15-minute window (see [`AuthService::with_fallback_throttle`]).
    #[must_use]
    pub fn new(
        users: Arc<dyn UserStore>,
        refresh_tokens: Arc<dyn RefreshTokenStore>,
        passwords: Passwords,
        tokens: Arc<AccessTokens>,
        throttle: Arc<dyn LoginThrottle>,
    ) -> Self {
        Self {
            users,
            refresh_tokens,
            outbox: None,
            passwords,
            tokens,
            throttle,
            limits: LoginLimits::default(),
            fallback: Arc::new(MemoryThrottle::default()),
            throttle_health: Arc::default(),
            refresh_ttl: Self::DEFAULT_REFRESH_TTL,
        }
    }

    /// Sets how many failed logins each email and each client address may have.
    #[must_use]
    pub fn with_login_limits(mut self, limits: LoginLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The per-process throttle used while the shared one cannot be reached (give it the
    /// shared one's window).
    #[must_use]
    pub fn with_fallback_throttle(mut self, fallback: MemoryThrottle) -> Self {
        self.fallback = Arc::new(fallback);
        self
    }

    /// How many login attempts found the shared throttle unreachable and were counted by the
    /// per-process fallback instead (for a metric).
    #[must_use]
    pub fn throttle_failovers(&self) -> u64 {
        self.throttle_health.failovers.load(Ordering::Relaxed)
    }

    /// Announces registrations (`UserRegistered`) through this outbox.
    #[must_use]
    pub fn with_outbox(mut self, outbox: Arc<dyn OutboxStore>) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// Sets the refresh-token lifetime.
    #[must_use]
    pub fn with_refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// The access-token issuer/verifier (for the auth layer).
    #[must_use]
    pub fn access_tokens(&self) -> &Arc<AccessTokens> {
        &self.tokens
    }

    /// Registers a customer.
    ///
    /// # Errors
    /// Validation errors for every bad field; [`Conflict::EmailTaken`](shop_core::Conflict).
    pub async fn register(&self, input: &RegisterInput) -> Result<User, AuthError> {
        self.register_with_roles(input, BTreeSet::from([Role::Customer]))
            .await
    }

    /// Registers a user with the given roles (e.g. the bootstrap admin).
    ///
    /// # Errors
    /// As [`AuthService::register`].
    // No e-mail address in the span: every log line written inside it would carry it.
    #[instrument(skip_all)]
    pub async fn register_with_roles(
        &self,
        input: &RegisterInput,
        roles: BTreeSet<Role>,
    ) -> Result<User, AuthError> {
        let mut v = Validator::default();
        let email = v.check(Email::parse(&input.email));
        let name = v.check(DisplayName::parse(&input.display_name));
        if let Some(email) = &email {
            v.check(check_password_policy(&input.password, email));
        }
        let (Some(email), Some(name)) = (email, name) else {
            return Err(Error::Validation(v.into_errors()).into());
        };
        v.finish().map_err(Error::Validation)?;
        let hash = self.passwords.hash(&input.password).await?;
        let user = User::create(email, name, hash, roles);
        self.users.create_user(&user).await?;
        if let Some(outbox) = &self.outbox
            && let Err(e) = outbox
                .append_events(&[DomainEvent::user_registered(&user)])
                .await
        {
            warn!(error = %e, user_id = %user.id, "user stored but UserRegistered not queued");
        }
        info!(user_id = %user.id, "user registered");
        Ok(user)
    }

    /// Signs in with email and password. The attempt is throttled per email and, when
    /// `client` (the client's address) is given, per client too; unknown emails cost the same
    /// time as wrong passwords.
    ///
    /// When the throttle cannot be reached (Redis down), the attempt is counted by a
    /// per-process fallback instead: logins keep working and stay limited, per replica rather
    /// than per fleet, and a warning is logged when that starts and when it ends. Refusing
    /// every login while a cache is down would turn its outage into the shop's; counting
    /// nothing would leave passwords open to guessing for as long as it lasts.
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`]; [`AuthError::Throttled`]; store errors.
    // The address is the client's, not the account's: no e-mail address in logs.
    #[instrument(skip(self, email, password))]
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: Option<&str>,
    ) -> Result<Session, AuthError> {
        let email_key = format!("email:{}", email.trim().to_lowercase());
        let client_key = client.map(|c| format!("client:{c}"));
        let limits = self.limits;
        let counted: Vec<ThrottleKey<'_>> = std::iter::once(ThrottleKey {
            key: &email_key,
            limit: limits.per_email,
        })
        .chain(client_key.as_deref().map(|key| ThrottleKey {
            key,
            limit: limits.per_client,
        }))
        .collect();
        let keys: Vec<&str> = counted.iter().map(|k| k.key).collect();
        let (attempt, counted_by) = self.admit(&counted).await?;

        let user = match Email::parse(email) {
            Ok(e) => match self.users.find_user_by_email(&e).await {
                Ok(user) => user,
                Err(store) => {
                    // No password was tested: not a failure to hold against anyone.
                    if let Err(e) = counted_by.uncount(&attempt, &keys, None).await {
                        warn!(error = %e, "an attempt that met a store failure stays counted");
                    }
                    return Err(store.into());
                }
            },
            Err(_) => None,
        };
        let verdict = self
            .passwords
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await;
        let (Some(user), Verification::Valid { needs_rehash }) = (user, verdict) else {
            // The attempt stays counted: that is the failure.
            return Err(AuthError::InvalidCredentials);
        };
        if let Err(e) = counted_by.uncount(&attempt, &keys, Some(&email_key)).await {
            warn!(error = %e, "login succeeded but its attempt stays counted until the window ends");
        }
        let user = if needs_rehash {
            self.rehash(user, password).await
        } else {
            user
        };
        self.new_session(user, TokenFamilyId::generate()).await
    }

    /// Admits an attempt through the shared throttle, or through the fallback while the shared
    /// one cannot be reached; returns the attempt and the throttle that counted it.
    async fn admit(
        &self,
        keys: &[ThrottleKey<'_>],
    ) -> Result<(AttemptId, &dyn LoginThrottle), AuthError> {
        let health = &self.throttle_health;
        let (admission, counted_by): (Admission, &dyn LoginThrottle) = match self
            .throttle
            .admit(keys)
            .await
        {
            Ok(admission) => {
                if health.degraded.swap(false, Ordering::Relaxed) {
                    info!("login throttle reachable again");
                }
                (admission, self.throttle.as_ref())
            }
            Err(e) => {
                health.failovers.fetch_add(1, Ordering::Relaxed);
                if !health.degraded.swap(true, Ordering::Relaxed) {
                    warn!(
                        error = %e,
                        "login throttle unreachable: counting attempts per process until it is back"
                    );
                }
                let fallback = self.fallback.as_ref();
                let admission = fallback
                    .admit(keys)
                    .await
                    .map_err(|e| AuthError::Config(e.to_string()))?;
                (admission, fallback)
            }
        };
        match admission {
            Admission::Admitted(attempt) => Ok((attempt, counted_by)),
            Admission::Refused { retry_after } => Err(AuthError::Throttled { retry_after }),
        }
    }

    /// Stores a hash with the current parameters; on failure keeps the old one (login still
    /// succeeds) and logs.
    async fn rehash(&self, user: User, password: &str) -> User {
        let update = match self.passwords.hash(password).await {
            Ok(hash) => UserUpdate {
                password_hash: Some(hash),
                ..UserUpdate::default()
            },
            Err(e) => {
                warn!(error = %e, "password re-hash failed");
                return user;
            }
        };
        match self.users.update_user(user.id, &update).await {
            Ok(updated) => updated,
            Err(e) => {
                warn!(error = %e, user_id = %user.id, "storing the re-hashed password failed");
                user
            }
        }
    }

    /// Exchanges a refresh token for a new session; the token is used up. Presenting a used
    /// token again revokes its whole family (every token descended from that login).
    ///
    /// # Errors
    /// [`AuthError::InvalidRefreshToken`]; [`AuthError::RefreshTokenReused`]; store errors.
    #[instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, AuthError> {
        let at = now();
        match self
            .refresh_tokens
            .use_refresh_token(&refresh_token_hash(refresh_token), at)
            .await?
        {
            RefreshTokenUse::Fresh(rec) => {
                let user = self
                    .users
                    .get_user(rec.user_id)
                    .await?
                    .ok_or(AuthError::InvalidRefreshToken)?;
                self.new_session(user, rec.family_id).await
            }
            RefreshTokenUse::AlreadyUsed(rec) => {
                let revoked = self
                    .refresh_tokens
                    .revoke_token_family(rec.family_id, at)
                    .await?;
                warn!(user_id = %rec.user_id, revoked, "refresh token reused; family revoked");
                Err(AuthError::RefreshTokenReused)
            }
            RefreshTokenUse::Revoked(_)
            | RefreshTokenUse::Expired(_)
            | RefreshTokenUse::Unknown => Err(AuthError::InvalidRefreshToken),
        }
    }

    /// Ends the login the refresh token belongs to (its whole family). Unknown tokens are
    /// ignored, so logout is idempotent.
    ///
    /// # Errors
    /// Store errors.
    #[instrument(skip_all)]
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        let at = now();
        let found = self
            .refresh_tokens
            .use_refresh_token(&refresh_token_hash(refresh_token), at)
            .await?;
        let family = match found {
            RefreshTokenUse::Fresh(r)
            | RefreshTokenUse::AlreadyUsed(r)
            | RefreshTokenUse::Revoked(r)
            | RefreshTokenUse::Expired(r) => r.family_id,
            RefreshTokenUse::Unknown => return Ok(()),
        };
        self.refresh_tokens.revoke_token_family(family, at).await?;
        Ok(())
    }

    /// Changes the password after checking the current one, and revokes every refresh token
    /// of the user (all other sessions end when their access tokens expire).
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`] for a wrong current password; validation errors for
    /// the new one; store errors.
    #[instrument(skip(self, current, new))]
    pub async fn change_password(
        &self,
        user_id: UserId,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        let user = self.profile(user_id).await?;
        if self
            .passwords
            .verify(current, Some(user.password_hash.as_str()))
            .await
            == Verification::Invalid
        {
            return Err(AuthError::InvalidCredentials);
        }
        check_password_policy(new, &user.email)?;
        let update = UserUpdate {
            password_hash: Some(self.passwords.hash(new).await?),
            ..UserUpdate::default()
        };
        self.users.update_user(user_id, &update).await?;
        self.refresh_tokens
            .revoke_user_tokens(user_id, now())
            .await?;
        Ok(())
    }

    /// The user's profile.
    ///
    /// # Errors
    /// `NotFound`; store errors.
    pub async fn profile(&self, user_id: UserId) -> Result<User, AuthError> {
        Ok(self
            .users
            .get_user(user_id)
            .await?
            .ok_or(Error::NotFound("user"))?)
    }

    /// Changes the display name.
    ///
    /// # Errors
    /// Validation errors; `NotFound`; store errors.
    pub async fn update_profile(
        &self,
        user_id: UserId,
        display_name: &str,
    ) -> Result<User, AuthError> {
        let update = UserUpdate {
            display_name: Some(DisplayName::parse(display_name)?),
            ..UserUpdate::default()
        };
        Ok(self.users.update_user(user_id, &update).await?)
    }

    async fn new_session(
        &self,
        user: User,
        family_id: TokenFamilyId,
    ) -> Result<Session, AuthError> {
        let (access_token, claims) = self.tokens.issue(user.id, &user.roles)?;
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let refresh_token = URL_SAFE_NO_PAD.encode(bytes);
        let issued_at = now();
        let ttl = chrono::TimeDelta::from_std(self.refresh_ttl)
            .map_err(|e| AuthError::Config(format!("refresh ttl: {e}")))?;
        self.refresh_tokens
            .insert_refresh_token(&RefreshTokenRecord {
                token_hash: refresh_token_hash(&refresh_token),
                family_id,
                user_id: user.id,
                issued_at,
                expires_at: issued_at + ttl,
                used_at: None,
                revoked_at: None,
            })
            .await?;
        Ok(Session {
            access_token,
            expires_in: u64::try_from(claims.exp - claims.iat).unwrap_or(0),
            refresh_token,
            user,
        })
    }
}
