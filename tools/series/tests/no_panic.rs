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
    testkit::mangle(&texts, &pieces, 200, check);
}
