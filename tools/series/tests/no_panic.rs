//! Parsers never panic on input: feed them mangled copies of `testdata/`.

use series::*;
use std::path::Path;

/// Runs every parser and renderer on `input`; the expectation is that they return.
fn check(input: &str) {
    let (series, _) = parse_series(input);
    let _ = check_listing(&series, &[input.to_string()]);
    let (patch, _) = parse_patch(input, input);
    let _ = check_patch(&patch, input);
    let _ = patch_file_name(usize::MAX, input);
    let state = classify(false, false, input);
    let _ = render_status(&SeriesView {
        base_name: input.into(),
        base_version: Some(input.into()),
        tree: None,
        patches: vec![SeriesRow {
            file: input.into(),
            subject: input.into(),
            state,
        }],
        next: input.into(),
    });
    let _ = diff_stat(input, "");
}

/// Deterministic pseudo-random numbers (a 64-bit LCG); no dependency needed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

#[test]
fn mangled_testdata() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut texts = Vec::new();
    for dir in ["6.12", "bad"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            texts.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
    }
    let pieces = [
        "",
        "\n",
        "\r\n",
        " ",
        "\t",
        "-",
        "+",
        "@@ -",
        "@@ -4294967295,1 +4294967295,3 @@",
        "diff --git ",
        "\"a/\\",
        "\"",
        "\\777",
        "[PATCH",
        "]",
        ":",
        "---",
        "From ",
        "é",
        "#",
        "error: patch failed: ",
        "error: ",
        "CONFLICT (",
        "=?",
        "?=",
    ];
    let mut rng = Lcg(42);
    for text in &texts {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for _ in 0..200 {
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
            check(&mangled.concat());
        }
    }
    for piece in pieces {
        check(piece);
    }
}
