//! Which address a browser signs in from: the portal's TCP peer, or — when
//! that peer is one of the `trusted_proxies` (a load balancer or reverse
//! proxy the bureau runs) — the address that proxy names in
//! `X-Forwarded-For`. The list is read right to left, past the trusted
//! proxies, to the first address none of them is: entries to its left were
//! written by the browser itself and prove nothing. A header from any other
//! peer is not read, and an entry that is not an address stops the walk at
//! the last trusted hop (its allowance is shared, never escaped).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Each entry an address (`10.0.0.5`) or a network (`10.0.0.0/8`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("trusted_proxies: {entry:?} is not an address or a network")
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The browser's address for a request from `peer` with `headers`.
    pub fn browser(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            // A value that is not text is a bad entry, like one that is
            // not an address: the walk stops there.
            .flat_map(|value| value.to_str().unwrap_or("?").split(','))
            .map(str::trim)
            .collect();
        let mut browser = peer;
        for hop in hops.into_iter().rev() {
            let Ok(address) = hop.parse::<IpAddr>() else {
                return browser;
            };
            browser = address;
            if !self.trusts(address) {
                break;
            }
        }
        browser
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.0/8".into(), "192.0.2.7".into()]).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_browser_whatever_it_says() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            proxies().browser(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        let none = TrustedProxies::default();
        assert_eq!(none.browser(ip("10.0.0.1"), &headers), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_browser() {
        let p = proxies();
        // The browser wrote a false first entry; the proxies appended theirs.
        let headers = forwarded(&["1.2.3.4, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(p.browser(ip("192.0.2.7"), &headers), ip("203.0.113.9"));
        // Through one proxy.
        assert_eq!(
            p.browser(ip("10.0.0.2"), &forwarded(&["2001:db8::5"])),
            ip("2001:db8::5")
        );
        // Every hop trusted: the left-most.
        assert_eq!(
            p.browser(ip("10.0.0.2"), &forwarded(&["10.9.9.9, 10.1.1.1"])),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn no_header_or_a_bad_entry_leaves_the_last_trusted_hop() {
        let p = proxies();
        assert_eq!(p.browser(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
        assert_eq!(
            p.browser(ip("10.0.0.2"), &forwarded(&["203.0.113.9, unknown"])),
            ip("10.0.0.2")
        );
        assert_eq!(
            p.browser(ip("10.0.0.2"), &forwarded(&["unknown, 10.1.1.1"])),
            ip("10.1.1.1")
        );
        let mut not_text = forwarded(&["203.0.113.9"]);
        not_text.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff").unwrap(),
        );
        assert_eq!(p.browser(ip("10.0.0.2"), &not_text), ip("10.0.0.2"));
    }

    #[test]
    fn entries_are_addresses_or_networks() {
        assert!(TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()]).is_ok());
        let err = TrustedProxies::parse(&["proxy.example".into()]).unwrap_err();
        assert!(err.contains("proxy.example"), "{err}");
    }
}
