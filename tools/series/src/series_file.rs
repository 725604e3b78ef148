//! The quilt-style `series` file and how it matches the directory it lives in.

use crate::{Diagnostic, Problem};
use std::collections::{BTreeSet, HashMap};

/// A parsed `series` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Series {
    /// The base recorded in a leading `# base: ...` comment, e.g. `Linux 6.12.95`.
    pub base: Option<String>,
    /// Patch file names in application order, duplicates dropped.
    pub patches: Vec<String>,
}

/// Parses a `series` file: one patch name per line, `#` comment lines.
///
/// Quilt accepts options such as `-p1` after a name; every patch here is a
/// `git format-patch` file applied with git's default, so any option is
/// reported (and ignored).
/// Because the file is generated, blank lines, stray whitespace, CRLF line
/// endings, trailing comments and duplicate names are reported too.
pub fn parse_series(text: &str) -> (Series, Vec<Diagnostic>) {
    let mut series = Series::default();
    let mut diags = Vec::new();
    let mut first_seen: HashMap<&str, usize> = HashMap::new();

    for (idx, raw) in text.split_inclusive('\n').enumerate() {
        let n = idx + 1;
        let mut line = raw.strip_suffix('\n').unwrap_or(raw);
        if let Some(l) = line.strip_suffix('\r') {
            diags.push(Diagnostic::new(n, "CRLF line ending; use LF"));
            line = l;
        }
        if line.trim().is_empty() {
            diags.push(Diagnostic::new(n, "blank line"));
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            diags.push(Diagnostic::new(n, "leading whitespace"));
        }
        if line.ends_with(char::is_whitespace) {
            diags.push(Diagnostic::new(n, "trailing whitespace"));
        }
        let line = line.trim();

        if let Some(comment) = line.strip_prefix('#') {
            if let Some(base) = comment.trim().strip_prefix("base:") {
                let base = base.trim();
                if !series.patches.is_empty() {
                    diags.push(Diagnostic::new(
                        n,
                        "`# base:` comment after the first patch; move it to the top",
                    ));
                }
                if base.is_empty() {
                    diags.push(Diagnostic::new(n, "`# base:` comment names no base"));
                } else if let Some(old) = &series.base {
                    diags.push(Diagnostic::new(
                        n,
                        format!("second `# base:` comment; keeping the first, {old:?}"),
                    ));
                } else {
                    series.base = Some(base.to_string());
                }
            }
            continue;
        }

        let (line, comment) = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(at) => (line[..at].trim_end(), true),
            None => (line, false),
        };
        if comment {
            diags.push(Diagnostic::new(
                n,
                "comment after a patch name; put comments on their own line",
            ));
        }
        let mut words = line.split_whitespace();
        let Some(name) = words.next() else { continue };
        for option in words {
            let message = if option == "-p1" {
                format!("option `{option}` after {name} is the default; drop it")
            } else {
                format!("option `{option}` after {name} is not supported; patches apply with -p1")
            };
            diags.push(Diagnostic::new(n, message));
        }
        if let Some(first) = first_seen.get(name) {
            diags.push(Diagnostic::new(
                n,
                format!("{name} is listed twice (first on line {first}); ignoring this one"),
            ));
            continue;
        }
        first_seen.insert(name, n);
        series.patches.push(name.to_string());
    }
    (series, diags)
}

/// Compares `series` with the file names (not paths) found in its directory.
///
/// Reports names listed but missing, `*.patch` files present but unlisted,
/// and listed names that are not `NNNN-slug.patch` with `NNNN` the 1-based
/// position, as `git format-patch` numbers them.
/// Files that do not end in `.patch` (the `series` file itself, a README)
/// are not the series' business and are ignored.
pub fn check_listing(series: &Series, files_in_dir: &[String]) -> Vec<Problem> {
    let present: BTreeSet<&str> = files_in_dir.iter().map(String::as_str).collect();
    let listed: BTreeSet<&str> = series.patches.iter().map(String::as_str).collect();
    let mut problems = Vec::new();

    for (idx, name) in series.patches.iter().enumerate() {
        let position = idx + 1;
        if !present.contains(name.as_str()) {
            problems.push(Problem::Missing { name: name.clone() });
        }
        if !is_numbered_name(name, position) {
            problems.push(Problem::Misnamed {
                name: name.clone(),
                position,
            });
        }
    }
    for name in present.difference(&listed) {
        if name.ends_with(".patch") {
            problems.push(Problem::Unlisted {
                name: name.to_string(),
            });
        }
    }
    problems
}

/// Whether `name` is `NNNN-slug.patch` for `position`, with a slug made of the
/// characters `git format-patch` keeps.
fn is_numbered_name(name: &str, position: usize) -> bool {
    let prefix = format!("{position:04}-");
    let Some(slug) = name
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(".patch"))
    else {
        return false;
    };
    !slug.is_empty()
        && !slug.starts_with(['-', '.'])
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input` and renders the result as `base`, one `patch` line per
    /// entry and one `diag` line per diagnostic, then compares to `expected`.
    fn check(input: &str, expected: &str) {
        let (series, diags) = parse_series(input);
        let mut actual = format!("base: {:?}\n", series.base);
        for p in &series.patches {
            actual += &format!("patch {p}\n");
        }
        for d in &diags {
            actual += &format!("diag {d}\n");
        }
        assert_eq!(actual.trim_end(), expected.trim_end(), "input:\n{input}");
    }

    #[test]
    fn clean_file() {
        check(
            "# base: Linux 6.12.95\n# generated\n0001-a.patch\n0002-b.patch\n",
            "base: Some(\"Linux 6.12.95\")\npatch 0001-a.patch\npatch 0002-b.patch",
        );
    }

    #[test]
    fn empty_file() {
        check("", "base: None");
    }

    #[test]
    fn no_final_newline() {
        check("0001-a.patch", "base: None\npatch 0001-a.patch");
    }

    #[test]
    fn options_after_names() {
        check(
            "0001-a.patch -p1\n0002-b.patch -p0 -R\n",
            "base: None\npatch 0001-a.patch\npatch 0002-b.patch\n\
             diag line 1: option `-p1` after 0001-a.patch is the default; drop it\n\
             diag line 2: option `-p0` after 0002-b.patch is not supported; patches apply with -p1\n\
             diag line 2: option `-R` after 0002-b.patch is not supported; patches apply with -p1",
        );
    }

    #[test]
    fn duplicates_blank_and_odd_lines() {
        check(
            "0001-a.patch\n\n 0002-b.patch\t\n0001-a.patch\r\n0003-c.patch # later\n",
            "base: None\npatch 0001-a.patch\npatch 0002-b.patch\npatch 0003-c.patch\n\
             diag line 2: blank line\n\
             diag line 3: leading whitespace\n\
             diag line 3: trailing whitespace\n\
             diag line 4: CRLF line ending; use LF\n\
             diag line 4: 0001-a.patch is listed twice (first on line 1); ignoring this one\n\
             diag line 5: comment after a patch name; put comments on their own line",
        );
    }

    #[test]
    fn base_comments() {
        check(
            "# base: Linux 6.1.140\n# base: Linux 6.1.141\n0001-a.patch\n# base: Linux 6.2\n#base:\n",
            "base: Some(\"Linux 6.1.140\")\npatch 0001-a.patch\n\
             diag line 2: second `# base:` comment; keeping the first, \"Linux 6.1.140\"\n\
             diag line 4: `# base:` comment after the first patch; move it to the top\n\
             diag line 4: second `# base:` comment; keeping the first, \"Linux 6.1.140\"\n\
             diag line 5: `# base:` comment after the first patch; move it to the top\n\
             diag line 5: `# base:` comment names no base",
        );
    }
}

#[cfg(test)]
mod listing_tests {
    use super::*;

    /// Checks `series` (whitespace-separated names) against `files` and
    /// compares the problems, one per line, to `expected`.
    fn check((series, files): (&str, &str), expected: &str) {
        let series = Series {
            base: None,
            patches: series.split_whitespace().map(String::from).collect(),
        };
        let files: Vec<String> = files.split_whitespace().map(String::from).collect();
        let actual: Vec<String> = check_listing(&series, &files)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(actual.join("\n"), expected.trim_end());
    }

    #[test]
    fn consistent() {
        check(
            (
                "0001-a.patch 0002-b.c_d.patch",
                "series 0002-b.c_d.patch 0001-a.patch README",
            ),
            "",
        );
    }

    #[test]
    fn missing_unlisted_and_misnumbered() {
        check(
            ("0001-a.patch 0003-b.patch 0003-c.patch", "series 0001-a.patch 0003-c.patch 0004-d.patch"),
            "0003-b.patch: listed in series but the file is missing; restore it or drop the line\n\
             0003-b.patch: at position 2 the name must be 0002-<slug>.patch; regenerate the series\n\
             0004-d.patch: not listed in series; add it to series or delete the file",
        );
    }

    #[test]
    fn malformed_names() {
        check(
            ("1-a.patch 0002-.patch 0003-a+b.patch 0004-a.diff 0005--a.patch", "1-a.patch 0002-.patch 0003-a+b.patch 0004-a.diff 0005--a.patch"),
            "1-a.patch: at position 1 the name must be 0001-<slug>.patch; regenerate the series\n\
             0002-.patch: at position 2 the name must be 0002-<slug>.patch; regenerate the series\n\
             0003-a+b.patch: at position 3 the name must be 0003-<slug>.patch; regenerate the series\n\
             0004-a.diff: at position 4 the name must be 0004-<slug>.patch; regenerate the series\n\
             0005--a.patch: at position 5 the name must be 0005-<slug>.patch; regenerate the series",
        );
    }
}
