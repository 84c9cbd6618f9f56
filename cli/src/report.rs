//! What `zkaccel bench` writes besides its table: CSV, log-log plots (SVG and PNG), and the
//! comparison of two JSON reports (`zkaccel bench compare OLD.json NEW.json`).
//!
//! The JSON report (schema `zkaccel-bench/1`) is the reference form; the CSV has one row per
//! (case, runner) with the same numbers, and the plots draw the medians of the same rows, so
//! the three always agree.
//!
//! JSON schema `zkaccel-bench/1` (an object):
//! - `schema`: `"zkaccel-bench/1"`;
//! - `host`: CPU model and hardware threads; `threads`: worker threads of the run;
//! - `machine`: the devices (`kind`, `name`, `driver`, `compute_units`, `memory_bytes`,
//!   `clock_mhz` (`null` when unknown), `simulated`);
//! - `results`: one object per case: `op` (`msm`, `ntt`, `hash`), `target` (curve group;
//!   field, followed by ` inverse` or ` batchW` for those NTT kinds; hash instance, with the
//!   thread label for hashing), `log_n` (for a batch, of all its elements), `threads`,
//!   `note` (unit and conditions), `speedup_vs_peer` (best peer median / our best median,
//!   `null` without peers) and `entries`: one per runner with `runner` (`zkaccel:<kind>`,
//!   `zkaccel:<kind> (bases resident)` for an accelerator's MSM without the bases' upload,
//!   or the peer's name), `device`, `timing` (`median_ms`, `min_ms`, `max_ms`, `reps`,
//!   `peak_extra_mib`: Rust-heap peak beyond the inputs), `throughput_m_per_s` (millions of
//!   points, elements, hashes or leaves per second, see `note`) and `verified` (result
//!   equal to the first runner's);
//! - `fpga` (only with `--backend fpga`): the FPGA engine's rows (cycles, utilisation,
//!   stalls, labelled projection).

use crate::bench::CaseResult;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The CSV header; one row per (case, runner).
const CSV_HEADER: &str = "op,target,log_n,threads,runner,device,median_ms,min_ms,max_ms,reps,\
                          throughput_m_per_s,verified,speedup_vs_peer,peak_extra_mib";

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The results as CSV text.
pub fn csv(results: &[CaseResult]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for r in results {
        for e in &r.entries {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.1}",
                r.op,
                csv_field(&r.target),
                r.log_n,
                r.threads,
                csv_field(&e.runner),
                csv_field(&e.device),
                e.timing.median_ms,
                e.timing.min_ms,
                e.timing.max_ms,
                e.timing.reps,
                e.throughput_m_per_s,
                e.verified,
                r.speedup_vs_peer.map(|s| s.to_string()).unwrap_or_default(),
                e.timing.peak_extra_mib
            );
        }
    }
    out
}

/// Writes `text` to `path`, or to standard output when `path` is `-`.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    if path.as_os_str() == "-" {
        print!("{text}");
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// One plot: the cases of one (op, target), a line per runner through its medians.
struct Plot {
    title: String,
    /// Runner -> (log_n, median ms), in size order.
    lines: BTreeMap<String, Vec<(u32, f64)>>,
}

fn plots(results: &[CaseResult]) -> Vec<Plot> {
    let mut by: BTreeMap<(String, String), Plot> = BTreeMap::new();
    for r in results {
        let p = by
            .entry((r.op.clone(), r.target.clone()))
            .or_insert_with(|| Plot {
                title: format!("{} {}", r.op, r.target),
                lines: BTreeMap::new(),
            });
        for e in &r.entries {
            p.lines
                .entry(e.runner.clone())
                .or_default()
                .push((r.log_n, e.timing.median_ms));
        }
    }
    let mut v: Vec<Plot> = by.into_values().collect();
    for p in &mut v {
        for l in p.lines.values_mut() {
            l.sort_by_key(|&(k, _)| k);
        }
    }
    v
}

/// A file name from a plot title.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Escapes text for SVG.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A log-log SVG: x is log2 of the size, y the median time on a log10 scale.
fn svg(p: &Plot) -> String {
    let (w, h) = (760.0, 480.0);
    let (l, r, t, b) = (70.0, 230.0, 40.0, 50.0);
    let pts = p.lines.values().flatten();
    let xmin = pts.clone().map(|&(k, _)| k).min().unwrap_or(0) as f64;
    let xmax = (pts.clone().map(|&(k, _)| k).max().unwrap_or(1) as f64).max(xmin + 1.0);
    let ys = pts.map(|&(_, ms)| ms.max(1e-6).log10());
    let ymin = ys.clone().fold(f64::INFINITY, f64::min).floor();
    let ymax = ys.fold(f64::NEG_INFINITY, f64::max).ceil().max(ymin + 1.0);
    let x = |k: f64| l + (k - xmin) / (xmax - xmin) * (w - l - r);
    let y = |v: f64| h - b - (v - ymin) / (ymax - ymin) * (h - t - b);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">{}</text>\n",
        (l + w - r) / 2.0,
        xml(&p.title)
    );
    // Grid and axis labels: every size, every power of ten.
    for k in xmin as u32..=xmax as u32 {
        let xx = x(k as f64);
        let _ = writeln!(
            s,
            "<line x1=\"{xx:.1}\" y1=\"{t}\" x2=\"{xx:.1}\" y2=\"{}\" stroke=\"#ddd\"/>\
             <text x=\"{xx:.1}\" y=\"{}\" text-anchor=\"middle\">2^{k}</text>",
            h - b,
            h - b + 18.0
        );
    }
    for e in ymin as i32..=ymax as i32 {
        let yy = y(e as f64);
        let label = match e {
            e if e >= 3 => format!("{} s", 10f64.powi(e - 3)),
            e if e >= 0 => format!("{} ms", 10f64.powi(e)),
            e if e >= -3 => format!("{} µs", 10f64.powi(e + 3)),
            e => format!("1e{e} ms"),
        };
        let _ = writeln!(
            s,
            "<line x1=\"{l}\" y1=\"{yy:.1}\" x2=\"{}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            w - r,
            l - 6.0,
            yy + 4.0
        );
    }
    let _ = writeln!(
        s,
        "<rect x=\"{l}\" y=\"{t}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">size (log2)</text>\n\
         <text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">\
         median time</text>",
        w - l - r,
        h - t - b,
        (l + w - r) / 2.0,
        h - 10.0,
        (t + h - b) / 2.0,
        (t + h - b) / 2.0
    );
    for (i, (runner, line)) in p.lines.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let path: Vec<String> = line
            .iter()
            .map(|&(k, ms)| format!("{:.1},{:.1}", x(k as f64), y(ms.max(1e-6).log10())))
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>",
            path.join(" ")
        );
        for pt in &path {
            let (px, py) = pt.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{c}\"/>");
        }
        let ly = t + 10.0 + 18.0 * i as f64;
        let lx = w - r + 12.0;
        let _ = writeln!(
            s,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{c}\" stroke-width=\"2\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            lx + 18.0,
            lx + 24.0,
            ly + 4.0,
            xml(runner)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// `svg` without its `<text>` elements.
fn without_text(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        out.push_str(&rest[..i]);
        rest = match rest[i..].find("</text>") {
            Some(j) => &rest[i + j + "</text>".len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Rasterises an SVG to PNG with the system's fonts for the labels. Without any font (a
/// bare container) the lines, points and grid are still drawn, and `fonts` is false.
fn png(svg: &str) -> Result<(Vec<u8>, bool)> {
    use resvg::{tiny_skia, usvg};
    let mut opt = usvg::Options::default();
    let db = opt.fontdb_mut();
    db.load_system_fonts();
    // The plots ask for the generic `sans-serif`: map it to a font that exists (fontdb's
    // default names a font a Linux machine rarely has).
    let family = db
        .faces()
        .find_map(|f| f.families.first().map(|(name, _)| name.clone()));
    if let Some(name) = &family {
        db.set_sans_serif_family(name.as_str());
    }
    let fonts = family.is_some();
    let svg = if fonts {
        svg.to_string()
    } else {
        without_text(svg)
    };
    let tree = usvg::Tree::from_str(&svg, &opt).context("parsing the plot")?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).context("allocating the PNG canvas")?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    Ok((pixmap.encode_png().context("encoding the PNG")?, fonts))
}

/// Writes one SVG and one PNG per (op, target) into `dir`; returns the files written.
pub fn write_plots(dir: &Path, results: &[CaseResult]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let mut unlabelled = false;
    for p in plots(results) {
        let name = slug(&p.title);
        let text = svg(&p);
        let sp = dir.join(format!("{name}.svg"));
        std::fs::write(&sp, &text).with_context(|| format!("writing {}", sp.display()))?;
        let pp = dir.join(format!("{name}.png"));
        let (image, fonts) = png(&text)?;
        unlabelled |= !fonts;
        std::fs::write(&pp, image).with_context(|| format!("writing {}", pp.display()))?;
        written.push(sp);
        written.push(pp);
    }
    if unlabelled {
        eprintln!(
            "note: no system font found: the PNG plots have no labels (the SVGs do); install \
             one, e.g. Debian's fonts-dejavu-core"
        );
    }
    Ok(written)
}

/// Median times of a JSON report by (op, target, 2^log_n, runner).
fn medians(doc: &serde_json::Value, what: &Path) -> Result<BTreeMap<String, f64>> {
    if doc["schema"] != "zkaccel-bench/1" {
        bail!(
            "{} is not a zkaccel-bench/1 report (schema {})",
            what.display(),
            doc["schema"]
        );
    }
    let mut out = BTreeMap::new();
    for r in doc["results"].as_array().into_iter().flatten() {
        for e in r["entries"].as_array().into_iter().flatten() {
            let key = format!(
                "{} {} 2^{} {}",
                r["op"].as_str().unwrap_or("?"),
                r["target"].as_str().unwrap_or("?"),
                r["log_n"],
                e["runner"].as_str().unwrap_or("?")
            );
            if let Some(ms) = e["timing"]["median_ms"].as_f64() {
                out.insert(key, ms);
            }
        }
    }
    Ok(out)
}

/// One row of a comparison.
#[derive(Debug, PartialEq)]
pub struct Change {
    /// `op target 2^log_n runner`.
    pub key: String,
    /// Old median, ms.
    pub old_ms: f64,
    /// New median, ms.
    pub new_ms: f64,
    /// True when `new / old` exceeds `1 + threshold`.
    pub regression: bool,
}

/// Compares two reports: every (case, runner) present in both, new median over old.
pub fn compare_docs(
    old: &serde_json::Value,
    new: &serde_json::Value,
    threshold_pct: f64,
) -> Result<Vec<Change>> {
    let a = medians(old, Path::new("OLD"))?;
    let b = medians(new, Path::new("NEW"))?;
    Ok(a.iter()
        .filter_map(|(k, &o)| {
            let &n = b.get(k)?;
            Some(Change {
                key: k.clone(),
                old_ms: o,
                new_ms: n,
                regression: o > 0.0 && n / o > 1.0 + threshold_pct / 100.0,
            })
        })
        .collect())
}

/// `zkaccel bench compare OLD.json NEW.json`: prints the ratios; an error when a median got
/// slower by more than `threshold_pct` percent (so scripts can gate on it).
pub fn compare(old: &Path, new: &Path, threshold_pct: f64) -> Result<()> {
    let read = |p: &Path| -> Result<serde_json::Value> {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
    };
    let (a, b) = (read(old)?, read(new)?);
    medians(&a, old)?;
    medians(&b, new)?;
    let changes = compare_docs(&a, &b, threshold_pct)?;
    if changes.is_empty() {
        bail!("the two reports have no (case, runner) in common");
    }
    let kw = changes.iter().map(|c| c.key.len()).max().unwrap_or(0);
    println!(
        "{:<kw$} {:>11} {:>11} {:>8}",
        "case and runner", "old ms", "new ms", "new/old"
    );
    for c in &changes {
        println!(
            "{:<kw$} {:>11.3} {:>11.3} {:>7.2}×{}",
            c.key,
            c.old_ms,
            c.new_ms,
            c.new_ms / c.old_ms,
            if c.regression { "  REGRESSION" } else { "" }
        );
    }
    let n = changes.iter().filter(|c| c.regression).count();
    if n > 0 {
        bail!(
            "{n} of {} medians slower by more than {threshold_pct}%",
            changes.len()
        );
    }
    println!(
        "no median slower by more than {threshold_pct}% ({} compared)",
        changes.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{Entry, Timing};

    fn case(log_n: u32, ours: f64, peer: f64) -> CaseResult {
        let e = |runner: &str, ms: f64| Entry {
            runner: runner.into(),
            device: "cpu, with \"quotes\"".into(),
            timing: Timing {
                median_ms: ms,
                min_ms: ms * 0.9,
                max_ms: ms * 1.1,
                reps: 5,
                peak_extra_mib: 1.0,
            },
            throughput_m_per_s: (1u64 << log_n) as f64 / (ms * 1e3),
            verified: true,
        };
        CaseResult {
            op: "msm".into(),
            target: "bn254-g1".into(),
            log_n,
            threads: 2,
            note: "points/s".into(),
            entries: vec![e("zkaccel:cpu", ours), e("arkworks 0.5", peer)],
            speedup_vs_peer: Some(peer / ours),
            cpu_scaling: None,
        }
    }

    fn doc(results: &[CaseResult]) -> serde_json::Value {
        serde_json::json!({ "schema": "zkaccel-bench/1", "results": results })
    }

    #[test]
    fn compare_flags_a_planted_slowdown() {
        let old = vec![case(12, 10.0, 30.0), case(14, 40.0, 120.0)];
        // 20% slower at 2^14 for us, 5% slower at 2^12 (within the threshold).
        let new = vec![case(12, 10.5, 30.0), case(14, 48.0, 120.0)];
        let ch = compare_docs(&doc(&old), &doc(&new), 10.0).unwrap();
        assert_eq!(ch.len(), 4);
        let flagged: Vec<&str> = ch
            .iter()
            .filter(|c| c.regression)
            .map(|c| c.key.as_str())
            .collect();
        assert_eq!(flagged, vec!["msm bn254-g1 2^14 zkaccel:cpu"]);
        // The same through files, as the command runs it: an error naming the count.
        let dir = std::env::temp_dir().join(format!("zkaccel-compare-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("old.json"), dir.join("new.json"));
        std::fs::write(&a, doc(&old).to_string()).unwrap();
        std::fs::write(&b, doc(&new).to_string()).unwrap();
        let e = compare(&a, &b, 10.0).unwrap_err().to_string();
        assert!(e.contains("1 of 4 medians slower by more than 10%"), "{e}");
        assert!(compare(&a, &a, 10.0).is_ok());
        std::fs::write(&b, "{\"schema\": \"other\"}").unwrap();
        assert!(compare(&a, &b, 10.0).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn csv_and_plots_carry_the_same_numbers() {
        let r = vec![case(12, 10.0, 30.0), case(14, 40.0, 120.0)];
        let text = csv(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines.len(), 5);
        assert!(
            lines[1].starts_with("msm,bn254-g1,12,2,zkaccel:cpu,\"cpu, with \"\"quotes\"\"\",10,")
        );
        let p = plots(&r);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].lines["zkaccel:cpu"], vec![(12, 10.0), (14, 40.0)]);
        let s = svg(&p[0]);
        assert!(s.contains("<polyline") && s.contains("arkworks 0.5"));
        let bare = without_text(&s);
        assert!(
            !bare.contains("<text") && !bare.contains("arkworks") && bare.contains("<polyline")
        );
        let dir = std::env::temp_dir().join(format!("zkaccel-plots-{}", std::process::id()));
        let files = write_plots(&dir, &r).unwrap();
        assert_eq!(files.len(), 2);
        let png = std::fs::read(&files[1]).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
