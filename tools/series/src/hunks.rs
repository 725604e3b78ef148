//! Applying one file's hunks from a patch to that file's text, exactly.

/// Applies the hunks that the `git format-patch` text `patch` has for `path`
/// to `old` (the file's text before the patch; empty for a file the patch
/// creates) and returns the new text.
///
/// Exact, like `git apply` without fuzz: every context and removed line must
/// be at the line number its hunk header gives. The error names the hunk and
/// the first line that does not match.
pub fn apply_file_hunks(old: &str, patch: &str, path: &str) -> Result<String, String> {
    let old_lines: Vec<&str> = old.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut next_old = 0usize; // index of the first old line not yet copied
    let mut in_file = false;
    let mut lines = patch.lines();

    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            in_file = rest.rsplit_once(" b/").is_some_and(|(_, b)| b == path);
            continue;
        }
        if !in_file || !line.starts_with("@@ ") {
            continue;
        }
        let (start, old_count, new_count) =
            parse_hunk_header(line).ok_or_else(|| format!("{path}: bad hunk header {line:?}"))?;
        // "-0,0" (a created file) starts before line 1; "-a,b" at line a.
        let at = if old_count == 0 { start } else { start.saturating_sub(1) };
        if at < next_old || at > old_lines.len() {
            return Err(format!("{path}: hunk {line:?} starts outside the file or overlaps"));
        }
        out.extend_from_slice(&old_lines[next_old..at]);
        next_old = at;
        let (mut old_left, mut new_left) = (old_count, new_count);
        while old_left > 0 || new_left > 0 {
            let body = lines
                .next()
                .ok_or_else(|| format!("{path}: hunk {line:?} ends early"))?;
            let (tag, text) = body.split_at(body.len().min(1));
            let expect_old = |next_old: usize| -> Result<(), String> {
                match old_lines.get(next_old) {
                    Some(have) if *have == text => Ok(()),
                    have => Err(format!(
                        "{path}: hunk {line:?} expects {text:?} at line {}, the file has {have:?}",
                        next_old + 1
                    )),
                }
            };
            match tag {
                " " | "" => {
                    expect_old(next_old)?;
                    out.push(old_lines[next_old]);
                    next_old += 1;
                    old_left = old_left.saturating_sub(1);
                    new_left = new_left.saturating_sub(1);
                }
                "-" => {
                    expect_old(next_old)?;
                    next_old += 1;
                    old_left = old_left.saturating_sub(1);
                }
                "+" => {
                    out.push(text);
                    new_left = new_left.saturating_sub(1);
                }
                "\\" => {}
                _ => return Err(format!("{path}: unexpected line {body:?} in hunk {line:?}")),
            }
        }
    }
    out.extend_from_slice(&old_lines[next_old.min(old_lines.len())..]);
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Ok(text)
}

/// `@@ -a,b +c,d @@ ...` -> (a, b, d); a missing count is 1.
fn parse_hunk_header(line: &str) -> Option<(usize, usize, usize)> {
    let mut parts = line.strip_prefix("@@ ")?.split(' ');
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |r: &str| -> Option<(usize, usize)> {
        match r.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (a, b) = range(old)?;
    let (_, d) = range(new)?;
    Some((a, b, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: &str = "diff --git a/f.h b/f.h\nnew file mode 100644\n--- /dev/null\n+++ b/f.h\n@@ -0,0 +1,3 @@\n+one\n+two\n+three\ndiff --git a/g b/g\n@@ -1 +1 @@\n-x\n+y\n";
    const EDIT: &str = "diff --git a/f.h b/f.h\n--- a/f.h\n+++ b/f.h\n@@ -1,3 +1,4 @@\n one\n-two\n+TWO\n+two and a half\n three\n-- \n2.39.5\n";

    #[test]
    fn creates_then_edits() {
        let created = apply_file_hunks("", CREATE, "f.h").unwrap();
        assert_eq!(created, "one\ntwo\nthree\n");
        let edited = apply_file_hunks(&created, EDIT, "f.h").unwrap();
        assert_eq!(edited, "one\nTWO\ntwo and a half\nthree\n");
    }

    #[test]
    fn other_files_hunks_are_ignored() {
        assert_eq!(apply_file_hunks("keep\n", EDIT, "g").unwrap(), "keep\n");
    }

    #[test]
    fn a_context_mismatch_is_an_error_naming_the_line() {
        let err = apply_file_hunks("one\nzwei\nthree\n", EDIT, "f.h").unwrap_err();
        assert!(err.contains("line 2") && err.contains("zwei"), "{err}");
    }

    #[test]
    fn mangled_input_does_not_panic() {
        let texts = [CREATE.to_string(), EDIT.to_string()];
        testkit::mangle(&texts, &["@@ -9,9 +1 @@", "+", "-", " ", "\\"], 500, |t| {
            let _ = apply_file_hunks("one\ntwo\nthree\n", t, "f.h");
        });
    }
}
