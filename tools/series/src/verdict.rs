//! A quick verdict on someone else's tree: for each patch, whether it
//! applies exactly (`git apply --check`), only with fuzz (`patch -p1
//! --dry-run -F N`), not at all (which file and line), or is already there.

use std::fmt::Write;

/// What GNU patch said about one hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HunkOutcome {
    /// Applied, at another line (`offset`) and/or ignoring `fuzz` context lines.
    Applied { line: u32, offset: i64, fuzz: u32 },
    /// `Hunk #N FAILED at L.`
    Failed { line: u32 },
    /// `Hunk #N ignored at L.` (a file patch skipped).
    Ignored { line: u32 },
}

/// One hunk patch reported on; hunks it applied exactly are not reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunkReport {
    pub file: String,
    pub hunk: u32,
    pub outcome: HunkOutcome,
}

/// What one `patch -p1 --dry-run` run said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatchRun {
    pub hunks: Vec<HunkReport>,
    /// File-level trouble: a file to patch that is missing, one to create
    /// that exists, a malformed patch; `(file, what)`.
    pub problems: Vec<(String, String)>,
}

/// Parses GNU patch's output (`checking file F` or `patching file F`, then
/// `Hunk #N succeeded at L with fuzz F (offset K lines).`, `Hunk #N FAILED at L.`).
pub fn parse_patch_run(output: &str) -> PatchRun {
    let mut run = PatchRun::default();
    let mut file = String::new();
    // After "can't find file to patch", patch quotes the diff header that names it.
    let mut missing = false;
    for line in output.lines().map(str::trim_end) {
        if missing {
            if let Some(rest) = line.strip_prefix("|diff --git a/") {
                let f = rest.split(" b/").next().unwrap_or(rest);
                run.problems.push((f.to_string(), "does not exist".into()));
                missing = false;
            } else if line.starts_with("No file to patch") {
                run.problems
                    .push((String::new(), "a file to patch does not exist".into()));
                missing = false;
            }
            continue;
        }
        if let Some(f) = line
            .strip_prefix("checking file ")
            .or_else(|| line.strip_prefix("patching file "))
        {
            file = f.trim_matches(['\'', '"']).to_string();
        } else if let Some(rest) = line.strip_prefix("Hunk #") {
            let Some((n, rest)) = rest.split_once(' ') else {
                continue;
            };
            let Ok(hunk) = n.parse() else { continue };
            let number_after = |s: &str, key: &str| -> Option<i64> {
                let at = s.find(key)? + key.len();
                let digits: String = s[at..]
                    .chars()
                    .take_while(|c| *c == '-' || c.is_ascii_digit())
                    .collect();
                digits.parse().ok()
            };
            let line_no =
                |s: &str, key: &str| number_after(s, key).and_then(|n| u32::try_from(n).ok());
            let outcome = if let Some(l) = line_no(rest, "FAILED at ") {
                HunkOutcome::Failed { line: l }
            } else if let Some(l) = line_no(rest, "ignored at ") {
                HunkOutcome::Ignored { line: l }
            } else if let Some(l) = line_no(rest, "succeeded at ") {
                let fuzz = number_after(rest, "with fuzz ")
                    .and_then(|f| u32::try_from(f).ok())
                    .unwrap_or(0);
                let offset = number_after(rest, "(offset ").unwrap_or(0);
                HunkOutcome::Applied {
                    line: l,
                    offset,
                    fuzz,
                }
            } else {
                continue;
            };
            run.hunks.push(HunkReport {
                file: file.clone(),
                hunk,
                outcome,
            });
        } else if let Some(rest) = line.strip_prefix("The next patch would create the file ") {
            let f = rest.trim_end_matches(',').to_string();
            run.problems.push((f, "already exists".into()));
        } else if line.starts_with("can't find file to patch") {
            missing = true;
        } else if let Some(rest) = line.strip_prefix("patch: **** ") {
            run.problems.push((String::new(), rest.to_string()));
        } else if line.starts_with("Only garbage was found") {
            run.problems.push((String::new(), line.to_string()));
        }
    }
    run
}

/// Where a patch applied inexactly or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub line: Option<u32>,
    /// e.g. `hunk 4, fuzz 2`.
    pub note: String,
}

/// The verdict on one patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `git apply --check` accepts it: the context is exactly there.
    Clean,
    /// Only `patch` applies it, ignoring up to `fuzz` lines of context in
    /// the hunks at `places`: check that those landed where they should.
    Fuzz { fuzz: u32, places: Vec<Place> },
    /// Hunks that do not apply even with fuzz (`failed`), and the ones that
    /// did only with fuzz (`fuzzy`), which may have landed in the wrong place.
    Conflict {
        failed: Vec<Place>,
        fuzzy: Vec<Place>,
    },
    /// It reverse-applies: the tree already has it.
    Absorbed,
}

/// The verdict from `patch --dry-run`'s report, for a patch `git apply --check` refused.
/// Hunks patch placed with fuzz are listed; hunks it only moved are listed
/// when no hunk needed fuzz (moving is harmless, fuzz is what to check).
pub fn verdict_from_patch_run(run: &PatchRun) -> Verdict {
    let mut failed = Vec::new();
    let (mut fuzzy, mut moved) = (Vec::new(), Vec::new());
    let mut fuzz = 0;
    for h in &run.hunks {
        match h.outcome {
            HunkOutcome::Failed { line } | HunkOutcome::Ignored { line } => failed.push(Place {
                file: h.file.clone(),
                line: Some(line),
                note: format!("hunk {}", h.hunk),
            }),
            HunkOutcome::Applied {
                line,
                fuzz: f,
                offset,
            } => {
                fuzz = fuzz.max(f);
                let note = match (f, offset) {
                    (0, o) => format!("hunk {}, offset {o}", h.hunk),
                    (f, 0) => format!("hunk {}, fuzz {f}", h.hunk),
                    (f, o) => format!("hunk {}, fuzz {f}, offset {o}", h.hunk),
                };
                let place = Place {
                    file: h.file.clone(),
                    line: Some(line),
                    note,
                };
                if f > 0 {
                    fuzzy.push(place);
                } else {
                    moved.push(place);
                }
            }
        }
    }
    for (file, what) in &run.problems {
        failed.push(Place {
            file: file.clone(),
            line: None,
            note: what.clone(),
        });
    }
    if !failed.is_empty() {
        Verdict::Conflict { failed, fuzzy }
    } else if fuzzy.is_empty() {
        Verdict::Fuzz {
            fuzz,
            places: moved,
        }
    } else {
        Verdict::Fuzz {
            fuzz,
            places: fuzzy,
        }
    }
}

/// One patch in a [`VerdictView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictRow {
    pub number: String,
    pub subject: String,
    pub verdict: Verdict,
}

/// Everything [`render_verdicts`] shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictView {
    /// e.g. `patches/6.12 (Linux 6.12.95) against Linux 6.12.117 (/src/linux)`.
    pub title: String,
    /// The version of the tree checked, e.g. `Linux 6.12.117`.
    pub source_version: String,
    pub rows: Vec<VerdictRow>,
    /// Lines printed after the counts, e.g. that a patch is generated.
    pub notes: Vec<String>,
    /// The exact command to run next; omitted when empty.
    pub next: String,
}

fn place(p: &Place) -> String {
    let at = match p.line {
        Some(l) => format!("{}:{l}", p.file),
        None if p.file.is_empty() => "(no file)".to_string(),
        None => p.file.clone(),
    };
    format!("{at} ({})", p.note)
}

/// One line per patch, the verdict in a column (`+` applies cleanly, `~`
/// applies with fuzz, `!` conflicts, `=` absorbed), the places of fuzz and
/// conflicts on indented lines, and a footer with the counts.
pub fn render_verdicts(view: &VerdictView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "netspec series {}", view.title);
    if view.rows.is_empty() {
        out.push_str("  (no patches)\n");
    }
    let (mut clean, mut fuzzed, mut conflicts, mut absorbed) = (0, 0, 0, 0);
    let mut seen_conflict = false;
    for row in &view.rows {
        let (marker, label, places): (char, String, &[Place]) = match &row.verdict {
            Verdict::Clean => {
                clean += 1;
                ('+', "applies cleanly".into(), &[])
            }
            Verdict::Fuzz { fuzz, places } => {
                fuzzed += 1;
                let label = if *fuzz == 0 {
                    "applies with patch".into()
                } else {
                    format!("applies with fuzz {fuzz}")
                };
                ('~', label, places)
            }
            Verdict::Conflict { failed, fuzzy } => {
                conflicts += 1;
                seen_conflict = true;
                let _ = writeln!(
                    out,
                    "  ! {} {:<19} {}",
                    row.number, "conflicts", row.subject
                );
                for p in failed {
                    let _ = writeln!(out, "        {}", place(p));
                }
                for p in fuzzy {
                    let _ = writeln!(
                        out,
                        "        {}: applied with fuzz, maybe in the wrong place",
                        place(p)
                    );
                }
                continue;
            }
            Verdict::Absorbed => {
                absorbed += 1;
                ('=', "absorbed".into(), &[])
            }
        };
        let _ = writeln!(out, "  {marker} {} {label:<19} {}", row.number, row.subject);
        for p in places {
            let _ = writeln!(out, "        {}", place(p));
        }
    }
    out.push_str("---\n");
    let _ = writeln!(
        out,
        "tree: {}  patches: {}  clean: {clean}  fuzz: {fuzzed}  conflicts: {conflicts}  absorbed: {absorbed}",
        view.source_version,
        view.rows.len()
    );
    if seen_conflict {
        out.push_str(
            "after a conflict, each later patch is checked on top of the hunks that did apply\n",
        );
    }
    for note in &view.notes {
        let _ = writeln!(out, "{note}");
    }
    if !view.next.is_empty() {
        let _ = writeln!(out, "next: {}", view.next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `output` and compares the verdict's `Debug` form with `expected`.
    fn check(output: &str, expected: &str) {
        let actual = format!("{:?}", verdict_from_patch_run(&parse_patch_run(output)));
        assert_eq!(actual, expected, "output:\n{output}");
    }

    #[test]
    fn fuzz_and_offsets() {
        check(
            "checking file kernel/fork.c\nHunk #2 succeeded at 1306 with fuzz 2 (offset 12 lines).\n\
             Hunk #3 succeeded at 1400 (offset -3 lines).\nchecking file net/Kconfig\nHunk #1 succeeded at 7 with fuzz 1.\n",
            "Fuzz { fuzz: 2, places: [\
             Place { file: \"kernel/fork.c\", line: Some(1306), note: \"hunk 2, fuzz 2, offset 12\" }, \
             Place { file: \"net/Kconfig\", line: Some(7), note: \"hunk 1, fuzz 1\" }] }",
        );
        check(
            "checking file a.c\nHunk #3 succeeded at 1400 (offset -3 lines).\n",
            "Fuzz { fuzz: 0, places: [Place { file: \"a.c\", line: Some(1400), note: \"hunk 3, offset -3\" }] }",
        );
        check("checking file a.c\n", "Fuzz { fuzz: 0, places: [] }");
    }

    #[test]
    fn failures() {
        check(
            "checking file net/socket.c\nHunk #1 succeeded at 20 (offset 2 lines).\nHunk #2 FAILED at 2345.\n\
             1 out of 2 hunks FAILED\nchecking file 'odd name.c'\nHunk #1 ignored at 5.\n\
             checking file kernel/fork.c\nHunk #2 succeeded at 1411 with fuzz 2 (offset 97 lines).\n",
            "Conflict { failed: [\
             Place { file: \"net/socket.c\", line: Some(2345), note: \"hunk 2\" }, \
             Place { file: \"odd name.c\", line: Some(5), note: \"hunk 1\" }], \
             fuzzy: [Place { file: \"kernel/fork.c\", line: Some(1411), note: \"hunk 2, fuzz 2, offset 97\" }] }",
        );
        check(
            "The next patch would create the file net/netspec/core.c,\nwhich already exists!  Applying it anyway.\n\
             checking file net/netspec/core.c\nHunk #1 FAILED at 1.\n",
            "Conflict { failed: [\
             Place { file: \"net/netspec/core.c\", line: Some(1), note: \"hunk 1\" }, \
             Place { file: \"net/netspec/core.c\", line: None, note: \"already exists\" }], fuzzy: [] }",
        );
        check(
            "can't find file to patch at input line 5\nNo file to patch.  Skipping patch.\n1 out of 1 hunk ignored\n",
            "Conflict { failed: [Place { file: \"\", line: None, note: \"a file to patch does not exist\" }], fuzzy: [] }",
        );
        check(
            "can't find file to patch at input line 5\nThe text leading up to this was:\n|diff --git a/net/x.c b/net/x.c\n\
             |index 1..2 100644\nNo file to patch.  Skipping patch.\n1 out of 1 hunk ignored\n",
            "Conflict { failed: [Place { file: \"net/x.c\", line: None, note: \"does not exist\" }], fuzzy: [] }",
        );
        check(
            "patch: **** malformed patch at line 12: @@\n",
            "Conflict { failed: [Place { file: \"\", line: None, note: \"malformed patch at line 12: @@\" }], fuzzy: [] }",
        );
        check(
            "Hunk #x FAILED at 3.\nHunk #1 FAILED at -3.\nHunk #1 frobbed.\n",
            "Fuzz { fuzz: 0, places: [] }",
        );
    }
}
