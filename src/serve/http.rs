//! The answers `serve` gives, as PRODUCT.md's table of `hivekeys serve` says: one function per
//! route, each from a request's parts to a response. No business rule lives here: the
//! verdict is the library's.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Response, StatusCode};
use serde_json::json;

use chrono::{DateTime, Utc};

use super::identity::identity_headers;
use crate::store::{InvalidReason, Verification};
use crate::timefmt::{next_reset, rfc3339, seconds_to_reset};

pub type Body = Full<Bytes>;

/// Largest JSON body `/v1/keys/verify` reads; a larger one is answered 413.
pub const MAX_BODY: usize = 4 * 1024;
/// Largest request head (request line and headers) read; a larger one is answered 431.
pub const MAX_HEAD: usize = 16 * 1024;

pub const KEY_ID: HeaderName = HeaderName::from_static("x-hivekeys-key-id");
pub const ENVIRONMENT: HeaderName = HeaderName::from_static("x-hivekeys-environment");
pub const WORKSPACE: HeaderName = HeaderName::from_static("x-hivekeys-workspace");
pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Which route a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Forward auth: `/v1/auth` and every path below it, any method.
    Auth,
    Verify,
    Health,
    Metrics,
    NotFound,
}

pub fn route(path: &str) -> Route {
    match path {
        "/v1/keys/verify" => Route::Verify,
        "/healthz" => Route::Health,
        "/metrics" => Route::Metrics,
        _ if path == "/v1/auth" || path.starts_with("/v1/auth/") => Route::Auth,
        _ => Route::NotFound,
    }
}

/// The key a forward-auth request carries: exactly one `Authorization` header of the form
/// `Bearer KEY`. Anything else (none, two, another scheme, not UTF-8, no key) is `None`, and
/// the request is refused like an unknown key.
pub fn bearer_key(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim_matches(' ');
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// A JSON response with `status`; fields keep the order they are declared in.
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
    let text = serde_json::to_string(value).expect("plain data serializes");
    json_text(status, Bytes::from(text))
}

/// A response with `status` and `text`, which is JSON.
fn json_text(status: StatusCode, text: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &json!({ "error": message }))
}

/// The 401's body, as [`error`] writes it (a test checks), but not serialized again for every
/// refusal: a flood of bad keys is the case that most needs to be cheap.
const INVALID_ACCESS: &str = r#"{"error":"Invalid access."}"#;

/// 401 with Fetch Hive's body: the key was missing, malformed, unknown, revoked or expired,
/// and which of these is not said (a caller probing keys learns nothing).
pub fn invalid_access() -> Response<Body> {
    let mut response = json_text(
        StatusCode::UNAUTHORIZED,
        Bytes::from_static(INVALID_ACCESS.as_bytes()),
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

pub fn unavailable() -> Response<Body> {
    error(StatusCode::SERVICE_UNAVAILABLE, "Key store unavailable.")
}

pub fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, "Not found.")
}

pub fn method_not_allowed(allowed: &'static str) -> Response<Body> {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}

/// The forward-auth answer for a verdict given at `now()`: 200 with the key's facts in
/// headers the gateway passes on (and where it stands against its daily limit), 429 past the
/// limit, or 401.
///
/// `now` is asked only by the answers about a daily limit: most answers tell no time, and a
/// clock read is not free at 100,000 answers a second.
pub fn auth_answer(verdict: &Verification, now: impl FnOnce() -> DateTime<Utc>) -> Response<Body> {
    match verdict {
        Verification::Valid(key) => {
            let mut response = Response::new(Body::default());
            let headers = response.headers_mut();
            *headers = identity_headers(key);
            if let Some(allowance) = key.allowance {
                rate_limit_headers(headers, allowance.daily_limit, allowance.remaining, now());
            }
            response
        }
        Verification::Invalid(InvalidReason::RateLimited { daily_limit }) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Daily request limit reached.",
            );
            let headers = response.headers_mut();
            let now = now();
            rate_limit_headers(headers, *daily_limit, 0, now);
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(seconds_to_reset(now)),
            );
            response
        }
        Verification::Invalid(_) => invalid_access(),
    }
}

/// The IETF draft's fields: the policy (`q` uses a `w`-second window) and where the caller
/// stands (`r` left, `t` seconds until the window starts again, at 00:00 UTC).
fn rate_limit_headers(headers: &mut HeaderMap, limit: u64, remaining: u64, now: DateTime<Utc>) {
    let policy = format!("\"daily\";q={limit};w=86400");
    let state = format!("\"daily\";r={remaining};t={}", seconds_to_reset(now));
    for (name, value) in [(RATE_LIMIT_POLICY, policy), (RATE_LIMIT, state)] {
        headers.insert(
            name,
            HeaderValue::from_str(&value).expect("digits and quotes are a valid value"),
        );
    }
}

pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The JSON endpoint's answer for a valid key, fields in PRODUCT.md's order.
#[derive(serde::Serialize)]
struct ValidAnswer<'a> {
    valid: bool,
    code: &'static str,
    id: &'a str,
    name: &'a str,
    environment: &'static str,
    workspace: &'a str,
    daily_limit: Option<u64>,
    remaining: Option<u64>,
    /// When the daily count starts again (RFC 3339, 00:00 UTC); `null` without a limit.
    reset: Option<String>,
}

#[derive(serde::Serialize)]
struct InvalidAnswer {
    valid: bool,
    code: &'static str,
}

/// The JSON endpoint's answer at `now()` (asked only for a key with a limit): the verdict with
/// its code, always 200.
pub fn verify_answer(
    verdict: &Verification,
    now: impl FnOnce() -> DateTime<Utc>,
) -> Response<Body> {
    match verdict {
        Verification::Valid(key) => json(
            StatusCode::OK,
            &ValidAnswer {
                valid: true,
                code: "VALID",
                id: &key.id,
                name: &key.name,
                environment: key.environment.as_str(),
                workspace: &key.workspace,
                daily_limit: key.allowance.map(|a| a.daily_limit),
                remaining: key.allowance.map(|a| a.remaining),
                reset: key.allowance.map(|_| rfc3339(next_reset(now()))),
            },
        ),
        Verification::Invalid(reason) => json(
            StatusCode::OK,
            &InvalidAnswer {
                valid: false,
                code: reason.code(),
            },
        ),
    }
}

/// Why a `/v1/keys/verify` body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadBody {
    /// Over [`MAX_BODY`]: 413.
    TooLarge,
    /// Not readable, not JSON, or no `key` string in it: 400.
    NoKey,
}

impl BadBody {
    pub fn response(self) -> Response<Body> {
        match self {
            BadBody::TooLarge => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The body is larger than 4 KiB.",
            ),
            BadBody::NoKey => error(
                StatusCode::BAD_REQUEST,
                "The body must be a JSON object with a \"key\" string.",
            ),
        }
    }
}

/// The key in a `/v1/keys/verify` body.
pub fn key_in_body(body: &[u8]) -> Result<String, BadBody> {
    #[derive(serde::Deserialize)]
    struct VerifyRequest {
        key: serde_json::Value,
    }
    let request: VerifyRequest = serde_json::from_slice(body).map_err(|_| BadBody::NoKey)?;
    match request.key {
        serde_json::Value::String(key) => Ok(key),
        _ => Err(BadBody::NoKey),
    }
}

/// The verdict's code, for the metrics.
pub fn code(verdict: &Verification) -> &'static str {
    match verdict {
        Verification::Valid(_) => "VALID",
        Verification::Invalid(reason) => reason.code(),
    }
}

/// Whether `method` may read `/v1/keys/verify`.
pub fn is_post(method: &Method) -> bool {
    method == Method::POST
}

/// A malformed key never reaches the store, but still gets a verdict.
pub fn malformed() -> Verification {
    Verification::Invalid(InvalidReason::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: Response<Body>) -> Bytes {
        use http_body_util::BodyExt;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let collected = runtime.block_on(response.into_body().collect()).unwrap();
        collected.to_bytes()
    }

    #[test]
    fn the_written_out_401_body_is_what_error_writes() {
        let refused = invalid_access();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(refused.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(refused.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let written = error(StatusCode::UNAUTHORIZED, "Invalid access.");
        assert_eq!(body(refused), body(written));
    }

    #[test]
    fn routes() {
        assert_eq!(route("/v1/auth"), Route::Auth);
        assert_eq!(route("/v1/auth/"), Route::Auth);
        assert_eq!(route("/v1/auth/api/chat"), Route::Auth);
        assert_eq!(route("/v1/authx"), Route::NotFound);
        assert_eq!(route("/v1/keys/verify"), Route::Verify);
        assert_eq!(route("/v1/keys/verify/"), Route::NotFound);
        assert_eq!(route("/healthz"), Route::Health);
        assert_eq!(route("/metrics"), Route::Metrics);
        assert_eq!(route("/"), Route::NotFound);
    }

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                header::AUTHORIZATION,
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn exactly_one_bearer_header_carries_a_key() {
        assert_eq!(bearer_key(&headers(&[b"Bearer abc"])), Some("abc"));
        assert_eq!(bearer_key(&headers(&[b"bearer  abc "])), Some("abc"));
        assert_eq!(bearer_key(&headers(&[])), None);
        assert_eq!(bearer_key(&headers(&[b"Bearer"])), None);
        assert_eq!(bearer_key(&headers(&[b"Bearer "])), None);
        assert_eq!(bearer_key(&headers(&[b"Basic abc"])), None);
        assert_eq!(bearer_key(&headers(&[b"Bearer \xff\xfe"])), None);
        assert_eq!(bearer_key(&headers(&[b"Bearer a", b"Bearer a"])), None);
    }

    #[test]
    fn workspace_names_are_percent_encoded_outside_printable_ascii() {
        assert_eq!(percent_encode("default"), "default");
        assert_eq!(percent_encode("東京"), "%E6%9D%B1%E4%BA%AC");
        assert_eq!(percent_encode("50% off"), "50%25 off");
        assert_eq!(percent_encode("a\tb"), "a%09b");
    }

    #[test]
    fn a_body_without_a_key_string_is_a_bad_request() {
        assert_eq!(key_in_body(br#"{"key":"k"}"#).unwrap(), "k");
        for bad in [&b"{}"[..], b"[]", b"not json", br#"{"key":1}"#, b""] {
            assert_eq!(key_in_body(bad), Err(BadBody::NoKey));
        }
        assert_eq!(BadBody::NoKey.response().status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            BadBody::TooLarge.response().status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
}
