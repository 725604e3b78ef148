//! Golden tests: saved console logs in `testdata/*.log`, each judged into
//! the `.expected` file next to it.
//!
//! Rewrite the expected files with `UPDATE_GOLDEN=1 cargo test -p ktap`, then
//! review the diff.

use ktap::{parse, Verdict};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Compares `actual` with the file at `path` (rewritten when `UPDATE_GOLDEN=1`);
/// returns the failure message, if any.
fn check(path: &Path, actual: &str) -> Option<String> {
    testkit::golden_diff(path, actual)
}

/// Everything the harness shows for one log, plus what the parser noticed.
fn judge(log: &str) -> String {
    let report = parse(log);
    let mut out = report.render_results();
    writeln!(out, "{}", report.summary()).unwrap();
    match report.verdict() {
        Verdict::Pass => writeln!(out, "verdict: pass").unwrap(),
        Verdict::Fail(_) => writeln!(out, "verdict: fail").unwrap(),
    }
    for r in &report.kernel_reports {
        writeln!(out, "kernel report {r}").unwrap();
    }
    for d in &report.diagnostics {
        writeln!(out, "diagnostic {d}").unwrap();
    }
    out
}

#[test]
fn saved_logs() {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    assert!(!logs.is_empty(), "no logs in {}", testdata().display());
    let failures: Vec<String> = logs
        .iter()
        .filter_map(|log| {
            let text = std::fs::read_to_string(log).unwrap();
            check(&log.with_extension("expected"), &judge(&text))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
