//! BENCHMARKS.md from the rows of one `benches/run`: the table, the machine, how to run.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::measure::Row;

pub fn append(results: &Path, rows: &[Row]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(results)
        .expect("the results file");
    for row in rows {
        eprintln!(
            "  {:<60} {:>10.3} {}  {}",
            row.what,
            row.median,
            row.unit,
            match row.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "",
            }
        );
        writeln!(f, "{}", serde_json::to_string(row).unwrap()).unwrap();
    }
}

fn read_rows(results: &Path) -> Vec<Row> {
    std::fs::read_to_string(results)
        .unwrap_or_else(|e| panic!("{}: {e}", results.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a result row"))
        .collect()
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn proc_field(file: &str, key: &str) -> String {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The machine, as far as it matters for these numbers.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "- CPU: {} ({cores} logical cores available)\n- memory: {}\n- kernel: {}\n- {}\n- load average when the run started: {}\n",
        proc_field("/proc/cpuinfo", "model name"),
        proc_field("/proc/meminfo", "MemTotal"),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
        first_line("rustc", &["--version"]),
        std::env::var("SBK_BENCH_LOAD").unwrap_or_else(|_| "unknown".into()),
    )
}

fn number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

pub fn render(results: &Path, analysis: &Path, out: &Path) {
    let rows = read_rows(results);
    let mut md = String::new();
    let commit = first_line("git", &["rev-parse", "--short", "HEAD"]);
    let _ = writeln!(
        md,
        "# Benchmarks\n\n\
         <!-- Written by benches/run; do not edit by hand (edit benches/analysis.md, then run it again). -->\n\n\
         Every performance target of sbk beside a baseline measured in the same run, on the same\n\
         machine, alternating with it so that both see the same noise. Regenerate with:\n\n\
         ```sh\nbenches/run\n```\n\n\
         It installs ImageMagick and libvips from Debian's packages if they are missing, builds in\n\
         release mode, prepares a store of 100,000 synthetic applications (encrypted, as sbk\n\
         keeps it, and once more as a plain SQLite file for what encryption costs) and a\n\
         4000×3000 JPEG, and writes this file. About 20 minutes.\n\
         `SBK_BENCH_APPS` changes the store size; `SBK_BENCH_QUICK=1` makes a short smoke run.\n\n\
         Run at {} UTC on commit `{commit}`{}.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        if std::env::var("SBK_BENCH_QUICK").is_ok_and(|v| v == "1") {
            " — **a quick smoke run: reduced sizes, not the targets' conditions**"
        } else {
            ""
        },
    );
    let _ = writeln!(md, "## Machine\n\n{}", machine());
    let missed = rows.iter().filter(|r| r.met == Some(false)).count();
    let with_target = rows.iter().filter(|r| r.met.is_some()).count();
    let _ = writeln!(
        md,
        "## Results\n\n{} of {with_target} targets met{}.\n\n\
         Times are medians and 99th percentiles of single operations (single process starts for\n\
         start-up and photo fix); the ratio is the median over the baseline's median (for a rate,\n\
         our rate over the baseline's). Interactive bounds (draw, search) are judged on the p99.\n",
        with_target - missed,
        if missed > 0 {
            "; the misses are explained under Analysis"
        } else {
            ""
        }
    );
    let _ = writeln!(
        md,
        "| | measured | median | p99 | baseline | baseline median | ratio | target | met |\n|---|---|---|---|---|---|---|---|---|"
    );
    for r in &rows {
        let unit = &r.unit;
        let (bw, bm) = match &r.baseline {
            Some(b) => (b.what.clone(), format!("{} {unit}", number(b.median))),
            None => ("—".into(), "—".into()),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} {unit} | {} | {bw} | {bm} | {} | {} | {} |",
            r.section,
            r.what,
            number(r.median),
            r.p99
                .map_or("—".into(), |p| format!("{} {unit}", number(p))),
            r.ratio.map_or("—".into(), |x| format!("{x:.2}×")),
            if r.target.is_empty() {
                "—"
            } else {
                &r.target
            },
            match r.met {
                Some(true) => "✅ met",
                Some(false) => "❌ **missed**",
                None => "—",
            }
        );
    }
    if let Ok(text) = std::fs::read_to_string(analysis) {
        let _ = writeln!(md, "\n{}", text.trim_end());
    }
    std::fs::write(out, md).expect("BENCHMARKS.md written");
    eprintln!("wrote {} ({} rows)", out.display(), rows.len());
}
