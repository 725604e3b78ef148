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
    testkit::mangle(&texts, &pieces, 200, check);
}
