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

fn replay_data(name: &str) -> String {
    std::fs::read_to_string(testdata().join("replay").join(name)).unwrap()
}

fn replay_row(number: &str, subject: &str, pick: Pick, predicted: bool) -> ReplayRow {
    ReplayRow {
        number: number.into(),
        subject: subject.into(),
        pick,
        predicted,
    }
}

/// A move stopped at a conflict (with the rest predicted), the same move
/// finished, and an empty one, from saved `git apply -v`, `git ls-files -u`
/// and merged-file output.
#[test]
fn replay() {
    let apply_v = replay_data("apply-check-v.txt");
    let unmerged = parse_unmerged(&replay_data("ls-files-u.txt"));
    let fork = ConflictFile {
        path: unmerged[0].path.clone(),
        hunks: conflict_hunks(&replay_data("merged-fork.c")),
        note: unmerged[0].note(),
    };
    let gone = ConflictFile {
        path: unmerged[1].path.clone(),
        hunks: vec![],
        note: unmerged[1].note(),
    };
    let wiring = "net: netspec: wire up the netspec system calls";
    let stopped = ReplayView {
        title: "update 6.12: Linux 6.12.95 -> Linux 6.12.118 (linux-source-6.12 6.12.118-1, trixie-security)".into(),
        tree: "target/trees/6.12".into(),
        base_version: "Linux 6.12.118".into(),
        rows: vec![
            replay_row("0001", "net: netspec: add CONFIG_NET_SPECIALIZE and the UAPI header", pick_applied("Checking patch net/Kconfig...\n"), false),
            replay_row("0002", "net: netspec: add the netspec() system call and NETSPEC_OP_QUERY", pick_applied(&apply_v), false),
            replay_row("0003", "net: netspec: add tokens and the customized_send() system call", Pick::Conflict(vec![fork.clone(), gone]), false),
            replay_row("0004", "net: netspec: specialize the UDP over IPv4 send path", Pick::Clean, true),
            replay_row("0009", "net: netspec: guard instances and invalidate them when the socket closes", pick_three_way(&apply_v), true),
            replay_row(
                "0010",
                "net: netspec: add guard policies for socket changes and route changes",
                Pick::Conflict(conflicts_from_errors(
                    "error: patch failed: net/socket.c:2040\nerror: repository lacks the necessary blob to perform 3-way merge.\n",
                )),
                true,
            ),
            replay_row("0011", "net: netspec: add the SO_ADU socket option", Pick::Absorbed, true),
            replay_row("0015", wiring, Pick::Generated, true),
        ],
        next: vec![
            "resolve the conflicts in target/trees/6.12 (git -C target/trees/6.12 diff), then".into(),
            "git -C target/trees/6.12 add -f kernel/fork.c net/netspec/old.c".into(),
            "cargo xtask series update --base 6.12 --continue".into(),
        ],
    };
    let finished = ReplayView {
        rows: vec![
            replay_row(
                "0001",
                "net: netspec: add CONFIG_NET_SPECIALIZE and the UAPI header",
                Pick::Clean,
                false,
            ),
            replay_row(
                "0002",
                "net: netspec: add the netspec() system call and NETSPEC_OP_QUERY",
                Pick::Absorbed,
                false,
            ),
            replay_row(
                "0003",
                "net: netspec: add tokens and the customized_send() system call",
                Pick::Resolved(vec![fork]),
                false,
            ),
            replay_row("0015", wiring, Pick::Generated, false),
        ],
        next: vec!["cargo xtask series check --base 6.12".into()],
        ..stopped.clone()
    };
    let empty = ReplayView {
        title: "refresh 7.3 from 6.12: Linux 7.3.4".into(),
        tree: "target/trees/7.3".into(),
        base_version: "Linux 7.3.4".into(),
        rows: vec![],
        next: vec![],
    };
    check(
        "replay.txt",
        &format!(
            "{}\n{}\n{}",
            render_replay(&stopped),
            render_replay(&finished),
            render_replay(&empty)
        ),
    );
}

/// The verdicts on a tree of one's own, from saved `patch --dry-run` output.
#[test]
fn verdicts() {
    let fuzzed = parse_patch_run(
        "checking file include/net/sock.h\nHunk #1 succeeded at 338 (offset -1 lines).\n\
         checking file net/core/sock.c\nHunk #1 succeeded at 2410 with fuzz 1 (offset 1 line).\n",
    );
    let row = |number: &str, subject: &str, verdict: Verdict| VerdictRow {
        number: number.into(),
        subject: subject.into(),
        verdict,
    };
    let view = VerdictView {
        title: "patches/6.12 (Linux 6.12.118) against Linux 6.12.95 (/usr/src/linux-source-6.12.tar.xz)".into(),
        source_version: "Linux 6.12.95".into(),
        rows: vec![
            row("0001", "net: netspec: add CONFIG_NET_SPECIALIZE and the UAPI header", Verdict::Clean),
            row(
                "0003",
                "net: netspec: add tokens and the customized_send() system call",
                verdict_from_patch_run(&parse_patch_run(&replay_data("patch-dry-run.txt"))),
            ),
            row(
                "0009",
                "net: netspec: guard instances and invalidate them when the socket closes",
                verdict_from_patch_run(&fuzzed),
            ),
            row("0011", "net: netspec: add the SO_ADU socket option", Verdict::Absorbed),
            row(
                "0015",
                "net: netspec: wire up the netspec system calls",
                verdict_from_patch_run(&parse_patch_run("checking file scripts/syscall.tbl\nHunk #1 FAILED at 403.\n")),
            ),
        ],
        notes: vec!["0015 is the syscall wiring, generated per tree".into()],
        next: "cargo xtask series update --base 6.12 --source /usr/src/linux-source-6.12.tar.xz".into(),
    };
    let clean = VerdictView {
        title: "patches/6.1 (Linux 6.1.192) against Linux 6.1.192 (/src/linux-6.1.y)".into(),
        source_version: "Linux 6.1.192".into(),
        rows: vec![row(
            "0001",
            "net: netspec: add CONFIG_NET_SPECIALIZE and the UAPI header",
            Verdict::Clean,
        )],
        notes: vec![],
        next: "cd /src/linux-6.1.y && git am patches/6.1/*.patch".into(),
    };
    check(
        "verdict.txt",
        &format!("{}\n{}", render_verdicts(&view), render_verdicts(&clean)),
    );
}
