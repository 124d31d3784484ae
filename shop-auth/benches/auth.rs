//! Access-token verification per algorithm and Argon2id cost with the default (OWASP)
//! parameters.
//!
//! ```text
//! cargo bench -p shop-auth --bench auth
//! ```

#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shop_auth::{AccessTokens, KeySet, PasswordParams, Passwords, TokenPolicy};
use shop_core::{Role, UserId};

/// An RS256 token as an identity provider signs it (the shop verifies RS256, never signs it).
fn rs256_token() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = shop_auth::Claims {
        sub: UserId::generate().to_string(),
        roles: vec![Role::Customer],
        iat: now,
        nbf: now,
        exp: now + 3600,
        iss: "shop".into(),
        aud: "shop-api".into(),
        jti: "bench".into(),
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("r".into());
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("../tests/keys/rsa.pem")).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn jwt(c: &mut Criterion) {
    let issued = |keys: KeySet| {
        let tokens = AccessTokens::new(keys, TokenPolicy::default());
        let (token, _) = tokens
            .issue(UserId::generate(), &BTreeSet::from([Role::Customer]))
            .unwrap();
        (tokens, token)
    };
    let cases = [
        (
            "hs256",
            issued(KeySet::hs256("h", b"bench secret, at least thirty-two bytes").unwrap()),
        ),
        (
            "eddsa",
            issued(
                KeySet::ed25519_pem(
                    "e",
                    include_bytes!("../tests/keys/ed25519-a.pem"),
                    include_bytes!("../tests/keys/ed25519-a.pub.pem"),
                )
                .unwrap(),
            ),
        ),
        (
            "rs256",
            (
                AccessTokens::new(
                    KeySet::verify_only()
                        .verify_also_rs256_pem("r", include_bytes!("../tests/keys/rsa.pub.pem"))
                        .unwrap(),
                    TokenPolicy::default(),
                ),
                rs256_token(),
            ),
        ),
    ];
    let mut group = c.benchmark_group("jwt_verify");
    group.throughput(Throughput::Elements(1));
    for (name, (tokens, token)) in cases {
        group.bench_function(name, |b| {
            b.iter(|| tokens.verify(black_box(&token)).unwrap());
        });
    }
    group.finish();
}

fn argon2(c: &mut Criterion) {
    let passwords = Passwords::new(PasswordParams::default()).unwrap();
    let hash = passwords
        .hash_blocking("correct horse battery staple")
        .unwrap();
    let mut group = c.benchmark_group("argon2id_default");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("hash", |b| {
        b.iter(|| {
            passwords
                .hash_blocking(black_box("correct horse battery staple"))
                .unwrap()
        });
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            passwords.verify_blocking(black_box("correct horse battery staple"), hash.as_str())
        });
    });
    group.finish();
}

criterion_group!(benches, jwt, argon2);
criterion_main!(benches);
