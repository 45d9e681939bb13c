//! PostgreSQL's change feed: `LISTEN`ing for the notifications the schema's triggers send,
//! turned into counters that a verifier or a dashboard reads for the price of an atomic load.
//!
//! One thread per store holds a connection of its own, blocked on the socket. It counts
//! `hivekeys_keys` notifications (a key, secret or workspace changed) and `hivekeys_usage`
//! ones (use counts written), and pings the server every 200 ms. While it has no
//! connection, or has heard nothing for a moment, nobody can know what changed: it is not
//! [`fresh`](Feed::fresh), and readers must not trust anything they remember. When it
//! connects again it counts a change of each kind, so that what was remembered before the gap
//! is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ::postgres::fallible_iterator::FallibleIterator;

use super::postgres::{self, PgUrl};

/// How often the listening thread looks up from the socket: to see whether it should stop,
/// and to ask the server for a sign of life.
const WAKE_EVERY: Duration = Duration::from_millis(200);
/// Heard nothing (not even the answer to a ping) for this long, the connection may be dead
/// without the socket knowing yet (a cut cable, a frozen server): what was remembered on the
/// strength of it is not trusted, so that a revoke it may have missed is seen within
/// PRODUCT.md's 1 s.
const STALE_AFTER: Duration = Duration::from_millis(600);
/// The longest wait between two attempts to connect again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub(super) struct Feed {
    keys: AtomicU64,
    usage: AtomicU64,
    connected: AtomicBool,
    /// When the server last showed it is alive, in milliseconds since `born`.
    alive_at: AtomicU64,
    born: Instant,
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
        let feed = Arc::new(Feed {
            keys: AtomicU64::new(0),
            usage: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            alive_at: AtomicU64::new(0),
            born: Instant::now(),
            tried: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
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
        let deadline = Instant::now() + postgres::CONNECT_TIMEOUT;
        while !feed.tried.load(Ordering::Acquire) && Instant::now() < deadline {
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

    /// Whether the listening connection is up (as far as its socket knows).
    pub(super) fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// Whether every change made until a moment ago has been heard: connected, and the server
    /// showed signs of life within [`STALE_AFTER`]. When not, nothing remembered can be
    /// trusted.
    pub(super) fn fresh(&self) -> bool {
        let now = self.born.elapsed().as_millis() as u64;
        self.connected()
            && now.saturating_sub(self.alive_at.load(Ordering::Acquire))
                <= STALE_AFTER.as_millis() as u64
    }

    fn count(&self, notification: &::postgres::Notification) {
        match notification.channel() {
            postgres::KEYS_CHANNEL => self.keys.fetch_add(1, Ordering::AcqRel),
            _ => self.usage.fetch_add(1, Ordering::AcqRel),
        };
    }

    fn alive(&self) {
        let now = self.born.elapsed().as_millis() as u64;
        self.alive_at.fetch_max(now, Ordering::AcqRel);
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
            // Named apart from the store's other connections, for an admin (and a test)
            // looking at pg_stat_activity.
            client
                .batch_execute(
                    "SET application_name = 'hivekeys-listen'; \
                     LISTEN hivekeys_keys; LISTEN hivekeys_usage;",
                )
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
        feed.alive();
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
            // Bounded in time, not only by silence: a steady stream of notifications (use
            // counts from many gateways) must not hold off the next ping.
            let listening = Instant::now();
            let mut notifications = client.notifications();
            let mut heard = notifications.timeout_iter(WAKE_EVERY);
            while listening.elapsed() < WAKE_EVERY {
                match heard.next() {
                    Ok(Some(notification)) => feed.count(&notification),
                    Ok(None) => break,
                    Err(_) => return true,
                }
            }
        }
        // A sign of life: a connection that cannot answer this is dead, even if its socket
        // has not said so yet. Notifications sent before the answer arrive before it.
        if client.batch_execute("").is_err() {
            return true;
        }
        // Count what arrived with the answer before calling the feed alive up to now.
        {
            let mut pending = client.notifications();
            let mut arrived = pending.iter();
            loop {
                match arrived.next() {
                    Ok(Some(notification)) => feed.count(&notification),
                    Ok(None) => break,
                    Err(_) => return true,
                }
            }
        }
        feed.alive();
        if client.is_closed() {
            return true;
        }
    }
}
