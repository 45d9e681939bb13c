//! Reading the key list from the store: when to read again, reading on a background thread,
//! installing what a read returned, patching the list after the dashboard's own change, and
//! throwing away a read that began before that change.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, TryRecvError};

use chrono::{DateTime, TimeDelta, Utc};

use super::key_list::KeyList;
use super::key_orders::Orders;
use super::key_rows::KeyRows;
use crate::store::{KeyQuery, KeyRecord, Store, WorkspaceLoader};

/// The shortest time between two reloads prompted by other processes. A busy gateway calling
/// `verify` changes the store's data version all the time, and a full reload of 100,000 keys
/// costs about 100 ms; once a second keeps the dashboard light and, with the tick, still shows
/// every change within the two seconds the product promises.
pub const RELOAD_INTERVAL: TimeDelta = TimeDelta::seconds(1);

/// Rows read at start-up before the whole list, so the first frame never waits for it.
pub const FIRST_PAGE: usize = 200;

/// A data version no store has: the next tick past the reload interval reads again.
const NO_VERSION: i64 = i64::MIN;

/// One read of the workspace's keys and the store's data version just before it.
pub struct Read {
    version: i64,
    keys_version: i64,
    keys: Keys,
}

/// What a read of the keys returned, ready to be shown: the default key, the others as
/// [`KeyRows`], and their orders.
pub struct Keys {
    default_key: Option<KeyRecord>,
    rows: KeyRows,
    orders: Orders,
}

impl Keys {
    /// `keys`, the workspace's keys newest first (the default among them or not).
    fn of(default_key: Option<KeyRecord>, keys: Vec<KeyRecord>) -> Keys {
        let rows = super::key_list::table_rows(default_key.as_ref(), keys);
        let orders = Orders::of(&rows);
        Keys {
            default_key,
            rows,
            orders,
        }
    }

    /// Reads the workspace with `loader`, each key stored compactly as it arrives, and works
    /// out the orders: all of it on the reader's thread.
    fn load(loader: &WorkspaceLoader, now: DateTime<Utc>) -> crate::Result<Keys> {
        let rows = std::cell::RefCell::new(KeyRows::default());
        let default_key = loader.load_each(
            now,
            |n| rows.borrow_mut().reserve(n),
            |key| rows.borrow_mut().push(&key),
        )?;
        let mut rows = rows.into_inner();
        rows.shrink_to_fit();
        let orders = Orders::of(&rows);
        Ok(Keys {
            default_key,
            rows,
            orders,
        })
    }
}

/// What a tick has to do about other processes' commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Nothing,
    /// Keys changed: read the whole list again.
    Reload,
    /// Only use counts changed: refresh those on screen.
    UseCounts,
}

/// What a look at the background read found.
pub enum Taken {
    /// Nothing has arrived (or nothing is under way).
    Nothing,
    /// The read began before the dashboard changed a key: read again.
    Outdated,
    Keys(Box<Read>),
    Failed(crate::Error),
}

pub struct Loader {
    /// The store's data version the list was read at, or last looked at: it moves for every
    /// commit, use-count bookkeeping included.
    data_version: i64,
    /// The store's keys version the list was read at: it moves only when a key, a secret or
    /// a workspace name changes, and only then is the whole list read again.
    keys_version: i64,
    /// When the keys were last read from the store, by the store's (injected) clock: reloads
    /// for other processes' changes wait [`RELOAD_INTERVAL`] after it.
    last_reload: Option<DateTime<Utc>>,
    /// The soonest moment a loaded key (or the default) expires: statuses change then without
    /// any write to the store, so the tick reloads at that moment.
    next_expiry: Option<DateTime<Utc>>,
    /// Set when the full key list is read on a background thread (the real dashboard);
    /// `None` reads it inline, which tests and benchmarks use to get one settled state.
    background: Option<Background>,
}

struct Background {
    loader: WorkspaceLoader,
    in_flight: Option<InFlight>,
    /// The dashboard changed a key after the read in flight began: its result may not
    /// include the change, so it is thrown away and read again.
    outdated: bool,
    /// Until the first full list arrives: how many keys the table will hold.
    first_total: Option<usize>,
}

struct InFlight {
    /// The store's data and keys versions read just before the read began.
    version: i64,
    keys_version: i64,
    result: Receiver<crate::Result<Keys>>,
}

impl Loader {
    /// Every read done inline, settled when it returns.
    pub fn inline() -> Loader {
        Loader {
            data_version: 0,
            keys_version: NO_VERSION,
            last_reload: None,
            next_expiry: None,
            background: None,
        }
    }

    /// The full list read on a background thread (see [`Loader::first_page`]).
    pub fn in_background(store: &Store, workspace: &str) -> Loader {
        Loader {
            background: Some(Background {
                loader: store.loader(workspace),
                in_flight: None,
                outdated: false,
                first_total: None,
            }),
            ..Loader::inline()
        }
    }

    /// Before the first background read: the default key, the newest [`FIRST_PAGE`] keys and
    /// the total, read with indexed queries whose cost does not grow with the store, so the
    /// first frame never waits for the whole list.
    pub fn first_page(
        &mut self,
        store: &Store,
        workspace: &str,
        list: &mut KeyList,
        now: DateTime<Utc>,
    ) -> crate::Result<()> {
        let first = KeyQuery {
            limit: Some(FIRST_PAGE),
            ..KeyQuery::default()
        };
        let version = store.data_version()?;
        let keys_version = store.keys_version()?;
        let default_key = store.default_key(workspace)?;
        let keys = store.list_keys(workspace, &first)?;
        let total = store.count_keys(workspace, &KeyQuery::default())? as usize
            - usize::from(default_key.is_some());
        let read = Read {
            version,
            keys_version,
            keys: Keys::of(default_key, keys),
        };
        self.install(read, list, now);
        if let Some(background) = &mut self.background {
            background.first_total = Some(total);
        }
        Ok(())
    }

    /// Reads run on a background thread (rather than inline).
    pub fn is_background(&self) -> bool {
        self.background.is_some()
    }

    /// A full read of the key list is under way on the background thread.
    pub fn is_loading(&self) -> bool {
        self.background
            .as_ref()
            .is_some_and(|b| b.in_flight.is_some())
    }

    /// While the first full read is under way: how many keys the table will hold.
    pub fn loading_total(&self) -> Option<usize> {
        self.background.as_ref().and_then(|b| b.first_total)
    }

    /// What a tick at `now` should do. Nothing, while nobody committed; read the whole list
    /// again when a key changed (or expired); refresh only the use counts on screen when the
    /// commits were bookkeeping alone (a gateway verifying: re-reading a hundred thousand
    /// keys for that cost a fifth of a core). Either waits [`RELOAD_INTERVAL`] after the last
    /// read (or less if the clock went back, which must not hold reads off until it catches
    /// up); a change seen too soon stays pending: the versions still differ at the next tick.
    pub fn due(&mut self, store: &Store, now: DateTime<Utc>) -> crate::Result<Due> {
        let expired = self.next_expiry.is_some_and(|at| at <= now);
        let interval_passed = self
            .last_reload
            .is_none_or(|at| now < at || now - at >= RELOAD_INTERVAL);
        let data_version = store.data_version()?;
        if !interval_passed || (data_version == self.data_version && !expired) {
            return Ok(Due::Nothing);
        }
        if expired || store.keys_version()? != self.keys_version {
            return Ok(Due::Reload);
        }
        self.data_version = data_version;
        self.last_reload = Some(now);
        Ok(Due::UseCounts)
    }

    /// Reads the workspace's keys again: at once (returning the read), or by starting a
    /// background read (unless one is already under way: the data version it began at tells
    /// the next tick whether another is needed).
    pub fn reload(
        &mut self,
        store: &Store,
        workspace: &str,
        now: DateTime<Utc>,
    ) -> crate::Result<Option<Read>> {
        self.last_reload = Some(now);
        // Both versions before the read: a change committed during it shows at the next tick.
        let version = store.data_version()?;
        let keys_version = store.keys_version()?;
        if let Some(background) = &mut self.background {
            if background.in_flight.is_none() {
                background.start(version, keys_version, now);
            }
            return Ok(None);
        }
        let default_key = store.default_key(workspace)?;
        let keys = store.list_keys(workspace, &KeyQuery::default())?;
        Ok(Some(Read {
            version,
            keys_version,
            keys: Keys::of(default_key, keys),
        }))
    }

    /// Looks for the background read's result.
    pub fn take(&mut self, store_path: &Path) -> Taken {
        let Some(background) = &mut self.background else {
            return Taken::Nothing;
        };
        let Some(in_flight) = &background.in_flight else {
            return Taken::Nothing;
        };
        let result = match in_flight.result.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return Taken::Nothing,
            Err(TryRecvError::Disconnected) => Err(crate::Error::Database {
                path: store_path.to_path_buf(),
                message: "the background reader stopped".into(),
            }),
        };
        let (version, keys_version) = (in_flight.version, in_flight.keys_version);
        background.in_flight = None;
        if std::mem::take(&mut background.outdated) {
            return Taken::Outdated;
        }
        match result {
            Ok(keys) => {
                background.first_total = None;
                Taken::Keys(Box::new(Read {
                    version,
                    keys_version,
                    keys,
                }))
            }
            Err(err) => {
                // Instead of leaving a partial list for good, the next tick past the reload
                // interval tries again.
                self.data_version = NO_VERSION;
                self.keys_version = NO_VERSION;
                Taken::Failed(err)
            }
        }
    }

    /// Makes `read` what `list` holds.
    pub fn install(&mut self, read: Read, list: &mut KeyList, now: DateTime<Utc>) {
        self.data_version = read.version;
        self.keys_version = read.keys_version;
        let Keys {
            default_key,
            rows,
            orders,
        } = read.keys;
        list.install(default_key, rows, orders, now);
        self.next_expiry = list.next_expiry(now);
    }

    /// After the dashboard itself changed `record`. Read inline, everything is read again
    /// (returns true). In the background, the record is put in place at once (the table must
    /// not show a revoked key as active for the seconds a million-key read takes) and a read
    /// is due behind it (returns true) unless one is under way, whose result is then thrown
    /// away and read again.
    pub fn patch(&mut self, record: &KeyRecord, list: &mut KeyList, now: DateTime<Utc>) -> bool {
        let Some(background) = &mut self.background else {
            return true;
        };
        if background.in_flight.is_some() {
            background.outdated = true;
        }
        let (was_in_table, in_table) = list.put(record, now);
        // While the first full read runs, the total shown comes from a count made before it:
        // keep it in step with the table.
        if let Some(total) = &mut background.first_total {
            *total = (*total + usize::from(in_table)).saturating_sub(usize::from(was_in_table));
        }
        !self.is_loading()
    }

    /// The store's file was replaced: every row and every read under way belongs to the old
    /// file.
    pub fn forget(&mut self, list: &mut KeyList, now: DateTime<Utc>) {
        if let Some(background) = &mut self.background
            && background.in_flight.is_some()
        {
            background.outdated = true;
        }
        let empty = Read {
            version: NO_VERSION,
            keys_version: NO_VERSION,
            keys: Keys::of(None, Vec::new()),
        };
        self.install(empty, list, now);
    }
}

impl Background {
    fn start(&mut self, version: i64, keys_version: i64, now: DateTime<Utc>) {
        let (send, result) = mpsc::channel();
        let loader = self.loader.clone();
        let spawned = std::thread::Builder::new()
            .name("hivekeys-load".into())
            .spawn(move || {
                // The dashboard may have quit meanwhile: nobody to tell, and nothing lost.
                let _ = send.send(Keys::load(&loader, now));
            });
        // Without a thread the receiver reports a disconnect, which shows as an error.
        drop(spawned);
        self.in_flight = Some(InFlight {
            version,
            keys_version,
            result,
        });
    }
}
