//! A throwaway PostgreSQL for the tests: the Debian packages' `initdb` and `pg_ctl` in a
//! temporary folder, on a free loopback port, run as an unprivileged user when the tests run
//! as root (initdb refuses root). One shared server per test binary ([`shared`], each test
//! making its own database), removed when the test process exits (a watchdog shell waits
//! for it); tests that stop and start PostgreSQL start their own ([`Postgres::start`]).
//! Where the binaries are missing the tests print why they skipped and pass.

use dossier_server::store::postgres::{self, PgOptions};
use dossier_server::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// A PostgreSQL server of the tests.
pub(crate) struct Postgres {
    bindir: PathBuf,
    dir: PathBuf,
    pub port: u16,
    /// Run the server's commands as this user (when the tests run as root).
    user: Option<&'static str>,
    /// Stopped and removed when dropped (the shared one is left to its watchdog).
    owned: bool,
}

/// Where `initdb` and `pg_ctl` are: `pg_config --bindir`, `/usr/lib/postgresql/*/bin`, PATH.
fn bindir() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has(&d) {
            return Some(d);
        }
    }
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|d| has(d))
            .collect();
        dirs.sort();
        if let Some(d) = dirs.pop() {
            return Some(d);
        }
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(PathBuf::from)
        .find(|d| has(d))
}

fn is_root() -> bool {
    // No libc: the effective uid from /proc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Postgres {
    /// Initialises and starts a new server; `Err` says why it cannot (no binaries).
    pub(crate) fn start(name: &str) -> Result<Self, String> {
        let bindir = bindir()
            .ok_or("PostgreSQL's initdb and pg_ctl not found (install the `postgresql` package)")?;
        let dir = std::env::temp_dir().join(format!(
            "dossier-pg-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let user = is_root().then_some("nobody");
        if let Some(user) = user {
            let ok = Command::new("chown")
                .args([&format!("{user}:"), dir.to_str().unwrap()])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("cannot chown {} to {user}", dir.display()));
            }
        }
        let pg = Self {
            bindir,
            dir,
            port: free_port(),
            user,
            owned: true,
        };
        let data = pg.dir.join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        pg.start_again()?;
        Ok(pg)
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bindir.join(program);
        match self.user {
            Some(user) => {
                let mut c = Command::new("setpriv");
                c.args([
                    &format!("--reuid={user}"),
                    "--regid=nogroup",
                    "--clear-groups",
                ])
                .arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Starts the (stopped) server again, on the same port and data.
    pub(crate) fn start_again(&self) -> Result<(), String> {
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        )
    }

    /// Stops the server (fast: connections are closed, nothing committed is lost).
    pub(crate) fn stop(&self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    /// A URL of database `db`.
    pub(crate) fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a fresh database; returns its URL.
    pub(crate) async fn database(&self) -> String {
        let name = format!("t_{}", COUNTER.fetch_add(1, Ordering::Relaxed));
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .expect("connect to the test PostgreSQL");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        self.url(&name)
    }

    /// Leaves the server to a watchdog that stops and removes it when this process exits.
    fn watched(mut self) -> Self {
        let data = self.dir.join("data");
        let pg_ctl = self.bindir.join("pg_ctl");
        let as_user = match self.user {
            Some(user) => format!("setpriv --reuid={user} --regid=nogroup --clear-groups "),
            None => String::new(),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {as_user}{pg_ctl} -D {data} -m immediate -w stop >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            pg_ctl = pg_ctl.display(),
            data = data.display(),
            dir = self.dir.display(),
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        self.owned = false;
        self
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.owned {
            let data = self.dir.join("data");
            let _ = self.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            );
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Says why a test skipped, past the test harness's output capture (so `cargo test` shows it).
fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: no PostgreSQL for this test: {why}"
    );
}

/// The test binary's shared server, or `None` (after printing why) when there can be none.
pub(crate) fn shared() -> Option<&'static Postgres> {
    static SHARED: OnceLock<Result<Postgres, String>> = OnceLock::new();
    match SHARED.get_or_init(|| Postgres::start("shared").map(Postgres::watched)) {
        Ok(pg) => Some(pg),
        Err(why) => {
            skipped(why);
            None
        }
    }
}

/// A dedicated server for a test that stops and starts it, or `None` (after printing why).
pub(crate) fn dedicated(name: &str) -> Option<Postgres> {
    match Postgres::start(name) {
        Ok(pg) => Some(pg),
        Err(why) => {
            skipped(&why);
            None
        }
    }
}

/// Test options for `url`: a short poll and lag bound, so faults show quickly.
pub(crate) fn options(url: &str) -> PgOptions {
    let mut options = PgOptions::new(url, None).unwrap();
    options.poll = Duration::from_millis(200);
    options.write_timeout = Duration::from_secs(5);
    options
}

/// A replica as the binary makes one: loaded from the database, following it, ready.
pub(crate) async fn replica(url: &str) -> Store {
    let store = Store::new();
    let options = options(url);
    let cursor = postgres::open(&store, &options).await.unwrap();
    tokio::spawn(postgres::follow(store.clone(), options, cursor));
    store.set_ready();
    store
}
