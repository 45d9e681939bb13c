//! What `/metrics` reports, in the Prometheus (OpenMetrics) text format: counts and a latency
//! histogram, never a key, a name or an id.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<StatusLabel, Counter>,
    verifications: Family<CodeLabel, Counter>,
    verify_seconds: Histogram,
    /// The counters of the statuses and codes every service answers, taken out of their
    /// families once: a family looks a label up under a lock shared by every worker thread,
    /// which at 100,000 requests a second cost more than the verification.
    common_statuses: Vec<(u16, Counter)>,
    common_codes: Vec<(&'static str, Counter)>,
}

/// Statuses and verdict codes counted through [`Metrics::common_statuses`] and
/// [`Metrics::common_codes`]; others go through their family.
const COMMON_STATUSES: [u16; 4] = [200, 401, 429, 503];
const COMMON_CODES: [&str; 6] = [
    "VALID",
    "MALFORMED",
    "NOT_FOUND",
    "REVOKED",
    "EXPIRED",
    "RATE_LIMITED",
];

impl Metrics {
    pub fn new() -> Metrics {
        let requests = Family::<StatusLabel, Counter>::default();
        let verifications = Family::<CodeLabel, Counter>::default();
        // 100 ns to about 0.4 s: a verification from memory to one that waited for the disk.
        let verify_seconds = Histogram::new(exponential_buckets(1e-7, 4.0, 12));
        let mut registry = Registry::default();
        registry.register(
            "hivekeys_requests",
            "HTTP requests answered, by status code",
            requests.clone(),
        );
        registry.register(
            "hivekeys_verifications",
            "Keys verified, by verdict code",
            verifications.clone(),
        );
        registry.register(
            "hivekeys_verify_seconds",
            "Time the store took to verify a key",
            verify_seconds.clone(),
        );
        // The same counters as the families hold (a counter is a shared atomic), so they are
        // listed from the start, at zero, as Prometheus recommends for known labels.
        let common_statuses = COMMON_STATUSES
            .into_iter()
            .map(|status| {
                (
                    status,
                    requests.get_or_create_owned(&StatusLabel { status }),
                )
            })
            .collect();
        let common_codes = COMMON_CODES
            .into_iter()
            .map(|code| (code, verifications.get_or_create_owned(&CodeLabel { code })))
            .collect();
        Metrics {
            registry,
            requests,
            verifications,
            verify_seconds,
            common_statuses,
            common_codes,
        }
    }

    pub fn answered(&self, status: u16) {
        match self.common_statuses.iter().find(|(s, _)| *s == status) {
            Some((_, counter)) => counter.inc(),
            None => self.requests.get_or_create(&StatusLabel { status }).inc(),
        };
    }

    pub fn verified(&self, code: &'static str, seconds: f64) {
        match self.common_codes.iter().find(|(c, _)| *c == code) {
            Some((_, counter)) => counter.inc(),
            None => self.verifications.get_or_create(&CodeLabel { code }).inc(),
        };
        self.verify_seconds.observe(seconds);
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_the_histogram_are_rendered() {
        let metrics = Metrics::new();
        metrics.answered(200);
        metrics.answered(200);
        metrics.answered(401);
        metrics.verified("VALID", 0.000_001);
        let text = metrics.render();
        assert!(
            text.contains("hivekeys_requests_total{status=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("hivekeys_requests_total{status=\"401\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("hivekeys_verifications_total{code=\"VALID\"} 1"),
            "{text}"
        );
        assert!(text.contains("hivekeys_verify_seconds_count 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
