//! The fleet against a real PostgreSQL server: a coordinator and worker processes (this test
//! binary re-executed with `ZKACCEL_CLUSTER_TEST_ROLE=worker|coordinator`, calling the same
//! library entry points as `zkaccel worker` / `zkaccel coordinator`), a client in this
//! process, blobs in a local-filesystem object store.
//!
//! Scenarios (each in its own database): every task claimed exactly once under concurrency;
//! a worker killed with SIGKILL mid-task and its task finished by another; a 256 MB input
//! round trip through the store; a sharded MSM equal to the single-machine MSM; a faulty
//! worker's results rejected and redone; a task failing past `max_attempts` failing its job.
//!
//! `cargo test -p zkaccel-cluster --test cluster -- NAME…` runs only the scenarios whose name
//! contains one of the arguments. Skipped (loudly) without PostgreSQL unless
//! `ZKACCEL_REQUIRE` lists `postgres` or `CI=true`.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zkaccel::curves::{Bn254Fr, Bn254G1};
use zkaccel::{
    Affine, DeviceKind, FieldId, HashId, HashOp, NttConfig, NttDirection, Policy, PrimeField,
    Projective, Runtime, Verification,
};
use zkaccel_cluster::testpg::TestPostgres;
use zkaccel_cluster::{
    run_coordinator_until_signal, run_worker_until_signal, Blob, Client, ClusterError,
    CoordinatorOptions, Input, JobOptions, NttJob, TestHooks, WorkerOptions,
};

const ROLE: &str = "ZKACCEL_CLUSTER_TEST_ROLE";

type TestResult = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

trait Ctx<T> {
    fn ctx(self, what: &str) -> Result<T, String>;
}
impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

// ------------------------------------------------------------------------------------------
// Child processes
// ------------------------------------------------------------------------------------------

fn env_ms(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

fn role_main(role: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ZKACCEL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let db = std::env::var("ZKACCEL_TEST_DB").unwrap_or_default();
    let store = std::env::var("ZKACCEL_TEST_STORE").unwrap_or_default();
    let r = match role {
        "worker" => {
            let mut o = WorkerOptions::new(db, store);
            o.worker_id = std::env::var("ZKACCEL_TEST_WORKER_ID").ok();
            o.lease = env_ms("ZKACCEL_TEST_LEASE_MS").unwrap_or(Duration::from_secs(10));
            o.poll_interval = Duration::from_millis(100);
            o.policy = Policy::Only(DeviceKind::Cpu);
            o.shutdown_grace = Duration::from_secs(5);
            o.test_hooks = TestHooks {
                delay: env_ms("ZKACCEL_TEST_DELAY_MS").unwrap_or_default(),
                corrupt_results: std::env::var("ZKACCEL_TEST_CORRUPT").is_ok(),
                ledger: std::env::var_os("ZKACCEL_TEST_LEDGER").map(PathBuf::from),
            };
            run_worker_until_signal(o).map(|r| eprintln!("worker report: {r:?}"))
        }
        "coordinator" => {
            let mut o = CoordinatorOptions::new(db, store);
            o.poll_interval = Duration::from_millis(100);
            run_coordinator_until_signal(o)
        }
        other => Err(ClusterError::Other(format!("unknown role {other}"))),
    };
    if let Err(e) = r {
        eprintln!("{role}: {e}");
        std::process::exit(1);
    }
}

/// A worker or coordinator process; SIGKILLed on drop if still running.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }
    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status();
    }
    /// SIGTERM, then waits up to `limit` for a clean exit.
    fn terminate(&mut self, limit: Duration) -> Result<std::process::ExitStatus, String> {
        self.signal("TERM");
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().ctx("wait")? {
                return Ok(s);
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "{} did not stop within {limit:?} of SIGTERM",
                    self.name
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One scenario's world: a database, a store directory, its processes.
struct World {
    name: String,
    db: String,
    store: String,
    dir: PathBuf,
    procs: Vec<Proc>,
}

impl World {
    fn new(pg: &TestPostgres, root: &Path, name: &str) -> Result<Self, String> {
        let db = pg.create_database(name).ctx("create database")?;
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).ctx("scenario dir")?;
        Ok(Self {
            name: name.into(),
            db,
            store: dir.join("store").display().to_string(),
            dir,
            procs: Vec::new(),
        })
    }

    fn spawn(&mut self, role: &str, name: &str, env: &[(&str, String)]) -> Result<usize, String> {
        let log = self.dir.join(format!("{name}.log"));
        let f = std::fs::File::create(&log).ctx("log file")?;
        let exe = std::env::current_exe().ctx("current_exe")?;
        let mut c = Command::new(exe);
        c.env(ROLE, role)
            .env("ZKACCEL_TEST_DB", &self.db)
            .env("ZKACCEL_TEST_STORE", &self.store)
            .env("ZKACCEL_TEST_WORKER_ID", name)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(f);
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.spawn().ctx("spawn")?;
        self.procs.push(Proc {
            name: name.into(),
            child,
            log,
        });
        Ok(self.procs.len() - 1)
    }

    fn coordinator(&mut self) -> Result<usize, String> {
        self.spawn("coordinator", "coordinator", &[])
    }

    async fn client(&self) -> Result<Client, String> {
        Client::connect(&self.db, &self.store).await.ctx("client")
    }

    fn ledger(&self) -> PathBuf {
        self.dir.join("ledger.txt")
    }

    fn logs(&self) -> String {
        self.procs
            .iter()
            .map(|p| format!("--- {} ({}) ---\n{}", p.name, self.name, p.log_tail()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops every process still running with SIGTERM and checks they exit cleanly.
    fn stop_all(&mut self) -> TestResult {
        for p in &mut self.procs {
            if let Ok(None) = p.child.try_wait() {
                let s = p.terminate(Duration::from_secs(20))?;
                ensure!(s.success(), "{} exited with {s} after SIGTERM", p.name);
            }
        }
        Ok(())
    }
}

fn ledger_lines(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

async fn wait_until<F, Fut>(what: &str, limit: Duration, mut f: F) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, String>>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("timed out after {limit:?} waiting for {what}"))
}

fn cpu_runtime() -> Result<Runtime, String> {
    Runtime::builder()
        .policy(Policy::Only(DeviceKind::Cpu))
        .build()
        .ctx("runtime")
}

/// Deterministic pseudo-random words (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// `n` BabyBear elements in storage form (any value below 2^30 is below the modulus).
fn babybear_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n * 4);
    for _ in 0..n {
        v.extend_from_slice(&((rng.next() as u32) & 0x3fff_ffff).to_le_bytes());
    }
    v
}

fn random_scalars(rng: &mut Rng, n: usize) -> Vec<Bn254Fr> {
    (0..n)
        .map(|_| {
            let limbs = [rng.next(), rng.next(), rng.next(), rng.next() >> 4];
            Bn254Fr::from_canonical(&limbs).unwrap_or_default()
        })
        .collect()
}

fn bases(n: usize) -> Vec<Affine<Bn254G1>> {
    let g = Projective::<Bn254G1>::generator();
    let mut acc = g.double();
    (0..n)
        .map(|_| {
            let a = acc.to_affine();
            acc = acc.add(&g);
            a
        })
        .collect()
}

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

fn reset_hwm() {
    // "5" resets the peak RSS (Linux ≥ 4.0); harmless when refused.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

// ------------------------------------------------------------------------------------------
// Scenarios
// ------------------------------------------------------------------------------------------

/// 120 jobs in the queue before 4 workers start: each task executed exactly once.
async fn claims_exactly_once(w: &mut World) -> TestResult {
    let client = w.client().await?;
    let id: HashId = "poseidon2-plonky3-babybear-t16".parse().ctx("hash id")?;
    let rt = cpu_runtime()?;
    let mut rng = Rng(7);
    let mut jobs = Vec::new();
    for _ in 0..120 {
        let input = babybear_bytes(&mut rng, 16 * 32);
        let job = client
            .submit_hash(
                id,
                HashOp::Permute,
                Input::Bytes(&input),
                &JobOptions::default(),
            )
            .await
            .ctx("submit")?;
        jobs.push((job, input));
    }
    w.coordinator()?;
    let ledger = w.ledger().display().to_string();
    for k in 0..4 {
        w.spawn(
            "worker",
            &format!("w{k}"),
            &[("ZKACCEL_TEST_LEDGER", ledger.clone())],
        )?;
    }
    let start = Instant::now();
    for (job, input) in &jobs {
        client
            .wait(*job, Some(Duration::from_secs(120)))
            .await
            .ctx("wait")?;
        let out = client.result(*job).await.ctx("result")?;
        let mut expected = Blob::from_slice(input);
        rt.hash_raw(id, HashOp::Permute, &[], expected.as_bytes_mut())
            .ctx("local permute")?;
        ensure!(
            out.as_bytes() == expected.as_bytes(),
            "job {job}: wrong permutation"
        );
    }
    let elapsed = start.elapsed();
    let mut per_task: HashMap<String, usize> = HashMap::new();
    let mut per_worker: BTreeMap<String, usize> = BTreeMap::new();
    for l in ledger_lines(&w.ledger()) {
        if l.first().map(String::as_str) == Some("exec") && l.len() == 4 {
            *per_task.entry(l[1].clone()).or_default() += 1;
            *per_worker.entry(l[3].clone()).or_default() += 1;
        }
    }
    ensure!(
        per_task.len() == 120,
        "{} distinct tasks executed, expected 120",
        per_task.len()
    );
    let dup: Vec<_> = per_task.iter().filter(|(_, &n)| n != 1).collect();
    ensure!(dup.is_empty(), "tasks executed more than once: {dup:?}");
    let mut accepted = 0;
    for (job, _) in &jobs {
        for a in client.attempts(*job).await.ctx("attempts")? {
            ensure!(
                a.attempt == 1,
                "task {} needed attempt {}",
                a.task_id,
                a.attempt
            );
            accepted += (a.outcome.as_deref() == Some("accepted")) as usize;
        }
    }
    ensure!(
        accepted == 120,
        "{accepted} accepted attempts, expected 120"
    );
    ensure!(per_worker.len() >= 2, "only {per_worker:?} executed tasks");
    println!(
        "    120 tasks, 4 workers: each executed exactly once (ledger), 120 accepted attempts; \
         per worker {per_worker:?}; {:.2} s",
        elapsed.as_secs_f64()
    );
    w.stop_all()?;
    println!("    all workers and the coordinator exited cleanly on SIGTERM");
    Ok(())
}

/// A worker SIGKILLed while holding a lease: the lease expires, another worker finishes.
async fn sigkill_worker_task_finished_by_another(w: &mut World) -> TestResult {
    let client = w.client().await?;
    w.coordinator()?;
    let lease = ("ZKACCEL_TEST_LEASE_MS", "1500".to_string());
    let slow = w.spawn(
        "worker",
        "slow",
        &[lease.clone(), ("ZKACCEL_TEST_DELAY_MS", "600000".into())],
    )?;
    let mut rng = Rng(11);
    let (log_n, batch) = (12u32, 4usize);
    let input = babybear_bytes(&mut rng, (1 << log_n) * batch);
    let cfg = NttConfig {
        batch,
        ..NttConfig::default()
    };
    let job = client
        .submit_ntt(
            &NttJob {
                field: FieldId::BabyBear,
                log_n,
                root: None,
                steps: vec![cfg],
            },
            Input::Bytes(&input),
            &JobOptions::default(),
        )
        .await
        .ctx("submit")?;
    wait_until(
        "the slow worker to claim",
        Duration::from_secs(30),
        || async {
            let t = client.tasks(job).await.ctx("tasks")?;
            Ok(t[0].worker_id.as_deref() == Some("slow") && t[0].state.as_str() == "running")
        },
    )
    .await?;
    // Longer than the lease: heartbeats keep it alive.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let t = client.tasks(job).await.ctx("tasks")?;
    ensure!(
        t[0].state.as_str() == "running" && t[0].attempts == 1,
        "heartbeats did not keep the lease: {:?}",
        t[0]
    );
    w.procs[slow].child.kill().ctx("SIGKILL")?;
    let status = w.procs[slow].child.wait().ctx("wait")?;
    let killed = Instant::now();
    w.spawn("worker", "rescuer", &[lease])?;
    client
        .wait(job, Some(Duration::from_secs(60)))
        .await
        .ctx("wait")?;
    let recovered = killed.elapsed();
    let out = client.result(job).await.ctx("result")?;
    let mut expected = Blob::from_slice(&input);
    cpu_runtime()?
        .ntt_domain_raw(FieldId::BabyBear, log_n, None)
        .ctx("domain")?
        .run_raw(expected.as_bytes_mut(), &cfg)
        .ctx("local NTT")?;
    ensure!(out.as_bytes() == expected.as_bytes(), "wrong NTT result");
    let attempts = client.attempts(job).await.ctx("attempts")?;
    ensure!(attempts.len() == 2, "attempts {attempts:?}");
    ensure!(
        attempts[0].worker_id == "slow" && attempts[0].outcome.as_deref() == Some("lease_expired"),
        "first attempt {:?}",
        attempts[0]
    );
    ensure!(
        attempts[1].worker_id == "rescuer" && attempts[1].outcome.as_deref() == Some("accepted"),
        "second attempt {:?}",
        attempts[1]
    );
    println!(
        "    slow worker killed ({status}) holding the lease (kept alive by heartbeats for 2.5 s \
         > 1.5 s lease); attempt 1 lease_expired ({}), attempt 2 by 'rescuer' accepted, \
         {:.2} s after the kill; result equals the local NTT",
        attempts[0].error.as_deref().unwrap_or(""),
        recovered.as_secs_f64()
    );
    Ok(())
}

fn sha256_file(path: &Path) -> Result<(String, u64), String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ctx("open")?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).ctx("read")?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((format!("{:x}", h.finalize()), n))
}

/// 256 MB through the store (streamed both ways), then through two workers as the input of
/// a forward + inverse NTT job: byte-exact, with the client's peak memory measured.
async fn store_roundtrip_256mb(w: &mut World) -> TestResult {
    const LOG_N: u32 = 20;
    const BATCH: usize = 64; // 64 columns of 2^20 BabyBear elements: 256 MiB
    let client = w.client().await?;
    let src = w.dir.join("input.bin");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&src).ctx("create")?);
        let mut rng = Rng(3);
        for _ in 0..(BATCH << LOG_N) / (1 << 18) {
            f.write_all(&babybear_bytes(&mut rng, 1 << 18))
                .ctx("write")?;
        }
        f.flush().ctx("flush")?;
    }
    let (digest, size) = sha256_file(&src)?;
    ensure!(size == 256 << 20, "input is {size} bytes");
    reset_hwm();
    let hwm0 = vm_hwm_kb();
    let t = Instant::now();
    let store = client.store();
    let up = store
        .put_file("roundtrip/blob", &src)
        .await
        .ctx("put_file")?;
    let back = w.dir.join("back.bin");
    let down = store
        .get_to_file("roundtrip/blob", &back)
        .await
        .ctx("get_to_file")?;
    let (d2, _) = sha256_file(&back)?;
    ensure!(
        up == size && down == size && d2 == digest,
        "store round trip differs"
    );
    let store_s = t.elapsed().as_secs_f64();
    std::fs::remove_file(&back).ctx("rm")?;

    w.coordinator()?;
    w.spawn("worker", "w0", &[])?;
    w.spawn("worker", "w1", &[])?;
    let t = Instant::now();
    let fwd = NttConfig {
        batch: BATCH,
        ..NttConfig::default()
    };
    let inv = NttConfig {
        direction: NttDirection::Inverse,
        ..fwd
    };
    let job = client
        .submit_ntt(
            &NttJob {
                field: FieldId::BabyBear,
                log_n: LOG_N,
                root: None,
                steps: vec![fwd, inv],
            },
            Input::File(&src),
            &JobOptions::default(),
        )
        .await
        .ctx("submit")?;
    client
        .wait(job, Some(Duration::from_secs(300)))
        .await
        .ctx("wait")?;
    let out = w.dir.join("output.bin");
    client
        .result_to_file(job, &out)
        .await
        .ctx("result_to_file")?;
    let (d3, n3) = sha256_file(&out)?;
    ensure!(
        n3 == size && d3 == digest,
        "NTT round trip differs from the input"
    );
    let job_s = t.elapsed().as_secs_f64();
    let hwm1 = vm_hwm_kb();
    let tasks = client.tasks(job).await.ctx("tasks")?;
    let who: Vec<_> = tasks
        .iter()
        .map(|t| t.worker_id.clone().unwrap_or_default())
        .collect();
    if let (Some(a), Some(b)) = (hwm0, hwm1) {
        let grew = b.saturating_sub(a) / 1024;
        println!("    client peak RSS grew by {grew} MiB while moving 256 MiB four times");
        ensure!(
            grew < 128,
            "client peak RSS grew by {grew} MiB: blobs are not streamed"
        );
    }
    println!(
        "    256 MiB: store put+get byte-exact (sha256 {}…) in {store_s:.2} s; \
         forward+inverse NTT job (2 dependent tasks on {who:?}) returned the input byte-exact \
         in {job_s:.2} s",
        &digest[..16]
    );
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&out);
    Ok(())
}

/// BN254 G1, 2^15 points in 4 shards over 2 workers, equal to the single-machine MSM; bases
/// staged once per worker and shard across two jobs.
async fn sharded_msm_equals_single_machine(w: &mut World) -> TestResult {
    const N: usize = 1 << 15;
    let client = w.client().await?;
    let points = bases(N);
    let info = client
        .upload_srs_points("bn254-test", &points, N / 4)
        .await
        .ctx("upload SRS")?;
    ensure!(info.shards == 4, "{} shards", info.shards);
    let ledger = w.ledger().display().to_string();
    w.coordinator()?;
    w.spawn("worker", "w0", &[("ZKACCEL_TEST_LEDGER", ledger.clone())])?;
    w.spawn("worker", "w1", &[("ZKACCEL_TEST_LEDGER", ledger)])?;
    wait_until("two workers", Duration::from_secs(30), || async {
        Ok(client.workers().await.ctx("workers")?.len() == 2)
    })
    .await?;
    let rt = cpu_runtime()?;
    let mut rng = Rng(5);
    let mut checked = Vec::new();
    for (n, level) in [(N, Verification::Full), (N - 1000, Verification::Sampled)] {
        let scalars = random_scalars(&mut rng, n);
        let opts = JobOptions {
            verification: level,
            ..JobOptions::default()
        };
        let t = Instant::now();
        let job = client
            .submit_msm_scalars("bn254-test", &scalars, &opts)
            .await
            .ctx("submit")?;
        client
            .wait(job, Some(Duration::from_secs(120)))
            .await
            .ctx("wait")?;
        let cluster_s = t.elapsed().as_secs_f64();
        let got = client
            .msm_result(job)
            .await
            .ctx("result")?
            .to_projective::<Bn254G1>()
            .ctx("point")?;
        let t = Instant::now();
        let single = rt.msm(&points[..n], &scalars).ctx("single-machine MSM")?;
        let single_s = t.elapsed().as_secs_f64();
        ensure!(
            got == single,
            "sharded MSM of {n} points differs from Runtime::msm"
        );
        let tasks = client.tasks(job).await.ctx("tasks")?;
        let workers: Vec<_> = tasks
            .iter()
            .map(|t| format!("{}@{}", t.kind, t.worker_id.as_deref().unwrap_or("?")))
            .collect();
        checked.push(format!(
            "{n} points ({level}): equal to Runtime::msm; cluster {cluster_s:.2} s \
             (single machine {single_s:.2} s); tasks {workers:?}"
        ));
    }
    let mut staged: HashMap<(String, String), usize> = HashMap::new();
    let mut execs: BTreeMap<String, usize> = BTreeMap::new();
    for l in ledger_lines(&w.ledger()) {
        match l.first().map(String::as_str) {
            Some("stage") if l.len() == 3 => {
                *staged.entry((l[2].clone(), l[1].clone())).or_default() += 1
            }
            Some("exec") if l.len() == 4 => *execs.entry(l[3].clone()).or_default() += 1,
            _ => {}
        }
    }
    ensure!(
        staged.values().all(|&k| k == 1),
        "a shard was staged twice on one worker: {staged:?}"
    );
    ensure!(execs.len() == 2, "tasks ran on {execs:?}");
    for c in checked {
        println!("    {c}");
    }
    println!(
        "    8 shard tasks + 2 aggregations over 2 workers {execs:?}; {} (worker, shard) \
         stagings, none repeated: bases staged once per worker",
        staged.len()
    );
    Ok(())
}

/// A worker that corrupts its results: every one is rejected on arrival and redone by an
/// honest worker; the faulty worker is never given the same task again.
async fn faulty_worker_result_rejected_and_redone(w: &mut World) -> TestResult {
    const N: usize = 1 << 12;
    let client = w.client().await?;
    let points = bases(N);
    client
        .upload_srs_points("small", &points, N / 2)
        .await
        .ctx("upload SRS")?;
    w.coordinator()?;
    w.spawn("worker", "faulty", &[("ZKACCEL_TEST_CORRUPT", "1".into())])?;
    let mut rng = Rng(9);
    let scalars = random_scalars(&mut rng, N);
    let full = JobOptions {
        verification: Verification::Full,
        ..JobOptions::default()
    };
    let msm = client
        .submit_msm_scalars("small", &scalars, &full)
        .await
        .ctx("submit msm")?;
    let input = babybear_bytes(&mut rng, 1 << 10);
    let cfg = NttConfig::default();
    let ntt = client
        .submit_ntt(
            &NttJob {
                field: FieldId::BabyBear,
                log_n: 10,
                root: None,
                steps: vec![cfg],
            },
            Input::Bytes(&input),
            &JobOptions::default(),
        )
        .await
        .ctx("submit ntt")?;
    // The faulty worker alone: it gets every ready task once, and each result is rejected.
    wait_until("3 rejections", Duration::from_secs(60), || async {
        let mut rejected = 0;
        for j in [msm, ntt] {
            rejected += client
                .attempts(j)
                .await
                .ctx("attempts")?
                .iter()
                .filter(|a| a.outcome.as_deref() == Some("rejected"))
                .count();
        }
        Ok(rejected >= 3)
    })
    .await?;
    w.spawn("worker", "honest", &[])?;
    client
        .wait(msm, Some(Duration::from_secs(60)))
        .await
        .ctx("wait msm")?;
    client
        .wait(ntt, Some(Duration::from_secs(60)))
        .await
        .ctx("wait ntt")?;
    let got = client
        .msm_result(msm)
        .await
        .ctx("result")?
        .to_projective::<Bn254G1>()
        .ctx("point")?;
    let rt = cpu_runtime()?;
    ensure!(
        got == rt.msm(&points, &scalars).ctx("msm")?,
        "wrong MSM after redo"
    );
    let mut expected = Blob::from_slice(&input);
    rt.ntt_domain_raw(FieldId::BabyBear, 10, None)
        .ctx("domain")?
        .run_raw(expected.as_bytes_mut(), &cfg)
        .ctx("ntt")?;
    ensure!(
        client.result(ntt).await.ctx("result")?.as_bytes() == expected.as_bytes(),
        "wrong NTT after redo"
    );
    let mut rejected = Vec::new();
    let mut seen: HashMap<(i64, String), usize> = HashMap::new();
    for j in [msm, ntt] {
        for a in client.attempts(j).await.ctx("attempts")? {
            *seen.entry((a.task_id, a.worker_id.clone())).or_default() += 1;
            match a.worker_id.as_str() {
                "faulty" => {
                    ensure!(
                        a.outcome.as_deref() == Some("rejected"),
                        "a faulty result was not rejected: {a:?}"
                    );
                    rejected.push(a.error.unwrap_or_default());
                }
                _ => ensure!(
                    a.outcome.as_deref() == Some("accepted"),
                    "honest attempt {a:?}"
                ),
            }
        }
    }
    ensure!(
        seen.iter().all(|((_, w), &k)| w != "faulty" || k == 1),
        "the faulty worker got a task twice: {seen:?}"
    );
    println!(
        "    {} results of the faulty worker rejected on arrival and redone by 'honest'; \
         MSM (Full) and NTT (Sampled) results correct. e.g. \"{}\"",
        rejected.len(),
        rejected.first().map(String::as_str).unwrap_or("")
    );
    Ok(())
}

/// A task that fails on every attempt: after `max_attempts` the job is failed with its error.
async fn failure_past_max_attempts_fails_job(w: &mut World) -> TestResult {
    let client = w.client().await?;
    w.coordinator()?;
    w.spawn("worker", "w0", &[])?;
    w.spawn("worker", "w1", &[])?;
    let mut input = babybear_bytes(&mut Rng(1), 1 << 8);
    // Element 5 is not below the BabyBear modulus: every worker's runtime refuses it.
    input[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    let opts = JobOptions {
        max_attempts: 2,
        ..JobOptions::default()
    };
    let job = client
        .submit_ntt(
            &NttJob {
                field: FieldId::BabyBear,
                log_n: 8,
                root: None,
                steps: vec![NttConfig::default()],
            },
            Input::Bytes(&input),
            &opts,
        )
        .await
        .ctx("submit")?;
    let err = match client.wait(job, Some(Duration::from_secs(60))).await {
        Err(ClusterError::JobFailed { error, .. }) => error,
        other => return Err(format!("expected a failed job, got {other:?}")),
    };
    ensure!(err.contains("element 5"), "job error: {err}");
    let tasks = client.tasks(job).await.ctx("tasks")?;
    ensure!(
        tasks[0].state.as_str() == "failed" && tasks[0].attempts == 2,
        "task {:?}",
        tasks[0]
    );
    let status = client.job(job).await.ctx("job")?;
    ensure!(status.state.as_str() == "failed", "job {status:?}");
    println!("    job failed after 2 attempts with: {err}");
    Ok(())
}

// ------------------------------------------------------------------------------------------

type Scenario = for<'a> fn(
    &'a mut World,
)
    -> std::pin::Pin<Box<dyn std::future::Future<Output = TestResult> + 'a>>;

macro_rules! scenario {
    ($f:ident) => {{
        fn wrap(
            w: &mut World,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = TestResult> + '_>> {
            Box::pin($f(w))
        }
        (stringify!($f), wrap as Scenario)
    }};
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        role_main(&role);
        return;
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let scenarios: Vec<(&str, Scenario)> = vec![
        scenario!(claims_exactly_once),
        scenario!(sigkill_worker_task_finished_by_another),
        scenario!(sharded_msm_equals_single_machine),
        scenario!(faulty_worker_result_rejected_and_redone),
        scenario!(failure_past_max_attempts_fails_job),
        scenario!(store_roundtrip_256mb),
    ];
    let chosen: Vec<_> = scenarios
        .into_iter()
        .filter(|(n, _)| filters.is_empty() || filters.iter().any(|f| n.contains(f.as_str())))
        .collect();
    if chosen.is_empty() {
        println!("no scenario matches {filters:?}");
        return;
    }
    let pg = match TestPostgres::start_or_skip("zkaccel-cluster tests") {
        Ok(Some(pg)) => pg,
        Ok(None) => return,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let root = std::env::temp_dir().join(format!("zkaccel-cluster-test-{}", std::process::id()));
    let tokio = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tokio: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "\nrunning {} cluster scenarios (PostgreSQL on 127.0.0.1:{})",
        chosen.len(),
        pg.port()
    );
    let total = Instant::now();
    let mut failed = Vec::new();
    for (i, (name, f)) in chosen.iter().enumerate() {
        let start = Instant::now();
        println!("test {name} ...");
        let r = World::new(&pg, &root, &format!("s{i}")).and_then(|mut w| {
            let r = tokio.block_on(f(&mut w));
            if r.is_err() {
                eprintln!("{}", w.logs());
            }
            r
        });
        match r {
            Ok(()) => println!(
                "test {name} ... ok ({:.1} s)",
                start.elapsed().as_secs_f64()
            ),
            Err(e) => {
                println!(
                    "test {name} ... FAILED ({:.1} s): {e}",
                    start.elapsed().as_secs_f64()
                );
                failed.push(*name);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    println!(
        "\ntest result: {}. {} passed; {} failed; finished in {:.1} s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len(),
        total.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        eprintln!("server log tail:\n{}", tail(&pg.log(), 20));
        drop(pg);
        std::process::exit(1);
    }
}

fn tail(s: &str, n: usize) -> String {
    let l: Vec<&str> = s.lines().collect();
    l[l.len().saturating_sub(n)..].join("\n")
}
