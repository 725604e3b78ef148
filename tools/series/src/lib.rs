//! The patch-series model: the `series` file, `git format-patch` files, git's
//! apply errors, and how a series is shown to a maintainer.
//!
//! A series lives in `patches/<base>/` as numbered `NNNN-slug.patch` files plus
//! a quilt-style `series` file listing them in order.
//! `xtask` reads those files and runs git; this crate only ever sees text.
//!
//! Architecture invariant: text in, values out.
//! Nothing here starts a process, touches the filesystem, or panics on input:
//! parsers return a value plus [`Diagnostic`]s, checks return [`Problem`]s, and
//! renderers return `String`s for the caller to print.
//!
//! Code map:
//! - [`parse_series`], [`check_listing`]: the `series` file against the directory.
//! - [`parse_patch`], [`check_patch`]: one `git format-patch` file.
//! - [`patch_file_name`]: the file name `git format-patch` would pick.
//! - [`apply_file_hunks`]: one file's text after a patch, applied exactly.
//! - [`parse_apply_errors`], [`classify`]: what `git apply --check` said.
//! - [`render_status`], [`render_export_changes`], [`diff_stat`]: output for people.
//! - [`Pick`], [`render_replay`]: a move of the series onto a new base, patch by patch
//!   (`series update`, `series refresh`), from what `git apply -v` and the merges said.
//! - [`parse_patch_run`], [`Verdict`], [`render_verdicts`]: the verdict on a tree of
//!   one's own (`series check --source`), from `git apply --check` and `patch --dry-run`.

mod apply;
mod checkpatch;
mod hunks;
mod name;
mod patch;
mod problem;
mod render;
mod replay;
mod series_file;
mod verdict;

pub use checkpatch::{is_sysctl_copy, parse_checkpatch, Finding};
pub use apply::{classify, parse_apply_errors, ApplyError, ApplyErrorKind, PatchState};
pub use hunks::apply_file_hunks;
pub use name::patch_file_name;
pub use patch::{check_patch, parse_patch, AddedLine, Patch, MAX_SUBJECT_CHARS};
pub use problem::{Diagnostic, Problem};
pub use render::{
    diff_stat, render_export_changes, render_status, ExportChange, SeriesRow, SeriesView,
};
pub use replay::{
    conflict_hunks, conflicts_from_errors, parse_moved_hunks, parse_unmerged, pick_applied,
    pick_three_way, render_replay, ConflictFile, MovedHunk, Pick, ReplayRow, ReplayView,
    StageEntry, Unmerged,
};
pub use series_file::{check_listing, parse_series, Series};
pub use verdict::{
    parse_patch_run, render_verdicts, verdict_from_patch_run, HunkOutcome, HunkReport, PatchRun,
    Place, Verdict, VerdictRow, VerdictView,
};
