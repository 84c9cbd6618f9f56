//! The real `zkaccel` binary as a fleet: `zkaccel coordinator`, two `zkaccel worker`
//! processes, `zkaccel submit … --wait --out` and `zkaccel status --json`, against a
//! throwaway PostgreSQL server (skipped loudly without PostgreSQL unless `ZKACCEL_REQUIRE`
//! lists `postgres` or `CI=true`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zkaccel::{DeviceKind, HashId, HashOp, Policy, Runtime};
use zkaccel_cluster::testpg::TestPostgres;

struct Kill(Vec<Child>);
impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn zkaccel(db: &str, store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zkaccel"));
    c.env("ZKACCEL_DATABASE_URL", db)
        .env("ZKACCEL_STORE", store)
        .env("ZKACCEL_LOG", "info");
    c
}

#[test]
fn cluster_cli_end_to_end() {
    let pg = match TestPostgres::start_or_skip("cluster_cli_end_to_end") {
        Ok(Some(pg)) => pg,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let db = pg.create_database("cli").expect("createdb");
    let dir = std::env::temp_dir().join(format!("zkaccel-cli-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("store");
    let log = |name: &str| std::fs::File::create(dir.join(name)).expect("log file");

    let mut procs = Kill(Vec::new());
    procs.0.push(
        zkaccel(&db, &store)
            .args(["coordinator", "--poll-ms", "100"])
            .stdout(Stdio::null())
            .stderr(log("coordinator.log"))
            .spawn()
            .expect("coordinator"),
    );
    for k in 0..2 {
        procs.0.push(
            zkaccel(&db, &store)
                .args(["worker", "--policy", "only:cpu", "--poll-ms", "100"])
                .args(["--id", &format!("cli-w{k}")])
                .stdout(Stdio::null())
                .stderr(log(&format!("w{k}.log")))
                .spawn()
                .expect("worker"),
        );
    }

    // 32 Poseidon2 BabyBear states of 16 elements (small values are reduced elements).
    let input: Vec<u8> = (0..32 * 16u32)
        .flat_map(|i| (i * 7919).to_le_bytes())
        .collect();
    let inp = dir.join("states.bin");
    let out = dir.join("permuted.bin");
    std::fs::write(&inp, &input).expect("input");
    let r = zkaccel(&db, &store)
        .args([
            "submit",
            "hash",
            "--hash",
            "poseidon2-plonky3-babybear-t16",
            "--op",
            "permute",
        ])
        .arg("--input")
        .arg(&inp)
        .args(["--wait", "--timeout-secs", "120", "--out"])
        .arg(&out)
        .output()
        .expect("submit");
    assert!(
        r.status.success(),
        "submit failed: {}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("job 1"), "{stdout}");

    let id: HashId = "poseidon2-plonky3-babybear-t16".parse().expect("hash id");
    let rt = Runtime::builder()
        .policy(Policy::Only(DeviceKind::Cpu))
        .build()
        .expect("runtime");
    let mut expected: Vec<zkaccel::BabyBear> = vec![Default::default(); input.len() / 4];
    bytemuck::cast_slice_mut::<_, u8>(&mut expected).copy_from_slice(&input);
    rt.hash_raw(
        id,
        HashOp::Permute,
        &[],
        bytemuck::cast_slice_mut(&mut expected),
    )
    .expect("local permute");
    assert_eq!(
        std::fs::read(&out).expect("output"),
        bytemuck::cast_slice::<_, u8>(&expected),
        "the fleet's permutation differs from the local one"
    );

    let r = zkaccel(&db, &store)
        .args(["status", "1", "--json"])
        .output()
        .expect("status");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("status JSON");
    assert_eq!(v["job"]["state"], "done", "{v}");
    assert_eq!(v["tasks"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["attempts"][0]["outcome"], "accepted", "{v}");

    let start = Instant::now();
    let r = loop {
        let r = zkaccel(&db, &store)
            .args(["status", "--json"])
            .output()
            .expect("status");
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("status JSON");
        if v["workers"].as_array().map(Vec::len) == Some(2)
            || start.elapsed() > Duration::from_secs(30)
        {
            break v;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(r["workers"].as_array().map(Vec::len), Some(2), "{r}");

    // Graceful stop on SIGTERM.
    for c in &mut procs.0 {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
    }
    for c in &mut procs.0 {
        let start = Instant::now();
        loop {
            if let Some(s) = c.try_wait().expect("wait") {
                assert!(s.success(), "exit status {s} after SIGTERM");
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}
