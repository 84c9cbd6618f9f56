//! `zkaccel bench` end to end on the CPU: one run writes the table, the JSON report, the CSV
//! and the plots, with every peer, and they agree.

use std::process::Command;

fn zkaccel(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zkaccel"))
        .args(args)
        .output()
        .expect("the zkaccel binary runs")
}

#[test]
fn one_run_writes_table_json_csv_and_plots_that_agree() {
    let dir = std::env::temp_dir().join(format!("zkaccel-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("report.json");
    let csv = dir.join("report.csv");
    let plots = dir.join("plots");
    let out = zkaccel(&[
        "bench",
        "--backend",
        "cpu",
        "--ops",
        "msm,ntt",
        "--curves",
        "bn254-g1,bls12-381-g1,bls12-381-g2",
        "--msm-sizes",
        "6..7",
        "--fields",
        "bn254-fr,babybear",
        "--ntt-sizes",
        "8",
        "--reps",
        "1",
        "--scaling",
        "--json-out",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--plot",
        plots.to_str().unwrap(),
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!table.contains("MISMATCH"), "{table}");

    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema"], "zkaccel-bench/1");
    let results = doc["results"].as_array().unwrap();
    // 3 curve groups × 2 sizes + 2 fields × (forward, inverse, batch16).
    assert_eq!(results.len(), 3 * 2 + 2 * 3);
    let runners = |target: &str| -> Vec<String> {
        let case = results
            .iter()
            .find(|r| r["target"] == target)
            .unwrap_or_else(|| panic!("no case {target}"));
        case["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["runner"].as_str().unwrap().to_string())
            .collect()
    };
    let bn = runners("bn254-g1");
    for want in [
        "zkaccel:cpu",
        "zkaccel:cpu 1T",
        "arkworks 0.5",
        "halo2curves 0.10",
    ] {
        assert!(bn.iter().any(|r| r.starts_with(want)), "{want} in {bn:?}");
    }
    let g2 = runners("bls12-381-g2");
    assert!(g2.iter().any(|r| r.starts_with("blst")), "{g2:?}");
    assert!(runners("bn254-fr inverse").contains(&"ark-poly 0.5".to_string()));
    assert!(runners("babybear batch16")
        .iter()
        .any(|r| r.starts_with("Plonky3")));

    let mut entries = 0;
    for r in results {
        assert!(r["speedup_vs_peer"].as_f64().unwrap() > 0.0);
        assert!(r["cpu_scaling"].as_f64().unwrap() > 0.0);
        for e in r["entries"].as_array().unwrap() {
            entries += 1;
            assert_eq!(e["verified"], true, "{e}");
            assert!(e["timing"]["peak_extra_mib"].as_f64().unwrap() >= 0.0);
            // The table shows the same median (3 decimals).
            let median = e["timing"]["median_ms"].as_f64().unwrap();
            assert!(
                table.contains(&format!("{median:.3}")),
                "{median} in the table"
            );
        }
    }
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        csv_text.lines().count(),
        entries + 1,
        "one CSV row per entry"
    );
    let svgs = std::fs::read_dir(&plots)
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|e| e == "svg")
        })
        .count();
    assert!(svgs >= 5, "a plot per curve group and NTT kind");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_sizes_are_refused_with_a_message() {
    for bad in ["7..3", "x", "99"] {
        let out = zkaccel(&["bench", "--backend", "cpu", "--msm-sizes", bad]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("msm-sizes"), "{err}");
    }
}
