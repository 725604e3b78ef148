//! checkpatch's report on a patch: its findings, and the one kind it makes
//! of code the kernel writes on purpose.

/// One finding of `checkpatch.pl --show-types`: its type and its text, the
/// quoted lines included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: String,
    pub text: String,
}

/// Splits checkpatch's report (findings separated by blank lines, each
/// starting `LEVEL:TYPE: message`) into findings. Text that does not start
/// that way is kept as a finding of kind "" so that nothing is dropped.
pub fn parse_checkpatch(report: &str) -> Vec<Finding> {
    report
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| {
            let head = b.lines().next().unwrap_or("");
            let kind = head.split(':').nth(1).filter(|_| head.matches(':').count() >= 2).unwrap_or("");
            Finding { kind: kind.to_string(), text: b.to_string() }
        })
        .collect()
}

/// Whether a finding is checkpatch asking for a sysctl table to be const
/// where the table is a namespace's own copy, written before it is
/// registered (every namespaced sysctl table upstream is built this way,
/// e.g. net/ipv4/sysctl_net_ipv4.c): the one line it quotes declares that
/// copy. checkpatch of 7.x names struct ctl_table among the structs that
/// should be const; 6.x's does not.
pub fn is_sysctl_copy(f: &Finding) -> bool {
    f.kind == "CONST_STRUCT" && f.text.lines().any(|l| l == "+\tstruct ctl_table *table;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(report: &str, expected: &[(&str, bool)]) {
        let got: Vec<(String, bool)> =
            parse_checkpatch(report).iter().map(|f| (f.kind.clone(), is_sysctl_copy(f))).collect();
        let want: Vec<(String, bool)> = expected.iter().map(|(k, e)| (k.to_string(), *e)).collect();
        assert_eq!(got, want, "{report}");
    }

    #[test]
    fn findings_and_the_sysctl_copy() {
        let copy = "WARNING:CONST_STRUCT: struct ctl_table should normally be const\n\
                    #391: FILE: net/netspec/sysctl.c:45:\n+\tstruct ctl_table *table;\n";
        let other = "WARNING:CONST_STRUCT: struct file_operations should normally be const\n\
                     #10: FILE: a.c:1:\n+static struct file_operations fops = {\n";
        let alloc = "WARNING:ALLOC_WITH_SIZEOF: Prefer kzalloc_obj over kzalloc with sizeof\n\
                     #567: FILE: net/netspec/tcp.c:173:\n+\tw = kzalloc(sizeof(*w), GFP_KERNEL);\n";
        check("", &[]);
        check(copy, &[("CONST_STRUCT", true)]);
        check(&format!("{copy}\n{other}\n{alloc}"), &[("CONST_STRUCT", true), ("CONST_STRUCT", false), ("ALLOC_WITH_SIZEOF", false)]);
        // A static table is not a namespace's copy.
        check("WARNING:CONST_STRUCT: x\n#1: FILE: a.c:1:\n+static struct ctl_table t[] = {\n", &[("CONST_STRUCT", false)]);
        // Text that is not a finding is kept, never dropped.
        check("something odd", &[("", false)]);
    }
}
