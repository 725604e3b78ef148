//! Test helpers the library crates share as a dev-dependency: golden files
//! and mangled inputs for no-panic tests.
//!
//! Architecture invariant: used only from tests; knows no netspec format.

use std::path::Path;

/// Compares `actual` with the golden file at `path`, or rewrites the file when
/// `UPDATE_GOLDEN=1`; returns the failure message (with a unified diff), if any.
pub fn golden_diff(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return None;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
        .unified_diff()
        .header(&path.display().to_string(), "actual")
        .to_string();
    Some(format!(
        "{} differs; if the change is intended, rerun with UPDATE_GOLDEN=1\n{diff}",
        path.display()
    ))
}

/// [`golden_diff`], panicking on a difference.
pub fn golden(path: &Path, actual: &str) {
    if let Some(message) = golden_diff(path, actual) {
        panic!("{message}");
    }
}

/// Deterministic pseudo-random numbers (a 64-bit LCG); no dependency needed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// Calls `f` on `rounds` mangled copies of each text (lines removed,
/// truncated, or with `pieces` inserted as lines or inside lines), then on
/// each piece alone. The same inputs every run.
pub fn mangle(texts: &[String], pieces: &[&str], rounds: usize, mut f: impl FnMut(&str)) {
    let mut rng = Lcg(42);
    for text in texts {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for _ in 0..rounds {
            let mut mangled: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(mangled.len() + 1);
                match rng.below(4) {
                    0 if at < mangled.len() => {
                        mangled.remove(at);
                    }
                    1 => mangled.insert(at, pieces[rng.below(pieces.len())].to_string()),
                    2 if at < mangled.len() => {
                        let line = &mut mangled[at];
                        let mut cut = rng.below(line.len() + 1);
                        while !line.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        line.insert_str(cut, pieces[rng.below(pieces.len())]);
                    }
                    _ => mangled.truncate(at),
                }
            }
            f(&mangled.concat());
        }
    }
    for piece in pieces {
        f(piece);
    }
}
