//! Which address a request came from, when a proxy may stand in between.
//!
//! [`ClientAddrLayer`] puts a [`ClientAddr`] into every request's extensions (login
//! throttling keys on it, and the request's log span shows it). It is the socket peer, unless
//! the peer is one of the [`TrustedProxies`]: then it is the right-most address in
//! `X-Forwarded-For` that is not itself a trusted proxy. Hops further left were written by
//! whoever the first untrusted hop was, so they prove nothing; a header sent by an untrusted
//! peer changes nothing at all.
//!
//! ```
//! use shop_http::client_addr::TrustedProxies;
//!
//! let trusted = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
//! let peer = "10.1.2.3".parse().unwrap();
//! // A client claimed to be 1.1.1.1; the ingress saw it connect from 203.0.113.9.
//! let client = trusted.client_of(peer, ["1.1.1.1, 203.0.113.9, 10.9.9.9"]);
//! assert_eq!(client.to_string(), "203.0.113.9");
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use axum::http::{HeaderName, Request};
use ipnet::IpNet;
use tower::{Layer, Service};

/// The client's address as far as it can be trusted (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

/// The proxies whose `X-Forwarded-For` is believed: addresses and CIDR ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR ranges (`10.0.0.0/8, ::1`);
    /// blank for none.
    ///
    /// # Errors
    /// The entry that is neither.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `ip` is a trusted proxy.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` header values in the
    /// order they came.
    #[must_use]
    pub fn client_of<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A garbled hop ends what can be believed: the last good one is the client.
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Adds [`ClientAddr`] to each request that carries its peer (`ConnectInfo<SocketAddr>`, as
/// [`serve`](crate::serve) and `into_make_service_with_connect_info` provide). A request that
/// already has one (set by a layer further out) keeps it. Without a peer there is nothing to
/// add — and per-address login throttling cannot work — so the first such request logs a
/// warning.
#[derive(Debug, Clone, Default)]
pub struct ClientAddrLayer {
    trusted: Arc<TrustedProxies>,
}

impl ClientAddrLayer {
    /// Believes `X-Forwarded-For` from `trusted` proxies only.
    #[must_use]
    pub fn new(trusted: TrustedProxies) -> Self {
        Self {
            trusted: Arc::new(trusted),
        }
    }
}

impl<S> Layer<S> for ClientAddrLayer {
    type Service = ClientAddrService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientAddrService {
            inner,
            trusted: self.trusted.clone(),
        }
    }
}

/// The service [`ClientAddrLayer`] makes.
#[derive(Debug, Clone)]
pub struct ClientAddrService<S> {
    inner: S,
    trusted: Arc<TrustedProxies>,
}

impl<S, B> Service<Request<B>> for ClientAddrService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if req.extensions().get::<ClientAddr>().is_some() {
            return self.inner.call(req);
        }
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            let forwarded = req
                .headers()
                .get_all(&X_FORWARDED_FOR)
                .iter()
                .filter_map(|v| v.to_str().ok());
            let client = self.trusted.client_of(peer.ip(), forwarded);
            req.extensions_mut().insert(ClientAddr(client));
        } else {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    "requests arrive without their peer address: serve the router with \
                     `into_make_service_with_connect_info::<SocketAddr>()` (or shop_http::serve), \
                     or login throttling per client address and the access log's client are off"
                );
            });
        }
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn who_the_client_is() {
        let trusted = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8, fd00::/8").unwrap();
        let none = TrustedProxies::default();
        // (trusted set, socket peer, X-Forwarded-For values, client)
        let table: &[(&TrustedProxies, &str, &[&str], &str)] = &[
            (&none, "127.0.0.1", &["6.6.6.6"], "127.0.0.1"),
            (&trusted, "192.0.2.7", &["6.6.6.6"], "192.0.2.7"),
            (&trusted, "127.0.0.1", &[], "127.0.0.1"),
            (&trusted, "127.0.0.1", &["203.0.113.9"], "203.0.113.9"),
            (
                &trusted,
                "127.0.0.1",
                &["6.6.6.6, 203.0.113.9"],
                "203.0.113.9",
            ),
            (
                &trusted,
                "127.0.0.1",
                &["6.6.6.6", "203.0.113.9, 10.1.1.1"],
                "203.0.113.9",
            ),
            (&trusted, "127.0.0.1", &["10.2.2.2, 10.1.1.1"], "10.2.2.2"),
            (&trusted, "127.0.0.1", &["203.0.113.9:4711"], "203.0.113.9"),
            (&trusted, "127.0.0.1", &["[2001:db8::1]:80"], "2001:db8::1"),
            (
                &trusted,
                "127.0.0.1",
                &["6.6.6.6, garbage, 10.1.1.1"],
                "10.1.1.1",
            ),
            (
                &trusted,
                "::ffff:127.0.0.1",
                &["203.0.113.9"],
                "203.0.113.9",
            ),
            (&trusted, "fd00::1", &["2001:db8::2"], "2001:db8::2"),
        ];
        for (set, peer, xff, want) in table {
            assert_eq!(
                set.client_of(ip(peer), xff.iter().copied()),
                ip(want),
                "peer {peer}, X-Forwarded-For {xff:?}"
            );
        }
    }

    #[test]
    fn parsing() {
        assert_eq!(
            TrustedProxies::parse(" ").unwrap(),
            TrustedProxies::default()
        );
        assert!(TrustedProxies::parse("10.0.0.0/8,,::1").is_ok());
        let err = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }
}
