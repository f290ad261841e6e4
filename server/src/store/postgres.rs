//! PostgreSQL as the one system of record behind `--store postgres://…`: every replica
//! writes through it ([`PgLog`], a [`DurableLog`]) and follows its change log ([`follow`]).
//!
//! - **Schema** (`server/migrations/*.sql`, versioned, applied at start-up under an advisory
//!   lock by [`migrate`]): one row per document id with its latest version or a tombstone,
//!   numbered by one change sequence.
//! - **Writes**: one transaction per group of changes; it takes the commit-order advisory
//!   lock, numbers its rows from the sequence, sends `NOTIFY` and commits, and only then does
//!   the store apply and acknowledge the group. The lock makes sequence numbers visible in
//!   commit order (a plain sequence can commit 11 before 10, and a follower that read
//!   `seq > 10` would skip 10 for ever). Any failure (the database gone, a timeout) is
//!   [`LogError::Unavailable`]: nothing is applied, the client is told when to retry, and
//!   the next write reconnects.
//! - **Following**: at start-up [`open`] loads every row in sequence order, in batches
//!   (fetching the next while analysing the last); then [`follow`] `LISTEN`s, and on every
//!   notification — and every [`PgOptions::poll`] anyway, so a missed notification loses
//!   nothing — reads `seq > last` in batches and applies them. A replica skips the versions
//!   it already holds (its own writes were applied as they committed: read-your-writes).
//!   A lost connection turns the state to disconnected (the replica serves its last
//!   snapshot), and it reconnects with backoff and catches up.
//!
//! Transport is plaintext (`NoTls`): the database is expected on a private network or a
//! sidecar; TLS would be the operator's choice of a `sslmode` and a TLS connector.

use super::log::{Change, DurableLog, LogError};
use super::{FollowState, FollowStatus, Followed, Store, StoreError, StoredDoc};
use crate::corpus::Document;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio_postgres::{AsyncMessage, Client, NoTls};

/// The `NOTIFY` channel of committed changes (payload: the group's highest sequence number).
pub const CHANNEL: &str = "dossier_changes";

/// The advisory lock every writing transaction holds from numbering to commit.
const COMMIT_LOCK: i64 = 0x646f_7373_6965_7201;
/// The advisory lock held while migrations run (replicas starting together wait in turn).
const MIGRATION_LOCK: i64 = 0x646f_7373_6965_7202;

/// The schema's versions, in order: (version, name, SQL). Applied once each, never edited.
const MIGRATIONS: &[(i32, &str, &str)] =
    &[(1, "init", include_str!("../../migrations/0001_init.sql"))];

/// Why the system of record cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The `--store` URL is not a PostgreSQL connection string.
    #[error("invalid --store URL: {0}")]
    Url(tokio_postgres::Error),
    /// The password file cannot be read.
    #[error("cannot read the password file {path}: {source}")]
    PasswordFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database failed a statement or the connection.
    #[error("PostgreSQL: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// A stored document is not valid JSON of a document.
    #[error("row {seq} ({id:?}) holds no valid document: {source}")]
    BadRow {
        /// Its sequence number.
        seq: u64,
        /// Its id.
        id: String,
        /// Why.
        source: serde_json::Error,
    },
    /// Applying the changes to the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The analysis task panicked or was cancelled.
    #[error("the analysis of followed changes failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// How to reach and follow the database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// The connection settings (from the `--store` URL and the password file).
    pub config: tokio_postgres::Config,
    /// Rows read per round trip when loading and catching up.
    pub batch: usize,
    /// A follower behind the log for longer than this reports itself lagging.
    pub lag_bound: Duration,
    /// How often a follower reads the log even without a notification.
    pub poll: Duration,
    /// How long a write may take before it is given up (and answered `UNAVAILABLE`).
    pub write_timeout: Duration,
    /// What a client is told to wait before retrying a refused write.
    pub retry_after: Duration,
}

impl PgOptions {
    /// Options for `url` (a `postgres://` URL or `key=value` string), the password read
    /// from `password_file` when given (a URL's own password otherwise).
    pub fn new(url: &str, password_file: Option<&Path>) -> Result<Self, PgError> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(PgError::Url)?;
        if let Some(path) = password_file {
            let password =
                std::fs::read_to_string(path).map_err(|source| PgError::PasswordFile {
                    path: path.to_path_buf(),
                    source,
                })?;
            config.password(password.trim_end_matches(['\r', '\n']));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("dossier");
        }
        Ok(Self {
            config,
            batch: 1000,
            lag_bound: Duration::from_secs(5),
            poll: Duration::from_secs(1),
            write_timeout: Duration::from_secs(10),
            retry_after: Duration::from_secs(1),
        })
    }
}

/// Connects, driving the connection on the runtime (its notifications are dropped).
async fn connect(config: &tokio_postgres::Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Applies the migrations the database lacks, under the migration lock; returns how many.
pub async fn migrate(client: &mut Client) -> Result<usize, PgError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let applied = apply_migrations(client).await;
    // Released whatever happened (the session's end would release it too).
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    let applied = applied?;
    unlocked?;
    Ok(applied)
}

async fn apply_migrations(client: &mut Client) -> Result<usize, PgError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS dossier_migrations (
                version INT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
    let mut applied = 0;
    for &(version, name, sql) in MIGRATIONS {
        let done = client
            .query_opt(
                "SELECT 1 FROM dossier_migrations WHERE version = $1",
                &[&version],
            )
            .await?
            .is_some();
        if done {
            continue;
        }
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO dossier_migrations (version, name) VALUES ($1, $2)",
            &[&version, &name],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "schema migration applied");
        applied += 1;
    }
    Ok(applied)
}

/// A row of the change log, not yet analysed.
struct Row {
    seq: u64,
    id: String,
    doc: Option<String>,
}

/// Up to `limit` rows after `after`, in sequence order.
async fn read_after(client: &Client, after: u64, limit: usize) -> Result<Vec<Row>, PgError> {
    let rows = client
        .query(
            "SELECT seq, id, doc FROM dossier_documents WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&(after as i64), &(limit as i64)],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Row {
            seq: r.get::<_, i64>(0) as u64,
            id: r.get(1),
            doc: r.get(2),
        })
        .collect())
}

/// Parses and analyses `rows` in parallel (CPU-bound: runs on the analysis pool), leaving
/// out the versions `store` already holds.
async fn analyse(store: &Store, rows: Vec<Row>) -> Result<Vec<Followed>, PgError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        let rows: Vec<Row> = rows
            .into_iter()
            .filter(|r| !store.holds(&r.id, r.seq))
            .collect();
        rows.into_par_iter()
            .filter_map(|r| {
                let doc = match r.doc {
                    Some(json) => match serde_json::from_str::<Document>(&json) {
                        Ok(doc) => Some(StoredDoc::analyze(doc)),
                        Err(source) => {
                            // Only Dossier writes these rows; one it cannot read is left out
                            // (loudly) rather than stopping the replica from following.
                            let e = PgError::BadRow {
                                seq: r.seq,
                                id: r.id,
                                source,
                            };
                            tracing::error!(error = %e, "change left out");
                            return None;
                        }
                    },
                    None => None,
                };
                Some(Followed {
                    seq: r.seq,
                    id: r.id,
                    doc,
                })
            })
            .collect()
    })
    .await
    .map_err(PgError::from)
}

/// Applies followed changes off the runtime.
async fn apply(store: &Store, changes: Vec<Followed>, bulk: bool) -> Result<usize, PgError> {
    let store = store.clone();
    Ok(tokio::task::spawn_blocking(move || store.apply_followed(changes, bulk)).await??)
}

/// Connects (retrying with backoff while the database cannot be reached, the follower's
/// state disconnected meanwhile), migrates the schema, loads every document from the
/// database into `store` in batches, and makes the database `store`'s log. Returns the
/// sequence number loaded up to, where [`follow`] goes on from.
pub async fn open(store: &Store, options: &PgOptions) -> Result<u64, PgError> {
    let started = Instant::now();
    let mut backoff = Backoff::new();
    let mut client = loop {
        match connect(&options.config).await {
            Ok(client) => break client,
            Err(e) => {
                store.set_follow_status(FollowStatus {
                    state: FollowState::Disconnected,
                    ..FollowStatus::default()
                });
                let wait = backoff.next();
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "PostgreSQL unreachable at start-up");
                tokio::time::sleep(wait).await;
            }
        }
    };
    migrate(&mut client).await?;
    let mut cursor = 0u64;
    let mut loaded = Vec::new();
    let mut rows = read_after(&client, cursor, options.batch).await?;
    while !rows.is_empty() {
        cursor = rows.last().map_or(cursor, |r| r.seq);
        let full = rows.len() == options.batch;
        // Analyse this batch while the next one is read.
        let analysing = tokio::spawn({
            let store = store.clone();
            async move { analyse(&store, rows).await }
        });
        let next = if full {
            read_after(&client, cursor, options.batch).await?
        } else {
            Vec::new()
        };
        loaded.extend(analysing.await??);
        rows = next;
    }
    let n = loaded.len();
    apply(store, loaded, true).await?;
    store.attach_log(Box::new(PgLog::new(options)));
    tracing::info!(
        documents = n,
        seq = cursor,
        millis = started.elapsed().as_millis() as u64,
        "loaded from PostgreSQL"
    );
    Ok(cursor)
}

/// Follows the change log from `cursor` for ever: `LISTEN`, catch up on every notification
/// and every [`PgOptions::poll`], and on a lost connection report disconnected, reconnect
/// with backoff and catch up.
pub async fn follow(store: Store, options: PgOptions, mut cursor: u64) {
    let mut backoff = Backoff::new();
    let mut disconnected_since: Option<Instant> = None;
    loop {
        match follow_connected(&store, &options, &mut cursor, &mut backoff).await {
            Ok(()) => tracing::warn!("PostgreSQL connection of the follower closed"),
            Err(e) => tracing::warn!(error = %e, "following PostgreSQL failed"),
        }
        if store.follow_status().borrow().state != FollowState::Disconnected {
            disconnected_since = None;
        }
        let since = *disconnected_since.get_or_insert_with(Instant::now);
        store.set_follow_status(FollowStatus {
            state: FollowState::Disconnected,
            applied_seq: cursor,
            lag: since.elapsed(),
        });
        tokio::time::sleep(backoff.next()).await;
    }
}

/// One connection's worth of following; returns when the connection is lost.
async fn follow_connected(
    store: &Store,
    options: &PgOptions,
    cursor: &mut u64,
    backoff: &mut Backoff,
) -> Result<(), PgError> {
    let (client, mut connection) = options.config.connect(NoTls).await?;
    let (tx, mut notified) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    let _ = tx.send(n.payload().parse().unwrap_or(u64::MAX));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "follower connection failed");
                    return;
                }
                None => return,
            }
        }
    });
    // Dropped (and so the connection closed) however this function ends.
    let _driver = AbortOnDrop(driver);
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    // The newest change known to exist, and since when this replica has been behind it.
    let mut known = 0u64;
    let mut behind_since: Option<Instant> = None;
    let mut first = true;
    loop {
        catch_up(store, options, &client, cursor).await?;
        if first {
            backoff.reset();
            first = false;
        }
        if *cursor >= known {
            behind_since = None;
        }
        let lag = behind_since.map_or(Duration::ZERO, |t| t.elapsed());
        store.set_follow_status(FollowStatus {
            state: if lag > options.lag_bound {
                FollowState::Lagging
            } else {
                FollowState::Serving
            },
            applied_seq: *cursor,
            lag,
        });
        let woke = tokio::time::timeout(options.poll, notified.recv()).await;
        match woke {
            Ok(Some(seq)) => {
                let mut newest = seq;
                while let Ok(seq) = notified.try_recv() {
                    newest = newest.max(seq);
                }
                if newest > *cursor {
                    known = known.max(newest);
                    behind_since.get_or_insert_with(Instant::now);
                }
            }
            Ok(None) => return Ok(()),
            Err(_elapsed) => {
                if client.is_closed() {
                    return Ok(());
                }
            }
        }
    }
}

/// Reads and applies every change after `cursor`, in batches.
async fn catch_up(
    store: &Store,
    options: &PgOptions,
    client: &Client,
    cursor: &mut u64,
) -> Result<(), PgError> {
    loop {
        let rows = read_after(client, *cursor, options.batch).await?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(());
        };
        let full = rows.len() == options.batch;
        let changes = analyse(store, rows).await?;
        let applied = apply(store, changes, false).await?;
        *cursor = last;
        if applied > 0 {
            tracing::debug!(applied, seq = last, "followed changes applied");
        }
        if !full {
            return Ok(());
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Exponential backoff from 100 ms to 5 s.
struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(5);

    fn new() -> Self {
        Self(Self::FIRST)
    }

    fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        wait
    }

    fn reset(&mut self) {
        self.0 = Self::FIRST;
    }
}

/// The store's log in PostgreSQL: one writing connection (writes are serialised by the
/// store's writer lock and the commit-order lock anyway, so a pool would hold idle
/// connections), opened again on the next write after a failure.
pub struct PgLog {
    config: tokio_postgres::Config,
    runtime: tokio::runtime::Handle,
    client: Option<Client>,
    write_timeout: Duration,
    retry_after: Duration,
}

impl std::fmt::Debug for PgLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLog")
            .field("connected", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

impl PgLog {
    /// A log writing through `options.config`; connects on the first write. Must be made
    /// on the runtime (its connections are driven there); writes are made from blocking
    /// threads (the store's writers).
    pub fn new(options: &PgOptions) -> Self {
        Self {
            config: options.config.clone(),
            runtime: tokio::runtime::Handle::current(),
            client: None,
            write_timeout: options.write_timeout,
            retry_after: options.retry_after,
        }
    }

    async fn commit(
        &mut self,
        ids: &[&str],
        docs: &[Option<String>],
    ) -> Result<u64, tokio_postgres::Error> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = Some(connect(&self.config).await?);
        }
        let client = self.client.as_mut().expect("connected above");
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])
            .await?;
        let row = tx
            .query_one(
                "WITH upserted AS (
                    INSERT INTO dossier_documents (id, seq, doc)
                    SELECT id, nextval('dossier_change_seq'), doc
                    FROM unnest($1::text[], $2::text[]) AS t(id, doc)
                    ON CONFLICT (id) DO UPDATE
                        SET seq = EXCLUDED.seq, doc = EXCLUDED.doc, changed_at = now()
                    RETURNING seq)
                SELECT max(seq) FROM upserted",
                &[&ids, &docs],
            )
            .await?;
        let seq: i64 = row.get(0);
        tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &seq.to_string()])
            .await?;
        tx.commit().await?;
        Ok(seq as u64)
    }
}

impl DurableLog for PgLog {
    /// One transaction for the group; the last change of an id in it wins.
    fn append(&mut self, changes: &[Change<'_>]) -> Result<Option<u64>, LogError> {
        // One row per id, holding its last change of the group.
        let mut last = std::collections::HashMap::new();
        for (i, change) in changes.iter().enumerate() {
            last.insert(change.id(), i);
        }
        let mut ids = Vec::with_capacity(last.len());
        let mut docs = Vec::with_capacity(last.len());
        for (i, change) in changes.iter().enumerate() {
            if last.get(change.id()) != Some(&i) {
                continue;
            }
            ids.push(change.id());
            docs.push(match change {
                Change::Put(d) => Some(serde_json::to_string(d).map_err(std::io::Error::other)?),
                Change::Delete(_) => None,
            });
        }
        let (timeout, retry_after) = (self.write_timeout, self.retry_after);
        let runtime = self.runtime.clone();
        let outcome = runtime
            .block_on(async { tokio::time::timeout(timeout, self.commit(&ids, &docs)).await });
        let message = match outcome {
            Ok(Ok(seq)) => return Ok(Some(seq)),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no commit within {} ms", timeout.as_millis()),
        };
        // The connection may be broken, or mid-transaction: start afresh next time.
        self.client = None;
        tracing::warn!(error = %message, "write to PostgreSQL failed; not applied");
        Err(LogError::Unavailable {
            message,
            retry_after,
        })
    }
}
