//! The file name `git format-patch` gives a patch.

/// Longest file name `git format-patch` writes by default
/// (`--filename-max-length`, git's `FORMAT_PATCH_NAME_MAX_DEFAULT`).
const NAME_MAX: usize = 64;
const SUFFIX: &str = ".patch";

/// Returns the name `git format-patch` gives patch number `index` (1-based)
/// with this subject, e.g. `0001-net-netspec-add-the-query-operation.patch`.
///
/// Mirrors git's `format_sanitized_subject` and `fmt_output_subject`:
/// runs of characters other than ASCII letters, digits, `.` and `_` become
/// one `-` (none at the start), runs of `.` collapse to one, trailing `.`
/// and `-` are trimmed, and then `NNNN-slug` is cut to 64 bytes less the
/// suffix and one byte, i.e. a 52-byte slug.
/// The cut can leave a trailing `-` or `.`; git keeps it, and so does this.
/// A newline in `subject` (a multi-line subject paragraph) counts as a space.
pub fn patch_file_name(index: usize, subject: &str) -> String {
    let mut name = format!("{index:04}-");
    let start = name.len();
    // 0 = something written, 1 = separator pending, 2 = nothing written yet.
    let mut space = 2;
    let mut bytes = subject.bytes().peekable();
    while let Some(b) = bytes.next() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' {
            if space == 1 {
                name.push('-');
            }
            space = 0;
            name.push(char::from(b));
            if b == b'.' {
                while bytes.next_if_eq(&b'.').is_some() {}
            }
        } else {
            space |= 1;
        }
    }
    while name.len() > start && name.ends_with(['.', '-']) {
        name.pop();
    }
    // Only ASCII was pushed, so any byte length is a char boundary.
    name.truncate(NAME_MAX - (SUFFIX.len() + 1));
    name.push_str(SUFFIX);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compares `patch_file_name(index, subject)` with `expected`.
    fn check((index, subject): (usize, &str), expected: &str) {
        assert_eq!(
            patch_file_name(index, subject),
            expected,
            "subject {subject:?}"
        );
    }

    // Expected names were produced by `git format-patch` 2.47 from commits
    // with these subjects.
    #[test]
    fn matches_git() {
        check(
            (
                1,
                "net: netspec: add CONFIG_NET_SPECIALIZE and the UAPI header",
            ),
            "0001-net-netspec-add-CONFIG_NET_SPECIALIZE-and-the-UAPI-h.patch",
        );
        check(
            (2, "netspec: wire up the netspec system call so that userspace can query the specialization state"),
            "0002-netspec-wire-up-the-netspec-system-call-so-that-user.patch",
        );
        check(
            (4, "netspec: drop the stale Makefile"),
            "0004-netspec-drop-the-stale-Makefile.patch",
        );
        check(
            (5, "netspec: café comment"),
            "0005-netspec-caf-comment.patch",
        );
        check(
            (1, "net: netspec: add the query operation"),
            "0001-net-netspec-add-the-query-operation.patch",
        );
    }

    #[test]
    fn edges() {
        check(
            (1, "  [x] ...leading junk..."),
            "0001-x-.leading-junk.patch",
        );
        check((1, "version 1...2 of a.b"), "0001-version-1.2-of-a.b.patch");
        check((1, ""), "0001-.patch");
        check((1, "!!!"), "0001-.patch");
        check((3, "two\nlines"), "0003-two-lines.patch");
        // The cut lands right after a separator; git keeps the dash.
        check(
            (7, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbb"),
            "0007-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-.patch",
        );
        check((12345, "net: x"), "12345-net-x.patch");
    }
}
