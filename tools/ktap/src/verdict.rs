//! Judging a parsed report, and showing it to people.

use crate::kernel::KernelReport;
use crate::parse::{Report, Status, TestResult, END_MARKER};
use std::fmt::{self, Write};

/// Whether a VM test run passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every test passed or was skipped, the KTAP was complete and the kernel
    /// reported nothing.
    Pass,
    /// Everything that went wrong, structural problems first.
    Fail(Vec<Reason>),
}

/// One reason a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// No top-level `KTAP version` line: the guest printed no KTAP.
    NoVersion,
    /// No top-level `1..N` plan.
    NoPlan,
    /// The plan promised a different number of top-level results.
    PlanMismatch { planned: usize, ran: usize },
    /// A result number that does not follow the previous one.
    /// `test` is the path of numbers, such as `2.3` for a subtest.
    OutOfOrder {
        test: String,
        name: String,
        expected: usize,
    },
    /// A test said `not ok`. `test` is the path of numbers.
    Failed {
        test: String,
        name: String,
        directive: Option<String>,
    },
    /// The log lacks [`END_MARKER`]: the guest died or was stopped early.
    NoEndMarker,
    /// The kernel reported a problem.
    Kernel(KernelReport),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoVersion => write!(f, "no `KTAP version` line: the guest printed no KTAP"),
            Reason::NoPlan => write!(f, "no test plan (`1..N`) line"),
            Reason::PlanMismatch { planned, ran } => {
                write!(f, "planned {planned} tests but {ran} reported a result")
            }
            Reason::OutOfOrder {
                test,
                name,
                expected,
            } => {
                write!(
                    f,
                    "test {test}{} is out of order: expected number {expected}",
                    spaced(name)
                )
            }
            Reason::Failed {
                test,
                name,
                directive,
            } => {
                write!(f, "test {test}{} failed", spaced(name))?;
                match directive {
                    Some(d) => write!(f, ": {d}"),
                    None => Ok(()),
                }
            }
            Reason::NoEndMarker => write!(
                f,
                "no `{END_MARKER}` line: the guest died or was stopped before it finished"
            ),
            Reason::Kernel(r) => {
                write!(f, "kernel {} at log line {}: {}", r.kind, r.line_no, r.text)
            }
        }
    }
}

impl Report {
    /// Judges the run: see [`Reason`] for what fails it. Skips do not.
    pub fn verdict(&self) -> Verdict {
        let mut reasons = Vec::new();
        if !self.version_seen {
            reasons.push(Reason::NoVersion);
        }
        match self.plan {
            None => reasons.push(Reason::NoPlan),
            Some(planned) if planned != self.results.len() => reasons.push(Reason::PlanMismatch {
                planned,
                ran: self.results.len(),
            }),
            Some(_) => {}
        }
        check_numbers(&self.results, "", &mut reasons);
        failures(&self.results, "", &mut reasons);
        if !self.end_marker {
            reasons.push(Reason::NoEndMarker);
        }
        reasons.extend(self.kernel_reports.iter().cloned().map(Reason::Kernel));
        if reasons.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail(reasons)
        }
    }

    /// One line of counts, such as
    /// `ktap: 5 tests, 4 passed, 1 failed, 0 skipped; 0 kernel reports`.
    ///
    /// Counts the innermost tests. A parent that failed although none of its
    /// subtests did (it crashed, or exited non-zero) counts as a failed test
    /// of its own, so that the counts never hide a failure.
    pub fn summary(&self) -> String {
        let mut counts = [0usize; 3];
        count(&self.results, &mut counts);
        let [passed, failed, skipped] = counts;
        let kernel = self.kernel_reports.len();
        let tests = passed + failed + skipped;
        format!(
            "ktap: {tests} test{}, {passed} passed, {failed} failed, {skipped} skipped; {kernel} kernel report{}",
            plural(tests),
            plural(kernel)
        )
    }

    /// One line per result (`ok`, `FAIL` or `skip`, number, name, directive),
    /// subtests indented under their parent, then one `fail:` line per
    /// reason the run failed.
    pub fn render_results(&self) -> String {
        let mut out = String::new();
        render(&mut out, &self.results, 0);
        if let Verdict::Fail(reasons) = self.verdict() {
            for r in reasons {
                let _ = writeln!(out, "fail: {r}");
            }
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `name` with a space before it, or nothing for a result without a name.
fn spaced(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!(" {name}")
    }
}

fn path(prefix: &str, number: usize) -> String {
    if prefix.is_empty() {
        number.to_string()
    } else {
        format!("{prefix}.{number}")
    }
}

fn check_numbers(results: &[TestResult], prefix: &str, reasons: &mut Vec<Reason>) {
    let mut expected = 1;
    for r in results {
        if r.number != expected {
            reasons.push(Reason::OutOfOrder {
                test: path(prefix, r.number),
                name: r.name.clone(),
                expected,
            });
        }
        expected = r.number.saturating_add(1);
        check_numbers(&r.children, &path(prefix, r.number), reasons);
    }
}

fn failures(results: &[TestResult], prefix: &str, reasons: &mut Vec<Reason>) {
    for r in results {
        let test = path(prefix, r.number);
        if r.status == Status::Fail {
            reasons.push(Reason::Failed {
                test: test.clone(),
                name: r.name.clone(),
                directive: r.directive.clone(),
            });
        }
        failures(&r.children, &test, reasons);
    }
}

/// Adds up `[passed, failed, skipped]`; see [`Report::summary`].
fn count(results: &[TestResult], counts: &mut [usize; 3]) {
    for r in results {
        let failed_before = counts[1];
        count(&r.children, counts);
        let own = match r.status {
            Status::Pass => 0,
            Status::Fail => 1,
            Status::Skip => 2,
        };
        if r.children.is_empty() || (r.status == Status::Fail && counts[1] == failed_before) {
            counts[own] += 1;
        }
    }
}

fn render(out: &mut String, results: &[TestResult], depth: usize) {
    for r in results {
        let status = match r.status {
            Status::Pass => "ok",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        let indent = depth * 2;
        let _ = write!(
            out,
            "{:indent$}{status:<4} {}{}",
            "",
            r.number,
            spaced(&r.name)
        );
        if let Some(d) = &r.directive {
            let _ = write!(out, " # {d}");
        }
        out.push('\n');
        render(out, &r.children, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use crate::parse;

    /// Parses `log` and compares the rendered results plus summary with
    /// `expected`, whose lines start with `|` after any indentation.
    fn check(log: &str, expected: &str) {
        let report = parse(log);
        let actual = format!("{}{}\n", report.render_results(), report.summary());
        let expected: String = expected
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix('|'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(actual, expected, "log:\n{log}");
    }

    #[test]
    fn pass() {
        check(
            "KTAP version 1\n1..2\nok 1 a\nok 2 b # SKIP no ipv6\n# netspec-vm: end\n",
            "
            |ok   1 a
            |skip 2 b # SKIP no ipv6
            |ktap: 2 tests, 1 passed, 0 failed, 1 skipped; 0 kernel reports",
        );
    }

    #[test]
    fn everything_wrong() {
        check(
            "ok 2 a\nnot ok 3 b # boom\n[    1.0] BUG: KASAN: use-after-free in f+0x1/0x2\n",
            "
            |ok   2 a
            |FAIL 3 b # boom
            |fail: no `KTAP version` line: the guest printed no KTAP
            |fail: no test plan (`1..N`) line
            |fail: test 2 a is out of order: expected number 1
            |fail: test 3 b failed: boom
            |fail: no `# netspec-vm: end` line: the guest died or was stopped before it finished
            |fail: kernel KASAN at log line 3: BUG: KASAN: use-after-free in f+0x1/0x2
            |ktap: 2 tests, 1 passed, 1 failed, 0 skipped; 1 kernel report",
        );
    }

    #[test]
    fn subtests_count_innermost() {
        check(
            "KTAP version 1
1..2
    KTAP version 1
    1..2
    ok 1 x
    ok 2 y # SKIP
not ok 1 suite # exit status 1
    KTAP version 1
    1..1
    not ok 1 z
not ok 2 other
# netspec-vm: end",
            "
            |FAIL 1 suite # exit status 1
            |  ok   1 x
            |  skip 2 y # SKIP
            |FAIL 2 other
            |  FAIL 1 z
            |fail: test 1 suite failed: exit status 1
            |fail: test 2 other failed
            |fail: test 2.1 z failed
            |ktap: 4 tests, 1 passed, 2 failed, 1 skipped; 0 kernel reports",
        );
    }

    #[test]
    fn plan_mismatch_and_gap() {
        check(
            "KTAP version 1\n1..3\nok 1 a\nok 3 c\n# netspec-vm: end\n",
            "
            |ok   1 a
            |ok   3 c
            |fail: planned 3 tests but 2 reported a result
            |fail: test 3 c is out of order: expected number 2
            |ktap: 2 tests, 2 passed, 0 failed, 0 skipped; 0 kernel reports",
        );
    }
}
