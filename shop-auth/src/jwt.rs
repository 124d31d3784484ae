//! JWT access tokens with a rotating key set.
//!
//! Tokens carry a `kid` header. A [`KeySet`] signs with its current key and verifies with any
//! key it knows, so keys rotate without logging anyone out: add the new key as current, keep
//! the old one for verification until its last token expires. Every key has exactly one
//! algorithm and a token is only checked with the algorithm of the key its `kid` names, so
//! `alg: none` and algorithm confusion (an HS256 token "signed" with an RSA public key) are
//! refused before any signature is computed.
//!
//! Other services verify shop tokens without any secret: [`KeySet::jwks`] is the public half
//! of the asymmetric (EdDSA, RS256) keys as a JWK Set — shop-http serves it at
//! `/.well-known/jwks.json` — and [`KeySet::from_jwks`] (or [`KeySet::verify_only`] with the
//! `verify_also_*` methods) makes a key set that verifies and cannot sign.
//!
//! Signing is HS256 or EdDSA. RS256 is verified only (tokens of an identity provider that
//! signs with RSA, through its JWK Set or public key): the `rsa` crate's private-key
//! operations are not constant-time (RUSTSEC-2023-0071, no fixed release), and a public-key
//! verification is not what that leaks from.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use shop_core::{Role, UserId};

use crate::AuthError;

/// The shortest accepted HS256 secret, in bytes.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The user's roles when the token was issued.
    pub roles: Vec<Role>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Unique token ID.
    pub jti: String,
}

/// Who a verified token speaks for; put into request extensions by the auth layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The user's roles.
    pub roles: BTreeSet<Role>,
    /// The token's `jti`.
    pub token_id: String,
}

impl Principal {
    /// Whether the principal holds `role`.
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

struct Key {
    algorithm: Algorithm,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    /// The public key as a JWK (algorithm parameters only); `None` for a shared secret.
    public: Option<AlgorithmParameters>,
}

/// Signing and verification keys, by `kid`. `Debug` shows only kids and algorithms.
pub struct KeySet {
    /// The key that signs; `None` in a verify-only set.
    current: Option<String>,
    keys: HashMap<String, Key>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<_> = self
            .keys
            .iter()
            .map(|(k, v)| format!("{k}:{:?}", v.algorithm))
            .collect();
        kids.sort();
        f.debug_struct("KeySet")
            .field("current", &self.current.as_deref())
            .field("keys", &kids)
            .finish()
    }
}

fn config(what: &str, e: impl fmt::Display) -> AuthError {
    AuthError::Config(format!("{what}: {e}"))
}

fn check_secret(secret: &[u8]) -> Result<(), AuthError> {
    if secret.len() < MIN_HS256_SECRET_BYTES {
        return Err(AuthError::Config(format!(
            "an HS256 secret needs at least {MIN_HS256_SECRET_BYTES} bytes"
        )));
    }
    Ok(())
}

impl KeySet {
    /// A key set signing with an HS256 `secret` (at least 32 bytes) under `kid`.
    ///
    /// # Errors
    /// [`AuthError::Config`] for a short secret.
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Self, AuthError> {
        check_secret(secret)?;
        Ok(Self::single(
            kid,
            Key {
                algorithm: Algorithm::HS256,
                encoding: Some(EncodingKey::from_secret(secret)),
                decoding: DecodingKey::from_secret(secret),
                public: None,
            },
        ))
    }

    /// A key set signing with an Ed25519 key pair (PKCS#8 private and SPKI public PEM).
    ///
    /// # Errors
    /// [`AuthError::Config`] for unreadable keys.
    pub fn ed25519_pem(
        kid: &str,
        private_pem: &[u8],
        public_pem: &[u8],
    ) -> Result<Self, AuthError> {
        let mut key = ed25519_public(public_pem)?;
        key.encoding = Some(
            EncodingKey::from_ed_pem(private_pem).map_err(|e| config("Ed25519 private key", e))?,
        );
        Ok(Self::single(kid, key))
    }

    fn single(kid: &str, key: Key) -> Self {
        Self {
            current: Some(kid.to_owned()),
            keys: HashMap::from([(kid.to_owned(), key)]),
        }
    }

    /// An empty key set that can only verify: add public keys with the `verify_also_*`
    /// methods. [`AccessTokens::issue`] refuses with [`AuthError::Config`].
    #[must_use]
    pub fn verify_only() -> Self {
        Self {
            current: None,
            keys: HashMap::new(),
        }
    }

    /// [`KeySet::from_jwks`] of a JWK Set document, as served at `/.well-known/jwks.json`.
    ///
    /// # Errors
    /// [`AuthError::Config`] for text that is not a JWK Set, and as [`KeySet::from_jwks`].
    pub fn from_jwks_json(json: &[u8]) -> Result<Self, AuthError> {
        let jwks: JwkSet = serde_json::from_slice(json).map_err(|e| config("JWK Set", e))?;
        Self::from_jwks(&jwks)
    }

    /// A verify-only key set of the EdDSA and RS256 keys of a JWK Set (what
    /// `/.well-known/jwks.json` serves). Keys without a `kid`, of another algorithm, or meant
    /// for encryption (`use: enc`) are skipped: a verifier trusts only what it can check.
    ///
    /// # Errors
    /// [`AuthError::Config`] when no usable key is left, a key's parameters are unreadable,
    /// or a `kid` appears twice.
    pub fn from_jwks(jwks: &JwkSet) -> Result<Self, AuthError> {
        let mut set = Self::verify_only();
        for jwk in &jwks.keys {
            let Some(kid) = jwk.common.key_id.as_deref() else {
                continue;
            };
            if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
                continue;
            }
            let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
                (AlgorithmParameters::OctetKeyPair(p), None | Some(KeyAlgorithm::EdDSA))
                    if p.curve == EllipticCurve::Ed25519 =>
                {
                    Algorithm::EdDSA
                }
                (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
                _ => continue,
            };
            let decoding = DecodingKey::from_jwk(jwk).map_err(|e| config("JWK", e))?;
            set.insert(kid, algorithm, decoding, Some(jwk.algorithm.clone()))?;
        }
        if set.keys.is_empty() {
            return Err(AuthError::Config(
                "the JWK Set holds no EdDSA or RS256 signing key".into(),
            ));
        }
        Ok(set)
    }

    /// The public keys (EdDSA and RS256) as a JWK Set, each with its `kid`, `alg` and
    /// `use: sig`, sorted by `kid`. Shared secrets (HS256) are never in it, so a key set of
    /// only HS256 keys gives an empty set.
    #[must_use]
    pub fn jwks(&self) -> JwkSet {
        let mut keys: Vec<Jwk> = self
            .keys
            .iter()
            .filter_map(|(kid, key)| {
                let algorithm = key.public.clone()?;
                Some(Jwk {
                    common: CommonParameters {
                        public_key_use: Some(PublicKeyUse::Signature),
                        key_id: Some(kid.clone()),
                        key_algorithm: Some(match key.algorithm {
                            Algorithm::EdDSA => KeyAlgorithm::EdDSA,
                            _ => KeyAlgorithm::RS256,
                        }),
                        ..CommonParameters::default()
                    },
                    algorithm,
                })
            })
            .collect();
        keys.sort_by(|a, b| a.common.key_id.cmp(&b.common.key_id));
        JwkSet { keys }
    }

    /// Also accepts tokens signed with an older HS256 secret under `kid`.
    ///
    /// # Errors
    /// [`AuthError::Config`] for a short secret or a `kid` already in use.
    pub fn verify_also_hs256(mut self, kid: &str, secret: &[u8]) -> Result<Self, AuthError> {
        check_secret(secret)?;
        self.insert(
            kid,
            Algorithm::HS256,
            DecodingKey::from_secret(secret),
            None,
        )?;
        Ok(self)
    }

    /// Also accepts tokens signed by an older Ed25519 key (public PEM) under `kid`.
    ///
    /// # Errors
    /// [`AuthError::Config`] for an unreadable key or a `kid` already in use.
    pub fn verify_also_ed25519_pem(
        mut self,
        kid: &str,
        public_pem: &[u8],
    ) -> Result<Self, AuthError> {
        let key = ed25519_public(public_pem)?;
        self.insert(kid, key.algorithm, key.decoding, key.public)?;
        Ok(self)
    }

    /// Also accepts RS256 tokens signed by an RSA key (public PEM) under `kid` — an identity
    /// provider's key, say.
    ///
    /// # Errors
    /// [`AuthError::Config`] for an unreadable key or a `kid` already in use.
    pub fn verify_also_rs256_pem(
        mut self,
        kid: &str,
        public_pem: &[u8],
    ) -> Result<Self, AuthError> {
        let key = rsa_public(public_pem)?;
        self.insert(kid, key.algorithm, key.decoding, key.public)?;
        Ok(self)
    }

    fn insert(
        &mut self,
        kid: &str,
        algorithm: Algorithm,
        decoding: DecodingKey,
        public: Option<AlgorithmParameters>,
    ) -> Result<(), AuthError> {
        if self.keys.contains_key(kid) {
            return Err(AuthError::Config(format!("key id {kid:?} is used twice")));
        }
        self.keys.insert(
            kid.to_owned(),
            Key {
                algorithm,
                encoding: None,
                decoding,
                public,
            },
        );
        Ok(())
    }
}

/// A verifying Ed25519 key from an SPKI PEM, with its JWK form (`x`, the raw 32-byte key).
fn ed25519_public(public_pem: &[u8]) -> Result<Key, AuthError> {
    let decoding =
        DecodingKey::from_ed_pem(public_pem).map_err(|e| config("Ed25519 public key", e))?;
    let raw = decoding.as_bytes();
    if raw.len() != 32 {
        return Err(AuthError::Config("Ed25519 public key: not 32 bytes".into()));
    }
    let public = AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
        key_type: OctetKeyPairType::OctetKeyPair,
        curve: EllipticCurve::Ed25519,
        x: URL_SAFE_NO_PAD.encode(raw),
    });
    Ok(Key {
        algorithm: Algorithm::EdDSA,
        encoding: None,
        decoding,
        public: Some(public),
    })
}

/// A verifying RSA key from a PEM (SPKI or PKCS#1), with its JWK form (`n`, `e`).
fn rsa_public(public_pem: &[u8]) -> Result<Key, AuthError> {
    use pkcs1::der::Decode as _;

    let decoding =
        DecodingKey::from_rsa_pem(public_pem).map_err(|e| config("RSA public key", e))?;
    // jsonwebtoken keeps the PKCS#1 `RSAPublicKey` of either PEM form.
    let der = pkcs1::RsaPublicKey::from_der(decoding.as_bytes())
        .map_err(|e| config("RSA public key", e))?;
    let public = AlgorithmParameters::RSA(RSAKeyParameters {
        key_type: RSAKeyType::RSA,
        n: URL_SAFE_NO_PAD.encode(der.modulus.as_bytes()),
        e: URL_SAFE_NO_PAD.encode(der.public_exponent.as_bytes()),
    });
    Ok(Key {
        algorithm: Algorithm::RS256,
        encoding: None,
        decoding,
        public: Some(public),
    })
}

/// Issuer, audience and lifetimes of access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenPolicy {
    /// `iss` of issued tokens; verified tokens must match.
    pub issuer: String,
    /// `aud` of issued tokens; verified tokens must match.
    pub audience: String,
    /// Access token lifetime.
    pub access_ttl: Duration,
    /// Clock-skew tolerance for `exp` and `nbf`.
    pub leeway: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            issuer: "shop".into(),
            audience: "shop-api".into(),
            access_ttl: Duration::from_secs(15 * 60),
            leeway: Duration::from_secs(30),
        }
    }
}

/// Issues and verifies access tokens.
#[derive(Debug)]
pub struct AccessTokens {
    keys: KeySet,
    policy: TokenPolicy,
    /// One prepared `Validation` per key, built once (it allocates).
    validations: HashMap<String, Validation>,
}

impl AccessTokens {
    /// Tokens signed and verified with `keys` under `policy`.
    #[must_use]
    pub fn new(keys: KeySet, policy: TokenPolicy) -> Self {
        let validations = keys
            .keys
            .iter()
            .map(|(kid, key)| {
                let mut v = Validation::new(key.algorithm);
                v.leeway = policy.leeway.as_secs();
                v.validate_nbf = true;
                v.set_issuer(&[&policy.issuer]);
                v.set_audience(&[&policy.audience]);
                v.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
                (kid.clone(), v)
            })
            .collect();
        Self {
            keys,
            policy,
            validations,
        }
    }

    /// The public keys that verify these tokens, as a JWK Set ([`KeySet::jwks`]).
    #[must_use]
    pub fn jwks(&self) -> JwkSet {
        self.keys.jwks()
    }

    /// The policy in force.
    #[must_use]
    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// A signed token for `user_id` with `roles`, valid from now for the policy's lifetime.
    ///
    /// # Errors
    /// [`AuthError::Config`] if signing fails.
    pub fn issue(
        &self,
        user_id: UserId,
        roles: &BTreeSet<Role>,
    ) -> Result<(String, Claims), AuthError> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.policy.access_ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: user_id.to_string(),
            roles: roles.iter().copied().collect(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl),
            iss: self.policy.issuer.clone(),
            aud: self.policy.audience.clone(),
            jti: uuid::Uuid::now_v7().simple().to_string(),
        };
        let current = self
            .keys
            .current
            .as_deref()
            .ok_or_else(|| AuthError::Config("this key set only verifies".into()))?;
        let key = self
            .keys
            .keys
            .get(current)
            .and_then(|k| k.encoding.as_ref().map(|e| (k.algorithm, e)))
            .ok_or_else(|| AuthError::Config("the current key cannot sign".into()))?;
        let mut header = Header::new(key.0);
        header.kid = Some(current.to_owned());
        let token =
            jsonwebtoken::encode(&header, &claims, key.1).map_err(|e| config("signing", e))?;
        Ok((token, claims))
    }

    /// Verifies a token and returns whom it speaks for.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] with a short reason (for logs) for any defect.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if token.len() > 8 * 1024 {
            return Err(AuthError::InvalidToken("too long"));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| AuthError::InvalidToken("malformed"))?;
        let kid = header.kid.ok_or(AuthError::InvalidToken("no kid"))?;
        let key = self
            .keys
            .keys
            .get(&kid)
            .ok_or(AuthError::InvalidToken("unknown kid"))?;
        if header.alg != key.algorithm {
            return Err(AuthError::InvalidToken("algorithm does not match the key"));
        }
        let validation = self
            .validations
            .get(&kid)
            .ok_or(AuthError::InvalidToken("unknown kid"))?;
        let data =
            jsonwebtoken::decode::<Claims>(token, &key.decoding, validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                AuthError::InvalidToken(match e.kind() {
                    K::ExpiredSignature => "expired",
                    K::ImmatureSignature => "not yet valid",
                    K::InvalidIssuer => "wrong issuer",
                    K::InvalidAudience => "wrong audience",
                    K::InvalidSignature => "bad signature",
                    K::MissingRequiredClaim(_) => "missing claim",
                    _ => "invalid",
                })
            })?;
        let claims = data.claims;
        let user_id =
            UserId::parse(&claims.sub).map_err(|_| AuthError::InvalidToken("bad subject"))?;
        Ok(Principal {
            user_id,
            roles: claims.roles.into_iter().collect(),
            token_id: claims.jti,
        })
    }
}
