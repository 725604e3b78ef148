//! Golden tests: real tails of each table format from the 6.1, 6.12 and 7.3
//! trees in `testdata/<base>/<path with / as __>.in`, generated with the real
//! `kernel-syscalls.toml`, next to them as `.out`.
//!
//! Rewrite the `.out` files with `UPDATE_GOLDEN=1 cargo test -p syscalls`,
//! then review the diff. Running `generate` and `layout_drift` over the full
//! kernel trees is a check for `xtask`: tests may not depend on a checkout.

use std::path::{Path, PathBuf};
use syscalls::{added_lines, generate, layout_drift, parse_spec, Spec};

const SPEC: &str = include_str!("../../../kernel-syscalls.toml");

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Compares `actual` with the file at `path` (rewritten when `UPDATE_GOLDEN=1`).
fn check(path: &Path, actual: &str) {
    testkit::golden(path, actual);
}

fn spec() -> Spec {
    parse_spec(SPEC).unwrap_or_else(|e| panic!("kernel-syscalls.toml: {e}"))
}

#[test]
fn real_spec() {
    let spec = spec();
    assert_eq!(spec.bases(), ["6.1", "6.12", "7.3"]);
    let mut facts = String::new();
    for base in spec.bases() {
        for t in spec.tables_for(base) {
            let numbers: Vec<String> = spec
                .syscalls
                .iter()
                .map(|s| format!("{}={}", s.name, spec.number(s, t)))
                .collect();
            facts += &format!("{base} {} {}\n", t.path, numbers.join(" "));
        }
    }
    check(&testdata().join("spec-numbers.txt"), &facts);
}

#[test]
fn excerpts() {
    let spec = spec();
    let mut seen_formats = Vec::new();
    let mut inputs = 0;
    for base in spec.bases() {
        let dir = testdata().join(base);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "in"))
            .collect();
        files.sort();
        for input in files {
            inputs += 1;
            let flat = input.file_stem().unwrap().to_str().unwrap();
            let table = spec
                .tables_for(base)
                .find(|t| t.path.replace('/', "__") == flat)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no {base} table in kernel-syscalls.toml",
                        input.display()
                    )
                });
            let original = std::fs::read_to_string(&input).unwrap();
            let out = generate(&spec, table, &original).unwrap_or_else(|e| panic!("{e}"));
            check(&input.with_extension("out"), &out);

            assert_eq!(
                generate(&spec, table, &out).as_ref(),
                Ok(&out),
                "{}: second run changed it",
                table.path
            );
            // The tidy test finds exactly these lines in the wiring patch.
            let mut new: Vec<&str> = out.lines().collect();
            for old in original.lines() {
                if let Some(i) = new.iter().position(|l| *l == old) {
                    new.remove(i);
                }
            }
            assert_eq!(
                new,
                added_lines(&spec, table),
                "{}: added lines",
                table.path
            );
            assert_eq!(layout_drift(&spec, table, &original), None);
            let kind = std::mem::discriminant(&table.format);
            if !seen_formats.contains(&kind) {
                seen_formats.push(kind);
            }
        }
    }
    assert!(inputs >= 10, "only {inputs} excerpts in testdata/");
    assert_eq!(seen_formats.len(), 3, "every format needs an excerpt");
}

/// Every prefix of every input must give a value or an error, never a panic.
#[test]
fn truncated_inputs_do_not_panic() {
    let spec = spec();
    // Cut each line at its start, middle and end (every character is slow).
    let mut start = 0;
    for line in SPEC.split_inclusive('\n') {
        let mid = (0..=line.len() / 2)
            .rev()
            .find(|&m| line.is_char_boundary(m))
            .unwrap_or(0);
        for cut in [start, start + mid, start + line.trim_end().len()] {
            let _ = parse_spec(&SPEC[..cut]);
        }
        start += line.len();
    }
    for base in spec.bases() {
        for table in spec.tables_for(base) {
            let input = testdata()
                .join(base)
                .join(format!("{}.in", table.path.replace('/', "__")));
            let Ok(text) = std::fs::read_to_string(input) else {
                continue;
            };
            for (i, _) in text.char_indices() {
                let _ = generate(&spec, table, &text[..i]);
            }
        }
    }
}
