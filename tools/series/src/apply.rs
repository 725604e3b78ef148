//! What `git apply --check` and `git am` report, and what that means for a patch.

/// One complaint git made about one file while applying a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    /// The path git named; empty when the message names no file.
    pub file: String,
    /// The line git named, for `patch failed: FILE:LINE`.
    pub line: Option<u32>,
    /// What went wrong.
    pub kind: ApplyErrorKind,
}

/// The kinds of apply failure git reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyErrorKind {
    /// `patch failed: FILE:LINE` (and the `FILE: patch does not apply` that follows it).
    PatchFailed,
    /// `FILE: patch does not apply` with no `patch failed:` line before it.
    DoesNotApply,
    /// `FILE: already exists in working directory`: the patch creates a file the tree has.
    AlreadyExists,
    /// `FILE: already exists in index`.
    AlreadyInIndex,
    /// `FILE: does not exist in index`: the patch changes a file the tree lacks.
    NotInIndex,
    /// `FILE: does not match index`.
    DoesNotMatchIndex,
    /// `FILE: No such file or directory`.
    NoSuchFile,
    /// `CONFLICT (...): Merge conflict in FILE`, from a three-way `git am`.
    MergeConflict,
    /// Any other `error:` line, kept verbatim without the `error: ` prefix.
    Other(String),
}

/// Where a patch stands against a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchState {
    /// The patch applies (or was applied) on top of the patches before it.
    Applied,
    /// The base already contains the change: it does not apply but reverse-applies cleanly.
    Absorbed,
    /// The patch neither applies nor reverse-applies.
    Conflict(Vec<ApplyError>),
    /// Not attempted, usually because an earlier patch conflicted.
    NotTried,
}

/// Extracts the errors from `git apply --check` or `git am` stderr.
///
/// Lines git uses for context (`hint:`, `Patch failed at ...`, `Applying: ...`)
/// are skipped.
/// A `FILE: patch does not apply` right after `patch failed: FILE:LINE` says
/// the same thing again and is folded into that entry.
pub fn parse_apply_errors(stderr: &str) -> Vec<ApplyError> {
    let mut errors: Vec<ApplyError> = Vec::new();
    for line in stderr.lines() {
        let line = line.trim_end();
        if let Some(file) = line
            .strip_prefix("CONFLICT (")
            .and_then(|rest| rest.split_once("): Merge conflict in "))
            .map(|(_, file)| file)
        {
            errors.push(ApplyError {
                file: file.to_string(),
                line: None,
                kind: ApplyErrorKind::MergeConflict,
            });
            continue;
        }
        let Some(message) = line.strip_prefix("error: ") else {
            continue;
        };
        if let Some(location) = message.strip_prefix("patch failed: ") {
            let (file, line) = match location.rsplit_once(':') {
                Some((file, n)) => match n.parse() {
                    Ok(n) => (file, Some(n)),
                    Err(_) => (location, None),
                },
                None => (location, None),
            };
            errors.push(ApplyError {
                file: file.to_string(),
                line,
                kind: ApplyErrorKind::PatchFailed,
            });
            continue;
        }
        const SUFFIXES: [(&str, ApplyErrorKind); 6] = [
            (": patch does not apply", ApplyErrorKind::DoesNotApply),
            (
                ": already exists in working directory",
                ApplyErrorKind::AlreadyExists,
            ),
            (": already exists in index", ApplyErrorKind::AlreadyInIndex),
            (": does not exist in index", ApplyErrorKind::NotInIndex),
            (": does not match index", ApplyErrorKind::DoesNotMatchIndex),
            (": No such file or directory", ApplyErrorKind::NoSuchFile),
        ];
        let known = SUFFIXES
            .iter()
            .find_map(|(suffix, kind)| message.strip_suffix(suffix).map(|file| (file, kind)));
        match known {
            Some((file, ApplyErrorKind::DoesNotApply))
                if errors
                    .last()
                    .is_some_and(|e| e.kind == ApplyErrorKind::PatchFailed && e.file == file) => {}
            Some((file, kind)) => errors.push(ApplyError {
                file: file.to_string(),
                line: None,
                kind: kind.clone(),
            }),
            None => errors.push(ApplyError {
                file: String::new(),
                line: None,
                kind: ApplyErrorKind::Other(message.to_string()),
            }),
        }
    }
    errors
}

/// Decides a patch's state from a forward and a reverse `git apply --check`.
///
/// `forward_stderr` is the forward check's stderr; it is only read on conflict.
/// A conflict always carries at least one error: if git's output holds none
/// this crate recognises, its first non-empty line becomes an
/// [`ApplyErrorKind::Other`].
pub fn classify(forward_ok: bool, reverse_ok: bool, forward_stderr: &str) -> PatchState {
    if forward_ok {
        return PatchState::Applied;
    }
    if reverse_ok {
        return PatchState::Absorbed;
    }
    let mut errors = parse_apply_errors(forward_stderr);
    if errors.is_empty() {
        let first = forward_stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty());
        errors.push(ApplyError {
            file: String::new(),
            line: None,
            kind: ApplyErrorKind::Other(first.unwrap_or("git gave no reason").to_string()),
        });
    }
    PatchState::Conflict(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classifies with `forward_ok`, `reverse_ok` and `stderr`, and compares the
    /// state's `Debug` form with `expected`.
    fn check((forward_ok, reverse_ok, stderr): (bool, bool, &str), expected: &str) {
        let actual = format!("{:?}", classify(forward_ok, reverse_ok, stderr));
        assert_eq!(actual, expected, "stderr:\n{stderr}");
    }

    #[test]
    fn applied_and_absorbed() {
        check((true, false, ""), "Applied");
        check((true, true, "error: ignored"), "Applied");
        check(
            (false, true, "error: patch failed: net/Kconfig:12"),
            "Absorbed",
        );
    }

    #[test]
    fn apply_check_output() {
        check(
            (
                false,
                false,
                "error: patch failed: net/Kconfig:123\n\
                 error: net/Kconfig: patch does not apply\n\
                 error: net/foo.c: already exists in working directory\n\
                 error: net/bar.c: does not exist in index\n\
                 error: net/baz.c: patch does not apply\n",
            ),
            "Conflict([\
             ApplyError { file: \"net/Kconfig\", line: Some(123), kind: PatchFailed }, \
             ApplyError { file: \"net/foo.c\", line: None, kind: AlreadyExists }, \
             ApplyError { file: \"net/bar.c\", line: None, kind: NotInIndex }, \
             ApplyError { file: \"net/baz.c\", line: None, kind: DoesNotApply }])",
        );
    }

    #[test]
    fn am_output() {
        check(
            (
                false,
                false,
                "Applying: net: core: let SO_NETSPEC reach the specialization code\n\
                 error: patch failed: net/core/sock.c:1234\n\
                 error: net/core/sock.c: patch does not apply\n\
                 Patch failed at 0003 net: core: let SO_NETSPEC reach the specialization code\n\
                 hint: Use 'git am --show-current-patch=diff' to see the failed patch\n",
            ),
            "Conflict([ApplyError { file: \"net/core/sock.c\", line: Some(1234), kind: PatchFailed }])",
        );
        check(
            (
                false,
                false,
                "Applying: x\nUsing index info to reconstruct a base tree...\n\
                 CONFLICT (content): Merge conflict in net/socket.c\n\
                 error: Failed to merge in the changes.\n",
            ),
            "Conflict([\
             ApplyError { file: \"net/socket.c\", line: None, kind: MergeConflict }, \
             ApplyError { file: \"\", line: None, kind: Other(\"Failed to merge in the changes.\") }])",
        );
    }

    #[test]
    fn odd_output() {
        check(
            (
                false,
                false,
                "error: patch failed: weird:name\nerror: corrupt patch at line 7\n",
            ),
            "Conflict([\
             ApplyError { file: \"weird:name\", line: None, kind: PatchFailed }, \
             ApplyError { file: \"\", line: None, kind: Other(\"corrupt patch at line 7\") }])",
        );
        check(
            (false, false, "\nfatal: not a git repository\n"),
            "Conflict([ApplyError { file: \"\", line: None, kind: Other(\"fatal: not a git repository\") }])",
        );
        check(
            (false, false, ""),
            "Conflict([ApplyError { file: \"\", line: None, kind: Other(\"git gave no reason\") }])",
        );
    }
}
