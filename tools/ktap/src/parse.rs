//! The KTAP in a console log, and the kernel reports around it.

use crate::kernel::{strip_printk_prefix, KernelReport, Scanner};

/// The line the guest prints after its last test; a log without it means
/// the guest died or was stopped early.
pub const END_MARKER: &str = "# netspec-vm: end";

/// Everything [`parse`] found in a console log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// A top-level `KTAP version` line was seen.
    pub version_seen: bool,
    /// The top-level plan `1..N`, if one was seen.
    pub plan: Option<usize>,
    /// Top-level results in log order; subtests are their `children`.
    pub results: Vec<TestResult>,
    /// The log has the [`END_MARKER`] line.
    pub end_marker: bool,
    /// Problems the kernel reported anywhere in the log, in log order.
    pub kernel_reports: Vec<KernelReport>,
    /// Oddities in the KTAP, as `line N: ...`; the parse carried on past them.
    pub diagnostics: Vec<String>,
}

/// One `ok`/`not ok` line, with the results of its subtests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The number the line gives, which should be its 1-based position.
    pub number: usize,
    /// The description; empty if the line has none.
    pub name: String,
    /// The outcome.
    pub status: Status,
    /// Whatever follows the `#`: a directive such as `SKIP no ipv6`, or the
    /// reason for a failure.
    pub directive: Option<String>,
    /// Results of the subtests printed (indented) before this line.
    pub children: Vec<TestResult>,
}

/// The outcome of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `ok` without a `SKIP` directive.
    Pass,
    /// `not ok` without a `SKIP` directive.
    Fail,
    /// Either result with a `SKIP` directive; not a failure.
    Skip,
}

/// A KTAP line, its indentation aside.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Version(String),
    Plan(usize),
    Result(TestResult),
}

/// Recognises a KTAP version, plan or result line (already unindented).
/// Everything else, diagnostics included, is an unknown line: `None`.
fn parse_line(s: &str) -> Option<Line> {
    if let Some(v) = s
        .strip_prefix("KTAP version ")
        .or_else(|| s.strip_prefix("TAP version "))
    {
        return Some(Line::Version(v.trim().to_string()));
    }
    if let Some(rest) = s.strip_prefix("1..") {
        let digits = leading_digits(rest);
        let after = rest[digits.len()..].trim_start();
        if after.is_empty() || after.starts_with('#') {
            return digits.parse().ok().map(Line::Plan);
        }
        return None;
    }
    let (ok, rest) = match s.strip_prefix("ok ") {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix("not ok ")?),
    };
    let digits = leading_digits(rest);
    let number = digits.parse().ok()?;
    let rest = &rest[digits.len()..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t', '#'])) {
        return None;
    }
    let (name, directive) = match rest.split_once('#') {
        Some((name, directive)) => (name, Some(directive.trim()).filter(|d| !d.is_empty())),
        None => (rest, None),
    };
    let name = name.trim();
    let name = name.strip_prefix("- ").unwrap_or(name).trim();
    let skip =
        directive.is_some_and(|d| d.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("skip")));
    let status = match (skip, ok) {
        (true, _) => Status::Skip,
        (false, true) => Status::Pass,
        (false, false) => Status::Fail,
    };
    Some(Line::Result(TestResult {
        number,
        name: name.to_string(),
        status,
        directive: directive.map(str::to_string),
        children: Vec::new(),
    }))
}

fn leading_digits(s: &str) -> &str {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    &s[..end]
}

/// One nesting level of KTAP being read.
#[derive(Debug)]
struct Level {
    indent: usize,
    /// Line of the level's first KTAP line, for diagnostics.
    start: usize,
    version: bool,
    plan: Option<usize>,
    results: Vec<TestResult>,
    /// Results of a finished subtest, waiting for this level's result line.
    pending: Option<(usize, Vec<TestResult>)>,
}

impl Level {
    fn new(indent: usize, start: usize) -> Level {
        Level {
            indent,
            start,
            version: false,
            plan: None,
            results: Vec::new(),
            pending: None,
        }
    }
}

/// Reads a console log: the guest's KTAP, wherever it is among kernel
/// messages, and every kernel report.
///
/// Lines may carry a printk timestamp and end in `\r\n`.
/// Subtests are the indented KTAP blocks before their parent's result line,
/// to any depth.
/// Only the `SKIP` directive changes a result; others (`TODO`, `XFAIL`) fall
/// back to `ok`/`not ok`, as the KTAP spec allows.
/// Never panics; whatever does not fit lands in [`Report::diagnostics`].
pub fn parse(log: &str) -> Report {
    let mut report = Report::default();
    let mut scanner = Scanner::default();
    let mut levels: Vec<Level> = Vec::new();
    for (i, raw) in log.lines().enumerate() {
        let line_no = i + 1;
        let text = strip_printk_prefix(raw.trim_end_matches('\r'));
        if text.trim() == END_MARKER {
            report.end_marker = true;
            scanner.close();
            continue;
        }
        let trimmed = text.trim_start();
        let Some(line) = parse_line(trimmed.trim_end()) else {
            scanner.line(line_no, text);
            continue;
        };
        scanner.close();
        let indent = text.len() - trimmed.len();
        let diag = |message: String| format!("line {line_no}: {message}");
        let root_indent = levels.first().map_or(indent, |l| l.indent);
        let indent = indent.max(root_indent);
        while levels.len() > 1 && levels.last().is_some_and(|l| indent < l.indent) {
            let Some(done) = levels.pop() else { break };
            finish_subtest(&mut report.diagnostics, done, &mut levels);
        }
        if levels.last().is_none_or(|l| indent > l.indent) {
            if let Some((start, _)) = levels.last_mut().and_then(|l| l.pending.take()) {
                report.diagnostics.push(format!(
                    "line {start}: subtest has no result line in its parent; its results are dropped"
                ));
            }
            levels.push(Level::new(indent, line_no));
        }
        let Some(level) = levels.last_mut() else {
            continue;
        };
        match line {
            Line::Version(v) => {
                if level.version || level.plan.is_some() || !level.results.is_empty() {
                    report.diagnostics.push(diag(format!(
                        "`KTAP version` again in the test list that starts on line {}",
                        level.start
                    )));
                }
                if v != "1" {
                    report
                        .diagnostics
                        .push(diag(format!("KTAP version {v:?}; reading it as version 1")));
                }
                level.version = true;
            }
            Line::Plan(n) => {
                if level.plan.is_some() {
                    report
                        .diagnostics
                        .push(diag("a second plan; keeping the first".into()));
                } else {
                    level.plan = Some(n);
                }
            }
            Line::Result(mut result) => {
                if let Some((_, children)) = level.pending.take() {
                    result.children = children;
                }
                level.results.push(result);
            }
        }
    }
    while let Some(done) = levels.pop() {
        if levels.is_empty() {
            if let Some((start, _)) = &done.pending {
                report.diagnostics.push(format!(
                    "line {start}: subtest has no result line in its parent (did the guest die?)"
                ));
            }
            report.version_seen = done.version;
            report.plan = done.plan;
            report.results = done.results;
        } else {
            finish_subtest(&mut report.diagnostics, done, &mut levels);
        }
    }
    report.kernel_reports = scanner.finish();
    report
}

/// Hands a finished subtest's results to its parent level.
fn finish_subtest(diagnostics: &mut Vec<String>, done: Level, levels: &mut [Level]) {
    let start = done.start;
    if !done.version {
        diagnostics.push(format!(
            "line {start}: subtest without a `KTAP version` line"
        ));
    }
    match done.plan {
        None => diagnostics.push(format!("line {start}: subtest without a plan")),
        Some(n) if n != done.results.len() => diagnostics.push(format!(
            "line {start}: subtest plans {n} tests but has {} results",
            done.results.len()
        )),
        Some(_) => {}
    }
    let Some(parent) = levels.last_mut() else {
        return;
    };
    if let Some((earlier, _)) = parent.pending.replace((start, done.results)) {
        diagnostics.push(format!(
            "line {earlier}: subtest has no result line in its parent; its results are dropped"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    /// Parses `log` and compares a compact dump of the report with `expected`
    /// (both trimmed line by line).
    fn check(log: &str, expected: &str) {
        let report = parse(log);
        let mut actual = String::new();
        writeln!(
            actual,
            "version {} plan {:?} end {}",
            report.version_seen, report.plan, report.end_marker
        )
        .unwrap();
        dump(&mut actual, &report.results, 0);
        for r in &report.kernel_reports {
            writeln!(actual, "kernel {r}").unwrap();
        }
        for d in &report.diagnostics {
            writeln!(actual, "diag {d}").unwrap();
        }
        let trim = |s: &str| {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(trim(&actual), trim(expected), "log:\n{log}");
    }

    fn dump(out: &mut String, results: &[TestResult], depth: usize) {
        for r in results {
            writeln!(
                out,
                "{}{:?} {} {:?} {:?}",
                ".".repeat(depth),
                r.status,
                r.number,
                r.name,
                r.directive
            )
            .unwrap();
            dump(out, &r.children, depth + 1);
        }
    }

    #[test]
    fn flat() {
        check(
            "KTAP version 1
1..3
ok 1 query_version
not ok 2 query_bad_pointer # expected EFAULT, got 0
ok 3 something # SKIP no ipv6
# free-form diagnostic
# netspec-vm: end",
            "version true plan Some(3) end true
             Pass 1 \"query_version\" None
             Fail 2 \"query_bad_pointer\" Some(\"expected EFAULT, got 0\")
             Skip 3 \"something\" Some(\"SKIP no ipv6\")",
        );
    }

    #[test]
    fn result_line_forms() {
        check(
            "ok 1",
            "version false plan None end false\nPass 1 \"\" None",
        );
        check(
            "ok 1 - dash",
            "version false plan None end false\nPass 1 \"dash\" None",
        );
        check(
            "ok 1 x #",
            "version false plan None end false\nPass 1 \"x\" None",
        );
        check(
            "not ok 1 x # skip lower case",
            "version false plan None end false\nSkip 1 \"x\" Some(\"skip lower case\")",
        );
        check(
            "not ok 1 x # TODO later",
            "version false plan None end false\nFail 1 \"x\" Some(\"TODO later\")",
        );
        check(
            "ok 1#SKIP",
            "version false plan None end false\nSkip 1 \"\" Some(\"SKIP\")",
        );
        check(
            "1..0 # SKIP nothing to do",
            "version false plan Some(0) end false",
        );
        check(
            "ok\nok x\nok 1x\nnot ok\n1..\n1..3 tests\nok 99999999999999999999999 big",
            "version false plan None end false",
        );
    }

    #[test]
    fn timestamps_crlf_and_kernel_lines() {
        check(
            "[    0.000000] Linux version 6.12.0\r\n[    1.000000] Run /init as init process\r\nKTAP version 1\r\n1..2\r\n[    1.100000] random: crng init done\r\nok 1 a\r\n[    1.200000] ok 2 b\r\n# netspec-vm: end\r\n",
            "version true plan Some(2) end true
             Pass 1 \"a\" None
             Pass 2 \"b\" None",
        );
    }

    #[test]
    fn subtests() {
        check(
            "KTAP version 1
1..2
    KTAP version 1
    # Subtest: query
    1..2
    ok 1 version
    not ok 2 bad_pointer # expected EFAULT
not ok 1 query # exit status 1
    KTAP version 1
    1..1
        KTAP version 1
        1..1
        ok 1 deep
    ok 1 middle
ok 2 send",
            "version true plan Some(2) end false
             Fail 1 \"query\" Some(\"exit status 1\")
             .Pass 1 \"version\" None
             .Fail 2 \"bad_pointer\" Some(\"expected EFAULT\")
             Pass 2 \"send\" None
             .Pass 1 \"middle\" None
             ..Pass 1 \"deep\" None",
        );
    }

    #[test]
    fn broken_structure() {
        // The guest died inside a subtest.
        check(
            "KTAP version 1
1..2
    KTAP version 1
    1..3
    ok 1 a
[    2.0] Kernel panic - not syncing: Attempted to kill init!",
            "version true plan Some(2) end false
             kernel line 6 (panic): Kernel panic - not syncing: Attempted to kill init!
             diag line 3: subtest plans 3 tests but has 1 results
             diag line 3: subtest has no result line in its parent (did the guest die?)",
        );
        check(
            "KTAP version 1
KTAP version 2
1..1
1..2
    ok 1 a
    ok 2 b
    ok 3 c
ok 1 x",
            "version true plan Some(1) end false
             Pass 1 \"x\" None
             .Pass 1 \"a\" None
             .Pass 2 \"b\" None
             .Pass 3 \"c\" None
             diag line 2: `KTAP version` again in the test list that starts on line 1
             diag line 2: KTAP version \"2\"; reading it as version 1
             diag line 4: a second plan; keeping the first
             diag line 5: subtest without a `KTAP version` line
             diag line 5: subtest without a plan",
        );
        // Indented first, then less indented: the root is the first KTAP line's level.
        check(
            "  KTAP version 1\n  1..1\nok 1 a\n",
            "version true plan Some(1) end false
             Pass 1 \"a\" None",
        );
    }

    #[test]
    fn end_marker_must_be_exact() {
        check("# netspec-vm: end.", "version false plan None end false");
        check(
            "[    3.0] # netspec-vm: end  ",
            "version false plan None end true",
        );
    }
}
