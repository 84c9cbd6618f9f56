//! A throwaway PostgreSQL server for tests: `initdb` into a temporary directory, `pg_ctl
//! start` on loopback with a free port (socket directory inside the temporary directory),
//! stopped and deleted on drop.
//!
//! The binaries are looked for in `ZKACCEL_PG_BIN` (a directory), then `PATH`, then Debian's
//! `/usr/lib/postgresql/<version>/bin` (newest first). `initdb` and `postgres` refuse to run
//! as root: when the effective user is root (CI), the directory is handed to an unprivileged
//! user (`postgres`, which Debian's package creates, else `nobody`) and the server commands
//! run through `runuser -u <user> --`.
//!
//! When PostgreSQL is not installed, [`TestPostgres::start_or_skip`] says so loudly and
//! returns `None` — unless `ZKACCEL_REQUIRE` contains `postgres` or `CI=true`, when the
//! absence is an error.

use crate::error::{ClusterError, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

/// The database superuser the test server is created with (trust authentication, loopback
/// only).
pub const SUPERUSER: &str = "zkaccel";

/// A running throwaway PostgreSQL server.
#[derive(Debug)]
pub struct TestPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    run_as: Option<String>,
    running: bool,
}

fn err(msg: impl Into<String>) -> ClusterError {
    ClusterError::TestServer(msg.into())
}

fn has_server(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|b| dir.join(b).is_file())
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`, if PostgreSQL is installed.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("ZKACCEL_PG_BIN") {
        let d = PathBuf::from(d);
        if has_server(&d) {
            return Some(d);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for p in std::env::split_paths(&path) {
            let initdb = p.join("initdb");
            if initdb.is_file() {
                // Debian links /usr/bin/initdb-like wrappers; the real directory holds
                // `postgres` too.
                if let Some(real) = std::fs::canonicalize(&initdb)
                    .ok()
                    .and_then(|r| r.parent().map(Path::to_path_buf))
                {
                    if has_server(&real) {
                        return Some(real);
                    }
                }
                if has_server(&p) {
                    return Some(p);
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.split('.').next()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

/// True when the environment requires PostgreSQL tests to run (`ZKACCEL_REQUIRE` lists
/// `postgres`, or `CI=true`).
pub fn required() -> bool {
    let req = std::env::var("ZKACCEL_REQUIRE").unwrap_or_default();
    req.split(',')
        .any(|s| s.trim().eq_ignore_ascii_case("postgres"))
        || std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The effective user id, from `/proc/self/status` (no `unsafe`).
fn euid() -> Option<u32> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn user_exists(name: &str) -> bool {
    std::fs::read_to_string("/etc/passwd")
        .map(|p| p.lines().any(|l| l.split(':').next() == Some(name)))
        .unwrap_or(false)
}

fn run(cmd: &mut Command, what: &str) -> Result<Output> {
    let out = cmd
        .output()
        .map_err(|e| err(format!("{what}: cannot run {cmd:?}: {e}")))?;
    if !out.status.success() {
        return Err(err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(out)
}

impl TestPostgres {
    /// Starts a server, or returns `None` after printing why when PostgreSQL is not
    /// installed and not required (see [`required`]).
    pub fn start_or_skip(what: &str) -> Result<Option<Self>> {
        if find_bin_dir().is_none() {
            let why = "PostgreSQL is not installed (no initdb/pg_ctl/postgres in ZKACCEL_PG_BIN, \
                       PATH or /usr/lib/postgresql/*/bin; Debian: apt-get install postgresql)";
            if required() {
                return Err(err(format!(
                    "{what}: {why}, and ZKACCEL_REQUIRE/CI require the PostgreSQL tests"
                )));
            }
            eprintln!(
                "\n*** SKIPPED {what}: {why}. Set ZKACCEL_REQUIRE=postgres to fail instead. ***\n"
            );
            return Ok(None);
        }
        Self::start().map(Some)
    }

    /// Starts a server (an error when PostgreSQL is missing).
    pub fn start() -> Result<Self> {
        let bin = find_bin_dir().ok_or_else(|| err("PostgreSQL is not installed"))?;
        let root = euid() == Some(0);
        let run_as = root.then(|| {
            if user_exists("postgres") {
                "postgres".to_owned()
            } else {
                "nobody".to_owned()
            }
        });
        // Root's TMPDIR may not be reachable by the unprivileged user: use /tmp then.
        let base = if root {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!("zkaccel-pg-{}-{nanos:08x}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
        let mut pg = TestPostgres {
            dir,
            bin,
            port: 0,
            run_as,
            running: false,
        };
        if let Some(u) = &pg.run_as {
            run(
                Command::new("chown").arg(format!("{u}:")).arg(&pg.dir),
                "chown of the test server directory",
            )?;
        }
        let data = pg.dir.join("data");
        run(
            pg.server_cmd("initdb").arg("-D").arg(&data).args([
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]),
            "initdb",
        )?;
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                pg.dir.display()
            );
            let r = run(
                pg.server_cmd("pg_ctl")
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(pg.dir.join("server.log"))
                    .args(["-w", "-t", "60", "-o", &opts, "start"]),
                "pg_ctl start",
            );
            match r {
                Ok(_) => {
                    pg.port = port;
                    pg.running = true;
                    return Ok(pg);
                }
                Err(e) => last = Some(e),
            }
        }
        let log = std::fs::read_to_string(pg.dir.join("server.log")).unwrap_or_default();
        Err(err(format!(
            "{} — server log:\n{log}",
            last.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    fn server_cmd(&self, name: &str) -> Command {
        let exe = self.bin.join(name);
        match &self.run_as {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `name`; returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        run(
            Command::new(self.bin.join("createdb"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    SUPERUSER,
                ])
                .arg(name),
            "createdb",
        )?;
        Ok(self.url(name))
    }

    /// The server log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Stops the server (immediate shutdown) and deletes its directory.
    pub fn stop(&mut self) {
        if self.running {
            let data = self.dir.join("data");
            let r = self
                .server_cmd("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
            if let Err(e) = r {
                eprintln!("stopping the test PostgreSQL server: {e}");
            }
            self.running = false;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| err(format!("bind: {e}")))?;
    Ok(l.local_addr().map_err(|e| err(e.to_string()))?.port())
}
