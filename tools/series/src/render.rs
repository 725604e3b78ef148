//! Text for people: the series status and what an export changed.

use crate::{ApplyError, ApplyErrorKind, PatchState};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;

/// Everything [`render_status`] shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesView {
    /// The base directory name, e.g. `6.12`.
    pub base_name: String,
    /// The base recorded in `series`, e.g. `Linux 6.12.95`.
    pub base_version: Option<String>,
    /// Where the tree with the series applied lives, if there is one.
    pub tree: Option<String>,
    /// The patches, in series order.
    pub patches: Vec<SeriesRow>,
    /// The exact command to run next; omitted when empty.
    pub next: String,
}

/// One patch in a [`SeriesView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRow {
    /// The patch file name, e.g. `0001-net-netspec-add-....patch`.
    pub file: String,
    /// The patch subject.
    pub subject: String,
    /// Where it stands against the tree.
    pub state: PatchState,
}

/// Shows a series the way stgit and b4 do: a header, one marked line per
/// patch (`+` applied, `=` absorbed, `!` conflict, `-` not applied), and a
/// footer with the base, counts and the next command.
pub fn render_status(view: &SeriesView) -> String {
    let mut out = format!("netspec series for {}", view.base_name);
    if let Some(version) = &view.base_version {
        let _ = write!(out, " ({version})");
    }
    match &view.tree {
        Some(tree) => {
            let _ = writeln!(out, ", tree {tree}");
        }
        None => out.push_str(", no tree\n"),
    }
    if view.patches.is_empty() {
        out.push_str("  (no patches)\n");
    }
    let (mut applied, mut absorbed, mut conflicts, mut unapplied) = (0, 0, 0, 0);
    for row in &view.patches {
        let (marker, note) = match &row.state {
            PatchState::Applied => {
                applied += 1;
                ('+', String::new())
            }
            PatchState::Absorbed => {
                absorbed += 1;
                ('=', " (absorbed: base already contains it)".to_string())
            }
            PatchState::Conflict(errors) => {
                conflicts += 1;
                ('!', format!(" (conflict: {})", conflict_summary(errors)))
            }
            PatchState::NotTried => {
                unapplied += 1;
                ('-', " (not applied)".to_string())
            }
        };
        let _ = writeln!(
            out,
            "  {marker} {} {}{note}",
            number(&row.file),
            row.subject
        );
    }
    out.push_str("---\n");
    let _ = writeln!(
        out,
        "base: {}  patches: {}  applied: {applied}  absorbed: {absorbed}  conflicts: {conflicts}  unapplied: {unapplied}",
        view.base_version.as_deref().unwrap_or("unknown"),
        view.patches.len(),
    );
    if !view.next.is_empty() {
        let _ = writeln!(out, "next: {}", view.next);
    }
    out
}

/// The `NNNN` of `NNNN-slug.patch`, or the whole name if it has no number.
fn number(file: &str) -> &str {
    match file.split_once('-') {
        Some((n, _)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => file,
    }
}

/// `file:line` places, most useful first, at most three and a count of the rest.
fn conflict_summary(errors: &[ApplyError]) -> String {
    let mut places: Vec<String> = Vec::new();
    for e in errors {
        let place = match (&e.kind, e.file.is_empty(), e.line) {
            (ApplyErrorKind::Other(message), true, _) => message.clone(),
            (_, _, Some(line)) => format!("{}:{line}", e.file),
            (ApplyErrorKind::AlreadyExists | ApplyErrorKind::AlreadyInIndex, _, None) => {
                format!("{} already exists", e.file)
            }
            (ApplyErrorKind::NotInIndex | ApplyErrorKind::NoSuchFile, _, None) => {
                format!("{} does not exist", e.file)
            }
            _ => e.file.clone(),
        };
        if !places.contains(&place) {
            places.push(place);
        }
    }
    match places.len() {
        0 => "git gave no reason".to_string(),
        1..=3 => places.join(", "),
        n => format!("{} and {} more", places[..3].join(", "), n - 3),
    }
}

/// How one patch file changed when a series was exported again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportChange {
    /// A new patch file.
    Added(String),
    /// A patch file that is gone.
    Removed(String),
    /// A patch file whose text changed by `added` and `removed` lines (see [`diff_stat`]).
    Modified {
        name: String,
        added: usize,
        removed: usize,
    },
    /// A patch file that moved, e.g. renumbered.
    Renamed { from: String, to: String },
}

/// Lists export changes one per line, git-status style (`A`, `D`, `M`, `R`),
/// or `no change` when there are none.
pub fn render_export_changes(changes: &[ExportChange]) -> String {
    if changes.is_empty() {
        return "no change\n".to_string();
    }
    let mut out = String::new();
    for change in changes {
        let _ = match change {
            ExportChange::Added(name) => writeln!(out, "  A {name}"),
            ExportChange::Removed(name) => writeln!(out, "  D {name}"),
            ExportChange::Modified {
                name,
                added,
                removed,
            } => {
                writeln!(out, "  M {name} (+{added} -{removed})")
            }
            ExportChange::Renamed { from, to } => writeln!(out, "  R {from} -> {to}"),
        };
    }
    out
}

/// Counts the lines added and removed going from `old` to `new`.
pub fn diff_stat(old: &str, new: &str) -> (usize, usize) {
    let diff = TextDiff::from_lines(old, new);
    diff.iter_all_changes()
        .fold((0, 0), |(added, removed), change| match change.tag() {
            ChangeTag::Insert => (added + 1, removed),
            ChangeTag::Delete => (added, removed + 1),
            ChangeTag::Equal => (added, removed),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compares the `(added, removed)` counts for `(old, new)` with `expected`.
    fn check((old, new): (&str, &str), expected: (usize, usize)) {
        assert_eq!(diff_stat(old, new), expected, "old:\n{old}\nnew:\n{new}");
    }

    #[test]
    fn diff_stats() {
        check(("", ""), (0, 0));
        check(("a\nb\n", "a\nb\n"), (0, 0));
        check(("a\nb\nc\n", "a\nB\nc\nd\ne\n"), (3, 1));
        check(("a\nb\n", ""), (0, 2));
        check(("a", "a\n"), (1, 1));
    }
}
