//! Headers, the cross-site check, access logs and rate limits.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

use crate::Failure;

/// Security headers on every response. The CSP allows no inline script or
/// style and no framing; links carry tokens, so no Referer leaves a page.
pub async fn headers(secure: bool, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        // pages are personal (a customer's name, a signed-in list)
        set(h, "cache-control", "no-store");
    }
    if secure {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    res
}

/// Refuse state-changing requests a browser sends on behalf of another site
/// (Fetch Metadata, then Origin against Host; after Go 1.25's
/// CrossOriginProtection). Requests without either header come from programs
/// (a mail provider's RFC 8058 one-click POST), not from a victim's browser;
/// signed-in forms also carry a per-session token (see `auth`).
pub async fn cross_site(req: Request, next: Next) -> Result<Response, Failure> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(req).await);
    }
    let h = req.headers();
    let text = |k: header::HeaderName| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site == "same-origin" || site == "none" {
            return Ok(next.run(req).await);
        }
        return Err(Failure::Forbidden("this form was sent from another site"));
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        // `null` is what a no-referrer page sends for its own forms
        (Some(o), _) if o == "null" => Ok(next.run(req).await),
        (Some(o), Some(host)) => {
            let o_host = o.split_once("://").map_or(o.as_str(), |(_, rest)| rest);
            if o_host.eq_ignore_ascii_case(&host) {
                Ok(next.run(req).await)
            } else {
                Err(Failure::Forbidden("this form was sent from another site"))
            }
        }
        (Some(_), None) => Err(Failure::Forbidden("this form was sent from another site")),
        (None, _) => Ok(next.run(req).await),
    }
}

/// One line per request: method, path (tokens cut off), status, time.
pub async fn access_log(req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let method = req.method().clone();
    let path = redact(req.uri().path());
    let res = next.run(req).await;
    tracing::info!(target: "access", %method, path, status = res.status().as_u16(), ms = t0.elapsed().as_secs_f64() * 1e3);
    res
}

/// `/s/abcdef…` → `/s/…`: tokens grant access and stay out of logs.
fn redact(path: &str) -> String {
    for p in ["/s/", "/u/", "/unsubscribe/"] {
        if path.starts_with(p) && path.len() > p.len() {
            return format!("{p}…");
        }
    }
    path.to_string()
}

/// The client's address (loopback when the server was not given one, as in
/// in-process tests).
pub fn client(req_ext: &axum::http::Extensions) -> IpAddr {
    req_ext.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}

/// Requests allowed per address (and sign-in failures per account).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Survey and unsubscribe requests per address per minute.
    pub public_per_minute: u32,
    /// Sign-in attempts per address per 15 minutes.
    pub login_per_address: u32,
    /// Failed sign-ins per account per 15 minutes.
    pub login_failures_per_account: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { public_per_minute: 60, login_per_address: 30, login_failures_per_account: 10 }
    }
}

/// (bucket, key) → (window start, events in it).
type Windows = HashMap<(&'static str, String), (Instant, u32)>;

/// Fixed-window counters (vaultwarden does the same): small, and enough to
/// stop guessing and floods from one address.
pub struct Limiter {
    pub limits: Limits,
    windows: Mutex<Windows>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter { limits, windows: Mutex::new(HashMap::new()) }
    }

    /// Count one event for `key` in `bucket`; false when over `max` per `window`.
    pub fn allow(&self, bucket: &'static str, key: &str, max: u32, window: Duration) -> bool {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let e = w.entry((bucket, key.to_string())).or_insert((now, 0));
        if now.duration_since(e.0) >= window {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 <= max
    }

    /// How many events `key` has in `bucket`'s current window, without counting one.
    pub fn count(&self, bucket: &'static str, key: &str, window: Duration) -> u32 {
        let w = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        w.get(&(bucket, key.to_string())).filter(|(s, _)| s.elapsed() < window).map_or(0, |e| e.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_and_reset() {
        let l = Limiter::new(Limits::default());
        let w = Duration::from_millis(50);
        assert!(l.allow("b", "k", 2, w) && l.allow("b", "k", 2, w));
        assert!(!l.allow("b", "k", 2, w));
        assert!(l.allow("b", "other", 2, w));
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.allow("b", "k", 2, w));
        assert_eq!(redact("/s/0123456789abcdef"), "/s/…");
        assert_eq!(redact("/login"), "/login");
    }
}
