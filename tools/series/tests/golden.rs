//! Golden tests: saved series and patches in `testdata/`, rendered output in
//! `testdata/golden/`.
//!
//! Rewrite the golden files with `UPDATE_GOLDEN=1 cargo test -p series`, then
//! review the diff.

use series::*;
use std::fmt::Write;
use std::path::{Path, PathBuf};

const IDENTITY: &str = "netspec developers <netspec@lists.invalid>";

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Compares `actual` with `testdata/golden/<golden>` (rewritten when `UPDATE_GOLDEN=1`).
fn check(golden: &str, actual: &str) {
    testkit::golden(&testdata().join("golden").join(golden), actual);
}

/// Reads a series directory the way `xtask` does and reports on all of it.
fn describe_dir(dir: &str) -> String {
    let dir = testdata().join(dir);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let (series, diags) = parse_series(&std::fs::read_to_string(dir.join("series")).unwrap());

    let mut out = String::new();
    writeln!(out, "series base: {:?}", series.base).unwrap();
    for d in &diags {
        writeln!(out, "series {d}").unwrap();
    }
    for p in check_listing(&series, &files) {
        writeln!(out, "problem {p}").unwrap();
    }
    for (idx, file) in files.iter().filter(|f| f.ends_with(".patch")).enumerate() {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let (patch, diags) = parse_patch(file, &text);
        writeln!(out, "\n== {file}").unwrap();
        writeln!(out, "subject: {}", patch.subject).unwrap();
        writeln!(out, "from: {}", patch.from).unwrap();
        writeln!(out, "date: {}", patch.date).unwrap();
        writeln!(out, "signed-off-by: {:?}", patch.signed_off_by).unwrap();
        writeln!(out, "files: {:?}", patch.files).unwrap();
        writeln!(
            out,
            "format-patch name at {}: {}",
            idx + 1,
            patch_file_name(idx + 1, &patch.subject)
        )
        .unwrap();
        writeln!(out, "body:").unwrap();
        for line in patch.body.lines() {
            writeln!(out, "|{}{line}", if line.is_empty() { "" } else { " " }).unwrap();
        }
        for a in &patch.added {
            writeln!(out, "+ {}:{}: {:?}", a.file, a.line, a.text).unwrap();
        }
        for d in &diags {
            writeln!(out, "diag {d}").unwrap();
        }
        for p in check_patch(&patch, IDENTITY) {
            writeln!(out, "problem {p}").unwrap();
        }
    }
    out
}

#[test]
fn clean_series() {
    check("6.12.txt", &describe_dir("6.12"));
}

#[test]
fn broken_series() {
    check("bad.txt", &describe_dir("bad"));
}

fn row(file: &str, subject: &str, state: PatchState) -> SeriesRow {
    SeriesRow {
        file: file.into(),
        subject: subject.into(),
        state,
    }
}

#[test]
fn status() {
    let conflict = classify(
        false,
        false,
        "error: patch failed: net/core/sock.c:1234\nerror: net/core/sock.c: patch does not apply\n",
    );
    let many = classify(
        false,
        false,
        "error: patch failed: a.c:1\nerror: b.c: already exists in working directory\n\
         error: c.c: does not exist in index\nerror: patch failed: d.c:4\nerror: corrupt patch at line 9\n",
    );
    let view = SeriesView {
        base_name: "6.12".into(),
        base_version: Some("Linux 6.12.95".into()),
        tree: Some("target/trees/6.12".into()),
        patches: vec![
            row(
                "0001-net-netspec-add-CONFIG_NET_SPECIALIZE-and-the-UAPI-h.patch",
                "net: netspec: add CONFIG_NET_SPECIALIZE and the UAPI header",
                classify(true, false, ""),
            ),
            row(
                "0002-netspec-wire-up-the-netspec-system-call.patch",
                "netspec: wire up the netspec system call",
                PatchState::Applied,
            ),
            row(
                "0003-net-core-fix-a-leak.patch",
                "net: core: fix a leak",
                classify(false, true, "error: x"),
            ),
            row(
                "0004-net-core-let-SO_NETSPEC-reach-the-specialization-cod.patch",
                "net: core: let SO_NETSPEC reach the specialization code",
                conflict,
            ),
            row(
                "0005-netspec-add-the-set-operation.patch",
                "netspec: add the set operation",
                PatchState::NotTried,
            ),
            row(
                "0006-netspec-everything-at-once.patch",
                "netspec: everything at once",
                many,
            ),
            row("odd-name.patch", "odd: not numbered", PatchState::NotTried),
        ],
        next: "cargo xtask series refresh --base 6.12".into(),
    };
    let empty = SeriesView {
        base_name: "6.1".into(),
        base_version: None,
        tree: None,
        patches: vec![],
        next: String::new(),
    };
    check(
        "status.txt",
        &format!("{}\n{}", render_status(&view), render_status(&empty)),
    );
}

#[test]
fn export_changes() {
    let old = std::fs::read_to_string(
        testdata().join("6.12/0002-netspec-wire-up-the-netspec-system-call.patch"),
    )
    .unwrap();
    let new = old.replace(
        "Only NETSPEC_OP_QUERY is accepted\n",
        "Only NETSPEC_OP_QUERY is\naccepted\n",
    );
    let (added, removed) = diff_stat(&old, &new);
    let changes = [
        ExportChange::Added("0004-netspec-add-the-set-operation.patch".into()),
        ExportChange::Removed("0003-net-core-fix-a-leak.patch".into()),
        ExportChange::Modified {
            name: "0002-netspec-wire-up-the-netspec-system-call.patch".into(),
            added,
            removed,
        },
        ExportChange::Renamed {
            from: "0004-net-core-let-SO_NETSPEC-reach-the-specialization-cod.patch".into(),
            to: "0003-net-core-let-SO_NETSPEC-reach-the-specialization-cod.patch".into(),
        },
    ];
    check(
        "export.txt",
        &format!(
            "{}\n{}",
            render_export_changes(&changes),
            render_export_changes(&[])
        ),
    );
}
