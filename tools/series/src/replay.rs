//! Moving a series onto another base, patch by patch: what git says about
//! each patch (`git apply -v`, `git ls-files -u`, the merged text), what
//! that makes the patch, and the stgit/b4-style report of the whole move.

use crate::parse_apply_errors;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// One file git could not merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictFile {
    pub path: String,
    /// 1-based lines of the conflict hunks (the `<<<<<<<` markers) in the merged file.
    pub hunks: Vec<u32>,
    /// What happened when there are no hunks to point at, e.g. a file the
    /// base deleted and the patch changes, or git's own words.
    pub note: Option<String>,
}

/// What happened to one patch of the series on the new base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pick {
    /// Applied exactly: the same context at the same lines.
    Clean,
    /// Applied with no one's help, but not exactly: git found hunks at other
    /// lines (`moved`), or the context had changed and git merged three-way
    /// (`three_way`).
    Merged {
        moved: Vec<String>,
        three_way: Vec<String>,
    },
    /// Git could not merge it.
    Conflict(Vec<ConflictFile>),
    /// Conflicted, and was resolved by hand.
    Resolved(Vec<ConflictFile>),
    /// The base already has the change: the patch became empty and leaves the series.
    Absorbed,
    /// Generated for the base (the syscall wiring), not rebased.
    Generated,
}

/// One patch in a [`ReplayView`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayRow {
    /// The patch's number in the series being moved, e.g. `0003`.
    pub number: String,
    pub subject: String,
    pub pick: Pick,
    /// Not applied yet: `pick` is what git predicts on top of the unresolved
    /// merge of the conflicts before it.
    pub predicted: bool,
}

/// Everything [`render_replay`] shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayView {
    /// What moved where, e.g. `update 6.12: Linux 6.12.95 -> Linux 6.12.118 (...)`.
    pub title: String,
    /// Where the tree is.
    pub tree: String,
    /// The base the rows were applied to, e.g. `Linux 6.12.118`.
    pub base_version: String,
    pub rows: Vec<ReplayRow>,
    /// The exact commands to run next, one per line; omitted when empty.
    pub next: Vec<String>,
}

/// A hunk `git apply -v` found at another line than the patch says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedHunk {
    pub file: String,
    pub hunk: u32,
    /// Where it applied.
    pub line: u32,
    pub offset: i64,
}

/// Reads `Hunk #N succeeded at L (offset K lines).` from `git apply -v`'s
/// stderr, attributing each to the file of the `Checking patch F...` line before it.
pub fn parse_moved_hunks(stderr: &str) -> Vec<MovedHunk> {
    let mut out = Vec::new();
    let mut file = String::new();
    for line in stderr.lines() {
        let line = line.trim_end();
        if let Some(f) = line
            .strip_prefix("Checking patch ")
            .and_then(|f| f.strip_suffix("..."))
        {
            file = f.to_string();
            continue;
        }
        let Some(rest) = line.strip_prefix("Hunk #") else {
            continue;
        };
        let Some((n, rest)) = rest.split_once(" succeeded at ") else {
            continue;
        };
        let Some((at, rest)) = rest.split_once(" (offset ") else {
            continue;
        };
        let offset = rest.split(' ').next().and_then(|o| o.parse().ok());
        if let (Ok(hunk), Ok(at), Some(offset)) = (n.parse(), at.parse(), offset) {
            out.push(MovedHunk {
                file: file.clone(),
                hunk,
                line: at,
                offset,
            });
        }
    }
    out
}

/// The state of a patch that `git apply --check` accepted: clean, or merged
/// if `git apply -v` reported hunks at other lines.
pub fn pick_applied(verbose_stderr: &str) -> Pick {
    let mut moved: Vec<String> = Vec::new();
    for m in parse_moved_hunks(verbose_stderr) {
        if !moved.contains(&m.file) {
            moved.push(m.file);
        }
    }
    if moved.is_empty() {
        Pick::Clean
    } else {
        Pick::Merged {
            moved,
            three_way: Vec::new(),
        }
    }
}

/// The state of a patch that `git apply --check` refused (its stderr is
/// `plain_stderr`) and `git apply --3way` then merged without conflicts:
/// the files the plain apply refused are the ones merged three-way.
pub fn pick_three_way(plain_stderr: &str) -> Pick {
    let mut three_way: Vec<String> = Vec::new();
    for e in parse_apply_errors(plain_stderr) {
        if !e.file.is_empty() && !three_way.contains(&e.file) {
            three_way.push(e.file);
        }
    }
    Pick::Merged {
        moved: Vec::new(),
        three_way,
    }
}

/// A conflict git reported without leaving unmerged files (e.g. the blobs
/// a three-way merge needs are missing): one entry per file git named, and
/// what git said without naming a file as the note of the first.
pub fn conflicts_from_errors(stderr: &str) -> Vec<ConflictFile> {
    let mut out: Vec<ConflictFile> = Vec::new();
    let mut said: Vec<String> = Vec::new();
    for e in parse_apply_errors(stderr) {
        match (&e.kind, e.file.is_empty()) {
            (crate::ApplyErrorKind::Other(message), true) => said.push(message.clone()),
            _ => match out.iter_mut().find(|c| c.path == e.file) {
                Some(c) => c.hunks.extend(e.line),
                None => out.push(ConflictFile {
                    path: e.file.clone(),
                    hunks: e.line.into_iter().collect(),
                    note: None,
                }),
            },
        }
    }
    if said.is_empty() && out.is_empty() {
        said.extend(
            stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string),
        );
        said.extend((said.is_empty()).then(|| "git gave no reason".to_string()));
    }
    if !said.is_empty() {
        let note = Some(said.join("; "));
        match out.first_mut() {
            Some(first) => first.note = note,
            None => out.push(ConflictFile {
                path: String::new(),
                hunks: Vec::new(),
                note,
            }),
        }
    }
    out
}

/// One side of an unmerged index entry: its mode and object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageEntry {
    pub mode: String,
    pub object: String,
}

/// A path `git ls-files -u` lists, with its three stages: the patch's
/// preimage (1), the base's version (2, "ours") and the patch's result (3, "theirs").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unmerged {
    pub path: String,
    pub base: Option<StageEntry>,
    pub ours: Option<StageEntry>,
    pub theirs: Option<StageEntry>,
}

impl Unmerged {
    /// Why this path has no content conflict to show, if it has none.
    pub fn note(&self) -> Option<String> {
        match (&self.base, &self.ours, &self.theirs) {
            (_, None, Some(_)) => Some("the base deleted it; the patch changes it".into()),
            (_, Some(_), None) => Some("the patch deletes it; the base changed it".into()),
            (None, Some(_), Some(_)) => Some("both the base and the patch add it".into()),
            _ => None,
        }
    }
}

/// Parses `git ls-files -u`: `MODE OBJECT STAGE\tPATH` lines, grouped by path.
pub fn parse_unmerged(text: &str) -> Vec<Unmerged> {
    let mut out: Vec<Unmerged> = Vec::new();
    for line in text.lines() {
        let Some((meta, path)) = line.split_once('\t') else {
            continue;
        };
        let mut words = meta.split_whitespace();
        let (Some(mode), Some(object), Some(stage)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let entry = StageEntry {
            mode: mode.to_string(),
            object: object.to_string(),
        };
        let at = match out.iter().position(|u| u.path == path) {
            Some(at) => at,
            None => {
                out.push(Unmerged {
                    path: path.to_string(),
                    ..Unmerged::default()
                });
                out.len() - 1
            }
        };
        match stage {
            "1" => out[at].base = Some(entry),
            "2" => out[at].ours = Some(entry),
            "3" => out[at].theirs = Some(entry),
            _ => {}
        }
    }
    out
}

/// The 1-based lines of the conflict markers (`<<<<<<<`) in a merged file.
pub fn conflict_hunks(merged: &str) -> Vec<u32> {
    merged
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            l.strip_prefix("<<<<<<<")
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
        .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .collect()
}

fn hunk_count(files: &[ConflictFile]) -> usize {
    files.iter().map(|f| f.hunks.len().max(1)).sum()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1 file, 2 hunks`, then one indented line per file.
fn conflict_lines(files: &[ConflictFile]) -> (String, Vec<String>) {
    let summary = format!(
        "{}, {}",
        plural(files.len(), "file", "files"),
        plural(hunk_count(files), "hunk", "hunks")
    );
    let lines = files
        .iter()
        .map(|f| {
            let path = if f.path.is_empty() {
                "(no file)"
            } else {
                f.path.as_str()
            };
            let at = match f.hunks.as_slice() {
                [] => String::new(),
                [one] => format!("line {one}"),
                many => format!(
                    "lines {}",
                    many.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            match (&f.note, at.is_empty()) {
                (Some(note), true) => format!("{path}: {note}"),
                (Some(note), false) => format!("{path}: {at} ({note})"),
                (None, false) => format!("{path}: {at}"),
                (None, true) => path.to_string(),
            }
        })
        .collect();
    (summary, lines)
}

/// The marker, the note after the subject and the indented detail lines of one pick.
fn describe(pick: &Pick) -> (char, String, Vec<String>) {
    match pick {
        Pick::Clean => ('+', String::new(), Vec::new()),
        Pick::Merged { moved, three_way } => {
            let mut parts = Vec::new();
            if !three_way.is_empty() {
                parts.push(format!("three-way in {}", three_way.join(", ")));
            }
            if !moved.is_empty() {
                parts.push(format!("hunks moved in {}", moved.join(", ")));
            }
            (
                '~',
                format!("merged automatically: {}", parts.join("; ")),
                Vec::new(),
            )
        }
        Pick::Conflict(files) => {
            let (summary, lines) = conflict_lines(files);
            ('!', format!("conflict: {summary}"), lines)
        }
        Pick::Resolved(files) => {
            let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            (
                '+',
                format!("conflict resolved by hand: {}", paths.join(", ")),
                Vec::new(),
            )
        }
        Pick::Absorbed => (
            '=',
            "absorbed: the base already has it; dropped".into(),
            Vec::new(),
        ),
        Pick::Generated => (
            '*',
            "generated for this base, not rebased".into(),
            Vec::new(),
        ),
    }
}

/// Shows a move of the series the way stgit and b4 show a series: a header,
/// one marked line per patch (`+` applied clean or resolved, `~` merged
/// automatically, `!` conflict, `=` absorbed, `*` generated, `-` not applied
/// yet, with what git predicts for it), conflicting files and hunks on
/// indented lines, and a footer with the base, the counts and the next command.
pub fn render_replay(view: &ReplayView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "netspec series {}, tree {}", view.title, view.tree);
    if view.rows.is_empty() {
        out.push_str("  (no patches)\n");
    }
    let mut counts = [0usize; 6];
    let mut predicted = [0usize; 6];
    let (mut hunks, mut predicted_hunks, mut unapplied) = (0, 0, 0);
    for row in &view.rows {
        let slot = match &row.pick {
            Pick::Clean => 0,
            Pick::Merged { .. } => 1,
            Pick::Resolved(_) => 2,
            Pick::Conflict(files) => {
                if row.predicted {
                    predicted_hunks += hunk_count(files);
                } else {
                    hunks += hunk_count(files);
                }
                3
            }
            Pick::Absorbed => 4,
            Pick::Generated => 5,
        };
        let (marker, note, details) = describe(&row.pick);
        let (marker, note) = if row.predicted {
            unapplied += 1;
            predicted[slot] += 1;
            let what = match &row.pick {
                Pick::Generated => "generated last".to_string(),
                Pick::Clean => "predicted: applies clean".to_string(),
                _ => format!("predicted: {note}"),
            };
            ('-', format!("not applied; {what}"))
        } else {
            counts[slot] += 1;
            (marker, note)
        };
        let note = if note.is_empty() {
            note
        } else {
            format!(" ({note})")
        };
        let _ = writeln!(out, "  {marker} {} {}{note}", row.number, row.subject);
        for d in details {
            let _ = writeln!(out, "        {d}");
        }
    }
    out.push_str("---\n");
    let _ = writeln!(
        out,
        "base: {}  patches: {}  clean: {}  merged: {}  resolved: {}  conflicts: {}{}  absorbed: {}  generated: {}  unapplied: {unapplied}",
        view.base_version,
        view.rows.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        if hunks > 0 { format!(" ({})", plural(hunks, "hunk", "hunks")) } else { String::new() },
        counts[4],
        counts[5],
    );
    if unapplied > predicted[5] {
        let _ = writeln!(
            out,
            "predicted for the unapplied ones, on top of the unresolved merge: clean: {}  merged: {}  conflicts: {}{}  absorbed: {}",
            predicted[0],
            predicted[1],
            predicted[3],
            if predicted_hunks > 0 { format!(" ({})", plural(predicted_hunks, "hunk", "hunks")) } else { String::new() },
            predicted[4],
        );
    }
    for (i, line) in view.next.iter().enumerate() {
        let _ = writeln!(out, "{}{line}", if i == 0 { "next: " } else { "      " });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on `input` and compares the `Debug` form with `expected`.
    fn check<T: std::fmt::Debug>(f: impl Fn(&str) -> T, input: &str, expected: &str) {
        assert_eq!(format!("{:?}", f(input)), expected, "input:\n{input}");
    }

    #[test]
    fn moved_hunks() {
        check(
            parse_moved_hunks,
            "Checking patch kernel/fork.c...\nHunk #1 succeeded at 1306 (offset 12 lines).\n\
             Hunk #2 succeeded at 1400 (offset -1 line).\nChecking patch net/Kconfig...\n\
             Hunk #1 succeeded at 9 (offset x lines).\nApplied patch net/Kconfig cleanly.\n",
            "[MovedHunk { file: \"kernel/fork.c\", hunk: 1, line: 1306, offset: 12 }, \
             MovedHunk { file: \"kernel/fork.c\", hunk: 2, line: 1400, offset: -1 }]",
        );
        check(pick_applied, "Checking patch a.c...\n", "Clean");
        check(
            pick_applied,
            "Checking patch a.c...\nHunk #1 succeeded at 52 (offset 5 lines).\nHunk #2 succeeded at 90 (offset 5 lines).\n",
            "Merged { moved: [\"a.c\"], three_way: [] }",
        );
    }

    #[test]
    fn three_way_and_errors() {
        check(
            pick_three_way,
            "Checking patch a.c...\nerror: while searching for:\n47\n\nerror: patch failed: a.c:47\n\
             error: a.c: patch does not apply\nerror: patch failed: b.c:3\n",
            "Merged { moved: [], three_way: [\"a.c\", \"b.c\"] }",
        );
        check(
            conflicts_from_errors,
            "error: patch failed: a.c:47\nerror: a.c: patch does not apply\n\
             error: repository lacks the necessary blob to perform 3-way merge.\n",
            "[ConflictFile { path: \"a.c\", hunks: [47], note: Some(\"repository lacks the necessary blob to perform 3-way merge.\") }]",
        );
        check(
            conflicts_from_errors,
            "\nfatal: odd\n",
            "[ConflictFile { path: \"\", hunks: [], note: Some(\"fatal: odd\") }]",
        );
    }

    #[test]
    fn unmerged_entries() {
        let out = parse_unmerged(
            "100644 aaa 1\tkernel/fork.c\n100644 bbb 2\tkernel/fork.c\n100644 ccc 3\tkernel/fork.c\n\
             100644 ddd 1\tgone.c\n100644 eee 3\tgone.c\nnonsense\n100644 fff 2\tnew.c\n100644 ggg 3\tnew.c\n",
        );
        let notes: Vec<_> = out.iter().map(|u| (u.path.as_str(), u.note())).collect();
        assert_eq!(
            format!("{notes:?}"),
            "[(\"kernel/fork.c\", None), (\"gone.c\", Some(\"the base deleted it; the patch changes it\")), \
             (\"new.c\", Some(\"both the base and the patch add it\"))]"
        );
        assert_eq!(
            out[0].theirs,
            Some(StageEntry {
                mode: "100644".into(),
                object: "ccc".into()
            })
        );
    }

    #[test]
    fn markers() {
        check(
            conflict_hunks,
            "a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n<<<<<<<\n<<<<<<<< no\n",
            "[2, 7]",
        );
        check(conflict_hunks, "", "[]");
    }
}
