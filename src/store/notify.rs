//! PostgreSQL's change feed: `LISTEN`ing for the notifications the schema's triggers send,
//! turned into counters that a verifier or a dashboard reads for the price of an atomic load.
//!
//! One thread per store holds a connection of its own, blocked on the socket. It counts
//! `hivekeys_keys` notifications (a key, secret or workspace changed) and `hivekeys_usage`
//! ones (use counts written). While it has no connection nobody can know what changed, so
//! it says it is not [`connected`](Feed::connected) and readers must not trust anything
//! they remember; when it connects again it counts a change of each kind, so that what was
//! remembered before the gap is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ::postgres::fallible_iterator::FallibleIterator;

use super::postgres::{self, PgUrl};

/// How often the listening thread looks up from the socket to see whether it should stop.
const WAKE_EVERY: Duration = Duration::from_millis(200);
/// The longest wait between two attempts to connect again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(super) struct Feed {
    keys: AtomicU64,
    usage: AtomicU64,
    connected: AtomicBool,
    /// Set once the first attempt to connect has ended, either way.
    tried: AtomicBool,
    stop: AtomicBool,
}

impl Feed {
    /// Starts listening on the store at `url`, on a thread of its own that ends once the
    /// returned feed's owner calls [`Feed::stop`]. Returns once the first attempt to connect
    /// has ended (within the connect timeout), so that a store just opened is not reported
    /// deaf while its listener is still saying hello.
    pub(super) fn start(url: &PgUrl) -> Arc<Feed> {
        let feed = Arc::new(Feed::default());
        let listening = Arc::clone(&feed);
        let url = url.clone();
        let started = std::thread::Builder::new()
            .name("hivekeys-listen".into())
            .spawn(move || listen(&listening, &url));
        if started.is_err() {
            // Without the thread the feed stays "not connected": readers re-read every time.
            feed.stop.store(true, Ordering::Relaxed);
            return feed;
        }
        let deadline = std::time::Instant::now() + postgres::CONNECT_TIMEOUT;
        while !feed.tried.load(Ordering::Acquire) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        feed
    }

    /// Changes to keys counted so far.
    pub(super) fn keys(&self) -> u64 {
        self.keys.load(Ordering::Acquire)
    }

    /// Use-count writes counted so far.
    pub(super) fn usage(&self) -> u64 {
        self.usage.load(Ordering::Acquire)
    }

    /// Whether changes are being heard now. When not, nothing remembered can be trusted.
    pub(super) fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    fn changed(&self) {
        self.keys.fetch_add(1, Ordering::AcqRel);
        self.usage.fetch_add(1, Ordering::AcqRel);
    }
}

fn listen(feed: &Feed, url: &PgUrl) {
    let mut backoff = Duration::from_millis(100);
    while !feed.stop.load(Ordering::Relaxed) {
        let connected = postgres::connect(url).and_then(|mut client| {
            client
                .batch_execute("LISTEN hivekeys_keys; LISTEN hivekeys_usage;")
                .map_err(|err| postgres::query_error(url, &err))?;
            Ok(client)
        });
        let Ok(mut client) = connected else {
            feed.tried.store(true, Ordering::Release);
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
            continue;
        };
        backoff = Duration::from_millis(100);
        // Anything may have changed while nobody listened.
        feed.changed();
        feed.connected.store(true, Ordering::Release);
        feed.tried.store(true, Ordering::Release);
        let lost = hear(feed, &mut client);
        feed.connected.store(false, Ordering::Release);
        feed.changed();
        if lost {
            std::thread::sleep(backoff);
        }
    }
}

/// Counts notifications until told to stop (false) or the connection is lost (true).
fn hear(feed: &Feed, client: &mut ::postgres::Client) -> bool {
    loop {
        if feed.stop.load(Ordering::Relaxed) {
            return false;
        }
        {
            let mut notifications = client.notifications();
            let mut heard = notifications.timeout_iter(WAKE_EVERY);
            loop {
                match heard.next() {
                    Ok(Some(notification)) if notification.channel() == postgres::KEYS_CHANNEL => {
                        feed.keys.fetch_add(1, Ordering::AcqRel);
                    }
                    Ok(Some(_)) => {
                        feed.usage.fetch_add(1, Ordering::AcqRel);
                    }
                    Ok(None) => break,
                    Err(_) => return true,
                }
            }
        }
        if client.is_closed() {
            return true;
        }
    }
}
