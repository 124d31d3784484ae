//! Secrets in configuration: values that must never reach logs.

/// Secrets are `secrecy`'s: never in `Debug` output, zeroed when dropped, and read only
/// through [`ExposeSecret::expose_secret`] where they are handed to a driver.
pub use secrecy::{ExposeSecret, SecretString};

/// A URL with its password replaced, for logs: `scheme://user:<redacted>@host/...`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<redacted>".to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            if userinfo.contains(':') {
                format!("{scheme}://{user}:<redacted>@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("mysql://root:hunter2@db:3306/shop?ssl-mode=required"),
            "mysql://root:<redacted>@db:3306/shop?ssl-mode=required"
        );
        assert_eq!(redact_url("mysql://root@db/shop"), "mysql://root@db/shop");
        assert_eq!(
            redact_url("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:<redacted>@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact_url("garbage"), "<redacted>");
        assert!(!format!("{:?}", SecretString::from("pw")).contains("pw"));
    }
}
