//! The parsers never panic on input: feed them mangled copies of `testdata/`.

use kconfig::*;
use std::path::Path;

/// Runs the parsers and checks on `input`; the expectation is that they return.
fn check(input: &str) {
    let (fragment, diags) = parse(input, input);
    let config = parse_config(input);
    let fragments = [fragment.clone(), fragment];
    for u in unsatisfied(&fragments, &config) {
        let _ = u.to_string();
    }
    for c in conflicts(&fragments) {
        let _ = c.to_string();
    }
    for d in diags {
        let _ = d.to_string();
    }
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
    for entry in std::fs::read_dir(root).unwrap() {
        texts.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let pieces = [
        "",
        "\n",
        "\r\n",
        " ",
        "\t",
        "#",
        "# ",
        "CONFIG_",
        "=",
        "\"",
        "\\",
        "\\\"",
        "é",
        "0x",
        "-",
        "is not set",
        " is not set",
        "99999999999999999999999999999999999999999",
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
