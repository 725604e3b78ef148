//! Kernel reports in the console log: WARN, BUG, oops, panic, lockdep,
//! KASAN, UBSAN, kmemleak, hung tasks and RCU stalls.
//!
//! Detection looks only at the start of a line (after the printk prefix), so
//! a test named `oops` or a diagnostic quoting `BUG:` is not a report.

use std::fmt;

/// What kind of problem the kernel reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// `WARN()`: a `cut here` block with `WARNING: CPU: ...`.
    Warn,
    /// `BUG: ...` or `kernel BUG at ...`.
    Bug,
    /// An oops: `Oops`, `Unable to handle kernel ...`, `general protection fault`.
    Oops,
    /// `Kernel panic - not syncing`.
    Panic,
    /// `BUG: KASAN: ...`.
    Kasan,
    /// `BUG: KFENCE: ...`.
    Kfence,
    /// A lockdep splat, `DEBUG_LOCKS_WARN_ON`, a suspicious RCU usage or a
    /// sleeping function called from atomic context.
    Lockdep,
    /// `UBSAN: ...`.
    Ubsan,
    /// `kmemleak: N new suspected memory leaks` with N > 0.
    Kmemleak,
    /// `INFO: task ... blocked for more than N seconds`.
    Hung,
    /// An RCU stall: `rcu: INFO: rcu_sched detected stalls ...`.
    Stall,
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReportKind::Warn => "WARNING",
            ReportKind::Bug => "BUG",
            ReportKind::Oops => "oops",
            ReportKind::Panic => "panic",
            ReportKind::Kasan => "KASAN",
            ReportKind::Kfence => "KFENCE",
            ReportKind::Lockdep => "lockdep",
            ReportKind::Ubsan => "UBSAN",
            ReportKind::Kmemleak => "kmemleak",
            ReportKind::Hung => "hung task",
            ReportKind::Stall => "RCU stall",
        })
    }
}

/// One problem the kernel reported, located by its most telling line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelReport {
    /// 1-based line number of `text` in the console log.
    pub line_no: usize,
    /// What kind of problem this is.
    pub kind: ReportKind,
    /// The line that identifies the report, without its printk prefix.
    pub text: String,
}

impl fmt::Display for KernelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} ({}): {}", self.line_no, self.kind, self.text)
    }
}

const CUT_HERE: &str = "------------[ cut here ]------------";

/// Line starts that open a lockdep-family report.
const LOCKDEP: &[&str] = &[
    "WARNING: possible circular locking dependency",
    "WARNING: possible recursive locking",
    "WARNING: inconsistent lock state",
    "inconsistent lock state",
    "WARNING: suspicious RCU usage",
    "WARNING: possible irq lock inversion",
    "INFO: possible irq lock inversion",
    "WARNING: bad unlock balance",
    "WARNING: held lock freed",
    "WARNING: lock held when returning to user space",
    "WARNING: Nested lock was not taken",
    "BUG: sleeping function called from invalid context",
    "BUG: Invalid wait context",
    "DEBUG_LOCKS_WARN_ON",
];

/// Line starts that open an oops.
const OOPS: &[&str] = &[
    "Oops",
    "Internal error: Oops",
    "Unable to handle kernel ",
    "general protection fault",
    "Kernel BUG [",
];

/// The lines of a console log that the kernel printed (they carry a printk
/// timestamp), without the timestamp: KUnit's KTAP, apart from what a
/// program in the guest wrote to the console, which has none.
pub fn kernel_lines(log: &str) -> String {
    let mut out = String::new();
    for raw in log.lines() {
        let line = raw.trim_end_matches('\r');
        let stripped = strip_printk_prefix(line);
        if stripped.len() != line.len() {
            out.push_str(stripped);
            out.push('\n');
        }
    }
    out
}

/// Removes what printk puts before the message: a `[    1.234567] `
/// timestamp and, with `CONFIG_PRINTK_CALLER`, a `[    T1] ` caller id.
pub(crate) fn strip_printk_prefix(line: &str) -> &str {
    let mut rest = line;
    for allowed in ["0123456789. ", "0123456789TC "] {
        let Some(inner) = rest.strip_prefix('[') else {
            break;
        };
        let Some(end) = inner.find(']') else { break };
        let field = &inner[..end];
        if field.trim().is_empty() || !field.chars().all(|c| allowed.contains(c)) {
            break;
        }
        rest = &inner[end + 1..];
        rest = rest.strip_prefix(' ').unwrap_or(rest);
    }
    rest
}

/// Classifies a console line that starts a kernel report, if it does.
///
/// Takes the raw line (printk prefix, `\r` and all), so that the harness can
/// call it on each line as it streams in.
/// The `cut here` line that opens a `WARN()` counts as [`ReportKind::Warn`].
pub fn scan_line(line: &str) -> Option<ReportKind> {
    classify(strip_printk_prefix(line.trim_end()).trim_start())
}

/// [`scan_line`] for a line without its printk prefix and surrounding space.
fn classify(s: &str) -> Option<ReportKind> {
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| s.starts_with(p));
    if s.starts_with("Kernel panic - not syncing") {
        Some(ReportKind::Panic)
    } else if s.starts_with(CUT_HERE) {
        Some(ReportKind::Warn)
    } else if starts(LOCKDEP) || is_lock_order_warning(s) {
        Some(ReportKind::Lockdep)
    } else if s.starts_with("BUG: KASAN:") {
        Some(ReportKind::Kasan)
    } else if s.starts_with("BUG: KFENCE:") {
        Some(ReportKind::Kfence)
    } else if starts(&["BUG: ", "kernel BUG at "]) {
        Some(ReportKind::Bug)
    } else if starts(&["WARNING: CPU:", "WARNING: at "]) {
        Some(ReportKind::Warn)
    } else if starts(OOPS) {
        Some(ReportKind::Oops)
    } else if s.starts_with("UBSAN:") {
        Some(ReportKind::Ubsan)
    } else if is_kmemleak_report(s) {
        Some(ReportKind::Kmemleak)
    } else if s.starts_with("INFO: task ") && s.contains(" blocked for more than ") {
        Some(ReportKind::Hung)
    } else if is_rcu_stall(s) {
        Some(ReportKind::Stall)
    } else {
        None
    }
}

/// Whether the line says the kernel panicked: the harness stops QEMU soon after.
pub fn is_panic_line(line: &str) -> bool {
    scan_line(line) == Some(ReportKind::Panic)
}

/// `WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected` and kin.
fn is_lock_order_warning(s: &str) -> bool {
    s.starts_with("WARNING: ") && s.contains("lock order detected")
}

fn is_kmemleak_report(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("kmemleak: ") else {
        return false;
    };
    let Some((count, rest)) = rest.split_once(' ') else {
        return false;
    };
    // A count too large for u64 is still a count.
    let leaks = count.bytes().all(|b| b.is_ascii_digit()) && count.bytes().any(|b| b != b'0');
    leaks && rest.starts_with("new suspected memory leak")
}

fn is_rcu_stall(s: &str) -> bool {
    let s = s.strip_prefix("rcu: ").unwrap_or(s);
    s.starts_with("INFO: rcu")
        && (s.contains("detected stall") || s.contains("detected expedited stall"))
}

/// Lines that end the report block they are in.
fn ends_block(s: &str) -> bool {
    s.starts_with("---[ end ") || (s.len() >= 8 && s.bytes().all(|b| b == b'='))
}

/// Groups report lines into reports: a `cut here` block, a BUG followed by its
/// oops, and the like each count once.
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    reports: Vec<KernelReport>,
    /// The last report's block is still open: later lines may belong to it.
    open: bool,
    /// The open block started with `cut here`, so it takes the next report
    /// line as its own and lets it name the kind.
    cut: bool,
}

impl Scanner {
    /// Feeds one console line (printk prefix already stripped).
    pub(crate) fn line(&mut self, line_no: usize, s: &str) {
        let s = s.trim();
        let Some(kind) = classify(s) else {
            if ends_block(s) {
                self.close();
            }
            return;
        };
        if s.starts_with(CUT_HERE) {
            self.start(line_no, kind, s);
            self.cut = true;
            return;
        }
        let open = match self.reports.last_mut() {
            Some(last) if self.open && kind != ReportKind::Panic => Some(last),
            _ => None,
        };
        match open {
            Some(last) if self.cut => {
                if last.text.starts_with(CUT_HERE) {
                    *last = KernelReport {
                        line_no,
                        kind,
                        text: s.to_string(),
                    };
                }
            }
            Some(last) if kind == ReportKind::Oops && can_oops(last.kind) => {}
            _ => self.start(line_no, kind, s),
        }
    }

    /// A line that is test output, not kernel output: any open report is over.
    pub(crate) fn close(&mut self) {
        self.open = false;
        self.cut = false;
    }

    pub(crate) fn finish(self) -> Vec<KernelReport> {
        self.reports
    }

    fn start(&mut self, line_no: usize, kind: ReportKind, s: &str) {
        self.reports.push(KernelReport {
            line_no,
            kind,
            text: s.to_string(),
        });
        // A panic ends the run; what follows it is a new story.
        self.open = kind != ReportKind::Panic;
        self.cut = false;
    }
}

/// Report kinds whose block goes on to print an oops for the same event.
fn can_oops(kind: ReportKind) -> bool {
    matches!(
        kind,
        ReportKind::Warn
            | ReportKind::Bug
            | ReportKind::Oops
            | ReportKind::Kasan
            | ReportKind::Kfence
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_lines_keeps_only_printk_lines_without_their_prefix() {
        let log = "[    1.000000]     KTAP version 1\r\nKTAP version 1\n[    1.100000] [    T1]     ok 1 netspec_test\n1..0\n";
        assert_eq!(kernel_lines(log), "    KTAP version 1\n    ok 1 netspec_test\n");
    }

    /// Scans `log` line by line and compares the reports found, one per line
    /// as `line_no kind: text`.
    fn check(log: &str, expected: &str) {
        let mut scanner = Scanner::default();
        for (i, line) in log.lines().enumerate() {
            scanner.line(i + 1, strip_printk_prefix(line));
        }
        let actual: Vec<String> = scanner
            .finish()
            .iter()
            .map(|r| format!("{} {:?}: {}", r.line_no, r.kind, r.text))
            .collect();
        let expected: Vec<&str> = expected
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(actual, expected, "log:\n{log}");
    }

    #[test]
    fn single_lines() {
        check(
            "[    1.000000] WARNING: CPU: 0 PID: 1 at net/core/dev.c:1 f+0x1/0x2",
            "1 Warn: WARNING: CPU: 0 PID: 1 at net/core/dev.c:1 f+0x1/0x2",
        );
        check(
            "BUG: KASAN: slab-use-after-free in f+0x1/0x2",
            "1 Kasan: BUG: KASAN: slab-use-after-free in f+0x1/0x2",
        );
        check(
            "BUG: KFENCE: out-of-bounds read in f+0x1/0x2",
            "1 Kfence: BUG: KFENCE: out-of-bounds read in f+0x1/0x2",
        );
        check(
            "kernel BUG at mm/slub.c:42!",
            "1 Bug: kernel BUG at mm/slub.c:42!",
        );
        check(
            "BUG: scheduling while atomic: init/1/0x00000002",
            "1 Bug: BUG: scheduling while atomic: init/1/0x00000002",
        );
        check(
            "Unable to handle kernel NULL pointer dereference at virtual address 0",
            "1 Oops: Unable to handle kernel NULL pointer dereference at virtual address 0",
        );
        check(
            "general protection fault, probably for non-canonical address",
            "1 Oops: general protection fault, probably for non-canonical address",
        );
        check(
            "Kernel panic - not syncing: Attempted to kill init!",
            "1 Panic: Kernel panic - not syncing: Attempted to kill init!",
        );
        check(
            "UBSAN: shift-out-of-bounds in net/core/x.c:3:4",
            "1 Ubsan: UBSAN: shift-out-of-bounds in net/core/x.c:3:4",
        );
        check(
            "[    9.1] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
            "1 Kmemleak: kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
        );
        check(
            "kmemleak: 1 new suspected memory leak",
            "1 Kmemleak: kmemleak: 1 new suspected memory leak",
        );
        check(
            "INFO: task kworker/0:1:12 blocked for more than 122 seconds.",
            "1 Hung: INFO: task kworker/0:1:12 blocked for more than 122 seconds.",
        );
        check(
            "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
            "1 Stall: rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
        );
        check(
            "rcu: INFO: rcu_preempt detected stall on CPU",
            "1 Stall: rcu: INFO: rcu_preempt detected stall on CPU",
        );
        check(
            "WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected",
            "1 Lockdep: WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected",
        );
        check(
            "BUG: sleeping function called from invalid context at mm/slab.h:1",
            "1 Lockdep: BUG: sleeping function called from invalid context at mm/slab.h:1",
        );
        check(
            "INFO: possible irq lock inversion dependency detected",
            "1 Lockdep: INFO: possible irq lock inversion dependency detected",
        );
    }

    #[test]
    fn not_reports() {
        check("kmemleak: 0 new suspected memory leaks", "");
        check(
            "kmemleak: Kernel memory leak detector initialized (mem pool available: 15806)",
            "",
        );
        check("ok 3 oops_is_a_fine_name", "");
        check("    # expected BUG: nothing", "");
        check(
            "---[ end Kernel panic - not syncing: Fatal exception ]---",
            "",
        );
        check("WARNING: The mand mount option has been deprecated", "");
        check("[    0.1] Run /init as init process", "");
        check("", "");
    }

    #[test]
    fn cut_here_is_one_report() {
        check(
            "------------[ cut here ]------------
             WARNING: CPU: 1 PID: 77 at net/netspec/core.c:10 f+0x1/0x2
             Modules linked in:
             ---[ end trace 0000000000000000 ]---
             ------------[ cut here ]------------
             WARNING: CPU: 1 PID: 77 at net/netspec/core.c:20 g+0x1/0x2
             ---[ end trace 0000000000000000 ]---",
            "2 Warn: WARNING: CPU: 1 PID: 77 at net/netspec/core.c:10 f+0x1/0x2
             6 Warn: WARNING: CPU: 1 PID: 77 at net/netspec/core.c:20 g+0x1/0x2",
        );
    }

    #[test]
    fn cut_here_takes_the_kind_of_its_first_line() {
        check(
            "------------[ cut here ]------------
             DEBUG_LOCKS_WARN_ON(1)
             WARNING: CPU: 0 PID: 1 at kernel/locking/lockdep.c:232 f+0x1/0x2",
            "2 Lockdep: DEBUG_LOCKS_WARN_ON(1)",
        );
        check(
            "------------[ cut here ]------------
             UBSAN: array-index-out-of-bounds in net/netspec/core.c:3:9",
            "2 Ubsan: UBSAN: array-index-out-of-bounds in net/netspec/core.c:3:9",
        );
        check(
            "------------[ cut here ]------------
             kernel BUG at net/netspec/core.c:50!
             Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
            "2 Bug: kernel BUG at net/netspec/core.c:50!",
        );
        check(
            "------------[ cut here ]------------",
            "1 Warn: ------------[ cut here ]------------",
        );
    }

    #[test]
    fn bug_then_oops_then_panic() {
        check(
            "BUG: kernel NULL pointer dereference, address: 0000000000000000
             #PF: supervisor read access in kernel mode
             Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI
             ---[ end trace 0000000000000000 ]---
             Kernel panic - not syncing: Fatal exception
             ---[ end Kernel panic - not syncing: Fatal exception ]---",
            "1 Bug: BUG: kernel NULL pointer dereference, address: 0000000000000000
             5 Panic: Kernel panic - not syncing: Fatal exception",
        );
        check(
            "Unable to handle kernel paging request at virtual address dead
             Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP",
            "1 Oops: Unable to handle kernel paging request at virtual address dead",
        );
    }

    #[test]
    fn separators_and_test_output_end_blocks() {
        check(
            "==================================================================
             BUG: KASAN: slab-out-of-bounds in f+0x1/0x2
             ==================================================================
             BUG: KASAN: slab-out-of-bounds in f+0x1/0x2",
            "2 Kasan: BUG: KASAN: slab-out-of-bounds in f+0x1/0x2
             4 Kasan: BUG: KASAN: slab-out-of-bounds in f+0x1/0x2",
        );
        check(
            "kmemleak: 1 new suspected memory leaks
             kmemleak: 2 new suspected memory leaks",
            "1 Kmemleak: kmemleak: 1 new suspected memory leaks
             2 Kmemleak: kmemleak: 2 new suspected memory leaks",
        );
    }

    #[test]
    fn printk_prefixes() {
        check("[    1.234567][    T1] BUG: x", "1 Bug: BUG: x");
        check("[    1.234567][   C0] BUG: x", "1 Bug: BUG: x");
        check("[12345.000001]BUG: x", "1 Bug: BUG: x");
        check("[ cut here ] BUG: x", "");
        check("[] BUG: x", "");
        check("[    1.2 BUG: x", "");
    }
}
