//! Golden test: the fragments `testdata/*-*.config`, merged in name order,
//! checked against `testdata/merged.config` into `testdata/unsatisfied.expected`.
//!
//! Rewrite the expected file with `UPDATE_GOLDEN=1 cargo test -p kconfig`,
//! then review the diff.

use kconfig::{conflicts, parse, parse_config, unsatisfied};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Compares `actual` with `testdata/<golden>` (rewritten when `UPDATE_GOLDEN=1`).
fn check(golden: &str, actual: &str) {
    testkit::golden(&testdata().join(golden), actual);
}

#[test]
fn fragments_against_merged_config() {
    let mut names: Vec<String> = std::fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".config") && n != "merged.config")
        .collect();
    names.sort();
    let mut out = String::new();
    let mut fragments = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(testdata().join(name)).unwrap();
        let (fragment, diags) = parse(name, &text);
        for d in diags {
            writeln!(out, "{name}: {d}").unwrap();
        }
        fragments.push(fragment);
    }
    let merged = parse_config(&std::fs::read_to_string(testdata().join("merged.config")).unwrap());
    for u in unsatisfied(&fragments, &merged) {
        writeln!(out, "{u}").unwrap();
    }
    for c in conflicts(&fragments) {
        writeln!(out, "conflict: {c}").unwrap();
    }
    check("unsatisfied.expected", &out);
}
