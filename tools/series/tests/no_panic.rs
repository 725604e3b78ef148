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
    let files = conflicts_from_errors(input);
    let unmerged = parse_unmerged(input);
    let _ = unmerged.iter().map(Unmerged::note).count();
    let rows = vec![
        ReplayRow {
            number: input.into(),
            subject: input.into(),
            pick: pick_applied(input),
            predicted: false,
        },
        ReplayRow {
            number: input.into(),
            subject: input.into(),
            pick: pick_three_way(input),
            predicted: true,
        },
        ReplayRow {
            number: input.into(),
            subject: input.into(),
            pick: Pick::Conflict(vec![ConflictFile {
                path: input.into(),
                hunks: conflict_hunks(input),
                note: None,
            }]),
            predicted: true,
        },
        ReplayRow {
            number: input.into(),
            subject: input.into(),
            pick: Pick::Resolved(files),
            predicted: false,
        },
    ];
    let _ = parse_moved_hunks(input);
    let _ = render_replay(&ReplayView {
        title: input.into(),
        tree: input.into(),
        base_version: input.into(),
        rows,
        next: vec![input.into()],
    });
    let verdict = verdict_from_patch_run(&parse_patch_run(input));
    let _ = render_verdicts(&VerdictView {
        title: input.into(),
        source_version: input.into(),
        rows: vec![VerdictRow {
            number: input.into(),
            subject: input.into(),
            verdict,
        }],
        notes: vec![input.into()],
        next: input.into(),
    });
}

#[test]
fn mangled_testdata() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut texts = Vec::new();
    for dir in ["6.12", "bad", "replay"] {
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
        "<<<<<<<",
        "Hunk #",
        "Hunk #1 succeeded at 4294967296 with fuzz -1 (offset 99999999999999999999 lines).",
        "Checking patch ",
        "|diff --git a/",
        "can't find file to patch",
        "\t",
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
