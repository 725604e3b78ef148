//! The parser never panics on input: feed it mangled copies of `testdata/`.

use std::path::Path;

/// Runs the parser, the verdict and the renderers on `input`; the
/// expectation is that they return.
fn check(input: &str) {
    let report = ktap::parse(input);
    let _ = report.verdict();
    let _ = report.summary();
    let _ = report.render_results();
    for line in input.lines() {
        let _ = ktap::scan_line(line);
        let _ = ktap::is_panic_line(line);
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
        "\r",
        "\r\n",
        " ",
        "    ",
        "\t",
        "[",
        "]",
        "[    1.0]",
        "[ T1]",
        "#",
        "# ",
        "ok ",
        "not ok ",
        "1..",
        "99999999999999999999999",
        "KTAP version 1",
        "é",
        "ü]",
        "------------[ cut here ]------------",
        "---[ end trace",
        "=========",
        "kmemleak: ",
        "BUG: ",
        "Oops",
        "Kernel panic - not syncing",
        "# netspec-vm: end",
    ];
    testkit::mangle(&texts, &pieces, 200, check);
}
