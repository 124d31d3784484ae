//! Access-token tests: round trips for every algorithm, key rotation, and every rejection the
//! issue lists. Keys under `tests/keys/` are test-only fixtures.

#![allow(clippy::unwrap_used)] // test code

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use shop_auth::{AccessTokens, AuthError, Claims, KeySet, TokenPolicy};
use shop_core::{Role, UserId};

const SECRET_A: &[u8] = b"0123456789abcdef0123456789abcdef-a";
const SECRET_B: &[u8] = b"0123456789abcdef0123456789abcdef-b";
const ED_A: &[u8] = include_bytes!("keys/ed25519-a.pem");
const ED_A_PUB: &[u8] = include_bytes!("keys/ed25519-a.pub.pem");
const ED_B: &[u8] = include_bytes!("keys/ed25519-b.pem");
const ED_B_PUB: &[u8] = include_bytes!("keys/ed25519-b.pub.pem");
const RSA: &[u8] = include_bytes!("keys/rsa.pem");
const RSA_PUB: &[u8] = include_bytes!("keys/rsa.pub.pem");

fn roles() -> BTreeSet<Role> {
    BTreeSet::from([Role::Customer, Role::Admin])
}

fn hs(kid: &str, secret: &[u8]) -> AccessTokens {
    AccessTokens::new(KeySet::hs256(kid, secret).unwrap(), TokenPolicy::default())
}

fn invalid(r: Result<shop_auth::Principal, AuthError>) -> &'static str {
    match r {
        Err(AuthError::InvalidToken(why)) => why,
        other => panic!("expected an invalid token, got {other:?}"),
    }
}

fn round_trip(tokens: &AccessTokens) {
    let user = UserId::generate();
    let (token, claims) = tokens.issue(user, &roles()).unwrap();
    let p = tokens.verify(&token).unwrap();
    assert_eq!(p.user_id, user);
    assert_eq!(p.roles, roles());
    assert_eq!(p.token_id, claims.jti);
    assert_eq!(
        claims.exp - claims.iat,
        15 * 60,
        "default lifetime is 15 minutes"
    );
    assert_eq!(
        (claims.iss.as_str(), claims.aud.as_str()),
        ("shop", "shop-api")
    );
}

#[test]
fn every_algorithm_round_trips() {
    round_trip(&hs("h1", SECRET_A));
    round_trip(&AccessTokens::new(
        KeySet::ed25519_pem("e1", ED_A, ED_A_PUB).unwrap(),
        TokenPolicy::default(),
    ));
}

/// RS256 is verified (an identity provider's tokens), never signed here.
#[test]
fn rs256_tokens_of_another_issuer_verify() {
    let tokens = AccessTokens::new(
        KeySet::verify_only()
            .verify_also_rs256_pem("idp", RSA_PUB)
            .unwrap(),
        TokenPolicy::default(),
    );
    let now = chrono::Utc::now().timestamp();
    let claims = claims_at(now, now, now + 600);
    let principal = tokens.verify(&sign_rs("idp", &claims)).unwrap();
    assert_eq!(principal.user_id.to_string(), claims.sub);
    assert_eq!(
        invalid(tokens.verify(&sign_rs("other", &claims))),
        "unknown kid"
    );
    assert!(matches!(
        tokens.issue(UserId::generate(), &roles()),
        Err(AuthError::Config(_))
    ));
}

#[test]
fn short_secrets_and_bad_keys_are_refused_at_start() {
    assert!(matches!(
        KeySet::hs256("k", b"too short"),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        KeySet::ed25519_pem("k", b"junk", ED_A_PUB),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        KeySet::hs256("k", SECRET_A)
            .unwrap()
            .verify_also_hs256("k", SECRET_B),
        Err(AuthError::Config(_))
    ));
}

#[test]
fn a_token_verifies_only_under_its_own_key() {
    let (token, _) = hs("k", SECRET_A)
        .issue(UserId::generate(), &roles())
        .unwrap();
    assert_eq!(invalid(hs("k", SECRET_B).verify(&token)), "bad signature");
    assert_eq!(invalid(hs("other", SECRET_A).verify(&token)), "unknown kid");
    let ed_a = AccessTokens::new(
        KeySet::ed25519_pem("e", ED_A, ED_A_PUB).unwrap(),
        TokenPolicy::default(),
    );
    let ed_b = AccessTokens::new(
        KeySet::ed25519_pem("e", ED_B, ED_B_PUB).unwrap(),
        TokenPolicy::default(),
    );
    let (token, _) = ed_a.issue(UserId::generate(), &roles()).unwrap();
    assert_eq!(invalid(ed_b.verify(&token)), "bad signature");
}

#[test]
fn rotation_signs_with_the_new_key_and_still_accepts_the_old() {
    let old = AccessTokens::new(
        KeySet::ed25519_pem("2025", ED_A, ED_A_PUB).unwrap(),
        TokenPolicy::default(),
    );
    let (old_token, _) = old.issue(UserId::generate(), &roles()).unwrap();
    let rotated = AccessTokens::new(
        KeySet::ed25519_pem("2026", ED_B, ED_B_PUB)
            .unwrap()
            .verify_also_ed25519_pem("2025", ED_A_PUB)
            .unwrap(),
        TokenPolicy::default(),
    );
    rotated.verify(&old_token).unwrap();
    let (new_token, _) = rotated.issue(UserId::generate(), &roles()).unwrap();
    let header = jsonwebtoken::decode_header(&new_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("2026"));
    // Once the old key is retired, its tokens stop working.
    let retired = AccessTokens::new(
        KeySet::ed25519_pem("2026", ED_B, ED_B_PUB).unwrap(),
        TokenPolicy::default(),
    );
    assert_eq!(invalid(retired.verify(&old_token)), "unknown kid");
    retired.verify(&new_token).unwrap();
}

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn claims_at(iat: i64, nbf: i64, exp: i64) -> Claims {
    Claims {
        sub: UserId::generate().to_string(),
        roles: vec![Role::Admin],
        iat,
        nbf,
        exp,
        iss: "shop".into(),
        aud: "shop-api".into(),
        jti: "j".into(),
    }
}

/// An RS256 token as an identity provider holding `RSA` would sign it.
fn sign_rs(kid: &str, claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(RSA).unwrap()).unwrap()
}

fn sign_hs(kid: &str, secret: &[u8], claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[test]
fn alg_none_is_refused() {
    let claims = serde_json::to_value(claims_at(0, 0, i64::MAX / 2)).unwrap();
    for alg in ["none", "None", "NONE"] {
        let token = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": alg, "typ": "JWT", "kid": "k"})),
            b64(&claims)
        );
        assert!(hs("k", SECRET_A).verify(&token).is_err(), "{alg}");
    }
}

#[test]
fn algorithm_confusion_is_refused() {
    // The classic attack: HS256 "signed" with the server's RSA public key as the HMAC secret.
    let tokens = AccessTokens::new(
        KeySet::verify_only()
            .verify_also_rs256_pem("r", RSA_PUB)
            .unwrap(),
        TokenPolicy::default(),
    );
    let now = chrono::Utc::now().timestamp();
    let forged = sign_hs("r", RSA_PUB, &claims_at(now, now, now + 600));
    assert_eq!(
        invalid(tokens.verify(&forged)),
        "algorithm does not match the key"
    );
}

#[test]
fn issuer_audience_expiry_and_not_before_are_checked() {
    let now = chrono::Utc::now().timestamp();
    let tokens = hs("k", SECRET_A);
    let mut c = claims_at(now, now, now + 600);
    c.iss = "someone-else".into();
    assert_eq!(
        invalid(tokens.verify(&sign_hs("k", SECRET_A, &c))),
        "wrong issuer"
    );
    let mut c = claims_at(now, now, now + 600);
    c.aud = "another-api".into();
    assert_eq!(
        invalid(tokens.verify(&sign_hs("k", SECRET_A, &c))),
        "wrong audience"
    );
    let c = claims_at(now - 3600, now - 3600, now - 60);
    assert_eq!(
        invalid(tokens.verify(&sign_hs("k", SECRET_A, &c))),
        "expired"
    );
    let c = claims_at(now, now + 600, now + 1200);
    assert_eq!(
        invalid(tokens.verify(&sign_hs("k", SECRET_A, &c))),
        "not yet valid"
    );
    // Within the leeway both are still fine.
    let c = claims_at(now - 600, now + 10, now - 10);
    tokens.verify(&sign_hs("k", SECRET_A, &c)).unwrap();
    let strict = AccessTokens::new(KeySet::hs256("k", SECRET_A).unwrap(), {
        let mut config = TokenPolicy::default();
        config.leeway = Duration::ZERO;
        config
    });
    assert_eq!(
        invalid(strict.verify(&sign_hs("k", SECRET_A, &c))),
        "expired"
    );
}

#[test]
fn every_tampered_claim_is_refused() {
    let tokens = hs("k", SECRET_A);
    let (token, _) = tokens
        .issue(UserId::generate(), &BTreeSet::from([Role::Customer]))
        .unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let changes: [(&str, serde_json::Value); 8] = [
        ("sub", serde_json::json!(UserId::generate().to_string())),
        ("roles", serde_json::json!(["customer", "admin"])),
        ("iat", serde_json::json!(0)),
        ("nbf", serde_json::json!(0)),
        ("exp", serde_json::json!(i64::MAX / 2)),
        ("iss", serde_json::json!("evil")),
        ("aud", serde_json::json!("evil")),
        ("jti", serde_json::json!("other")),
    ];
    for (field, value) in changes {
        let mut p = payload.clone();
        p[field] = value;
        let forged = format!("{}.{}.{}", parts[0], b64(&p), parts[2]);
        assert!(
            tokens.verify(&forged).is_err(),
            "tampered {field} was accepted"
        );
    }
    let missing_sub = {
        let mut p = payload.clone();
        p.as_object_mut().unwrap().remove("sub");
        format!("{}.{}.{}", parts[0], b64(&p), parts[2])
    };
    assert!(tokens.verify(&missing_sub).is_err());
}

proptest! {
    #[test]
    fn random_input_is_refused_without_panicking(s in any::<String>()) {
        prop_assert!(hs("k", SECRET_A).verify(&s).is_err());
    }

    #[test]
    fn random_three_part_tokens_are_refused(a in "[A-Za-z0-9_-]{0,80}", b in "[A-Za-z0-9_-]{0,200}", c in "[A-Za-z0-9_-]{0,90}") {
        let token = format!("{a}.{b}.{c}");
        prop_assert!(hs("k", SECRET_A).verify(&token).is_err());
    }

    #[test]
    fn flipping_any_signature_character_is_refused(i in 0usize..43, c in "[A-Za-z0-9_-]") {
        let tokens = hs("k", SECRET_A);
        let (token, _) = tokens.issue(UserId::generate(), &roles()).unwrap();
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut sig: Vec<char> = sig.chars().collect();
        let i = i % sig.len();
        let replacement = c.chars().next().unwrap();
        prop_assume!(sig[i] != replacement);
        sig[i] = replacement;
        let forged = format!("{head}.{}", sig.into_iter().collect::<String>());
        let refused = tokens.verify(&forged).is_err();
        prop_assert!(refused);
    }
}

/// A verifier holding only the published JWK Set accepts the issuer's tokens — across a
/// rotation, for both asymmetric algorithms — and can sign nothing.
#[test]
fn a_jwks_verifier_accepts_the_issuers_tokens_and_cannot_sign() {
    let issuer = AccessTokens::new(
        KeySet::ed25519_pem("2026", ED_B, ED_B_PUB)
            .unwrap()
            .verify_also_ed25519_pem("2025", ED_A_PUB)
            .unwrap()
            .verify_also_rs256_pem("rsa", RSA_PUB)
            .unwrap()
            .verify_also_hs256("old-secret", SECRET_A)
            .unwrap(),
        TokenPolicy::default(),
    );
    let published = serde_json::to_vec(&issuer.jwks()).unwrap();
    let text = String::from_utf8(published.clone()).unwrap();
    // Public halves only: no shared secret, no private parameter.
    assert!(!text.contains("old-secret"), "{text}");
    for private in [r#""d""#, r#""k""#, r#""p""#, r#""q""#] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    let kids: Vec<_> = issuer
        .jwks()
        .keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect();
    assert_eq!(kids, ["2025", "2026", "rsa"]);

    let verifier = AccessTokens::new(
        KeySet::from_jwks_json(&published).unwrap(),
        TokenPolicy::default(),
    );
    let user = UserId::generate();
    let (token, _) = issuer.issue(user, &roles()).unwrap();
    assert_eq!(verifier.verify(&token).unwrap().user_id, user);
    // Tokens of the rotated-out key and of the RSA key verify too.
    let old = AccessTokens::new(
        KeySet::ed25519_pem("2025", ED_A, ED_A_PUB).unwrap(),
        TokenPolicy::default(),
    );
    assert!(
        verifier
            .verify(&old.issue(user, &roles()).unwrap().0)
            .is_ok()
    );
    let now = chrono::Utc::now().timestamp();
    let rsa_token = sign_rs("rsa", &claims_at(now, now, now + 600));
    assert!(verifier.verify(&rsa_token).is_ok());
    // An HS256 token under the secret's kid is unknown to the verifier.
    let hs_token = hs("old-secret", SECRET_A).issue(user, &roles()).unwrap().0;
    assert_eq!(invalid(verifier.verify(&hs_token)), "unknown kid");
    // A token signed by another Ed25519 key under a published kid is refused.
    let impostor = AccessTokens::new(
        KeySet::ed25519_pem("2026", ED_A, ED_A_PUB).unwrap(),
        TokenPolicy::default(),
    );
    let forged = impostor.issue(user, &roles()).unwrap().0;
    assert_eq!(invalid(verifier.verify(&forged)), "bad signature");
    assert!(matches!(
        verifier.issue(user, &roles()),
        Err(AuthError::Config(_))
    ));
}

#[test]
fn a_jwks_without_a_usable_signing_key_is_refused() {
    assert!(matches!(
        KeySet::from_jwks_json(br#"{"keys":[]}"#),
        Err(AuthError::Config(_))
    ));
    // An HS256 key set publishes nothing.
    assert!(hs("h", SECRET_A).jwks().keys.is_empty());
    assert!(KeySet::from_jwks_json(b"not json").is_err());
    // A verify-only set built from PEMs verifies too.
    let keys = KeySet::verify_only()
        .verify_also_ed25519_pem("2025", ED_A_PUB)
        .unwrap();
    let verifier = AccessTokens::new(keys, TokenPolicy::default());
    let signer = AccessTokens::new(
        KeySet::ed25519_pem("2025", ED_A, ED_A_PUB).unwrap(),
        TokenPolicy::default(),
    );
    let (token, _) = signer.issue(UserId::generate(), &roles()).unwrap();
    assert!(verifier.verify(&token).is_ok());
}
