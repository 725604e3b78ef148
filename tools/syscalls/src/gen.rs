//! Applying a [`Spec`] to the text of one table file.
//!
//! Every format follows the same steps: find the entries upstream already
//! has, refuse numbers that collide or sit too close to upstream's highest,
//! then add what is missing. Lines the spec owns are recognised by name, so a
//! second run finds everything present and changes nothing.

use crate::spec::{CompatColumn, Format, HeaderCompat, Spec, Syscall, Table};

/// Why a table file could not be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenError {
    /// The number is already used by an upstream syscall in this table.
    #[error("{path}: number {number} is taken by {existing_name}; pick another number in kernel-syscalls.toml")]
    Collision {
        /// Table path.
        path: String,
        /// The number the spec asked for.
        number: u32,
        /// The syscall that already has it.
        existing_name: String,
    },
    /// The number is too close to (or below) the table's highest upstream
    /// number, so upstream would reach it within the LTS lifetime.
    #[error("{path}: number {number} leaves less than min_headroom free numbers above upstream's highest ({highest}); raise it in kernel-syscalls.toml")]
    Headroom {
        /// Table path.
        path: String,
        /// The number the spec asked for.
        number: u32,
        /// The highest upstream number in the table (skip ranges excluded).
        highest: u32,
    },
    /// A header lacks the line the generator inserts next to.
    #[error("{path}: cannot find {what:?}; the file changed upstream, update the table's anchor in kernel-syscalls.toml")]
    Anchor {
        /// Table path.
        path: String,
        /// The text that was looked for.
        what: String,
    },
    /// The syscall is already in the table under another number.
    #[error("{path}: {name} is already wired as {found}, but the spec says {expected}; revert the old wiring first")]
    Renumbered {
        /// Table path.
        path: String,
        /// Syscall name.
        name: String,
        /// Number found in the file.
        found: u32,
        /// Number the spec asks for.
        expected: u32,
    },
}

/// Returns the contents of `table`'s file after wiring up every syscall in
/// `spec`. `original` is the file's current text; already-wired syscalls are
/// left alone, so `generate` on its own output returns it unchanged.
pub fn generate(spec: &Spec, table: &Table, original: &str) -> Result<String, GenError> {
    let mut lines = Lines::new(original);
    match &table.format {
        Format::Tbl { .. } => {
            let entries = tbl_entries(&lines.lines);
            for (s, number) in check(spec, table, &entries)? {
                let new = syscall_lines(spec, table, s);
                // In number order; x86-64's lines go after its x32 trailer.
                let at = match tbl_entries(&lines.lines).iter().find(|e| e.number > number) {
                    Some(e) => e.line,
                    None => lines
                        .lines
                        .iter()
                        .rposition(|l| !l.trim().is_empty())
                        .map_or(0, |i| i + 1),
                };
                lines.insert(at, new);
            }
        }
        Format::UnistdH {
            anchor,
            count_macro,
            ..
        } => {
            let entries = header_entries(&lines.lines, count_macro.as_deref());
            for (s, _) in check(spec, table, &entries)? {
                let Some(a) = lines.lines.iter().position(|l| l.contains(anchor.as_str())) else {
                    return Err(GenError::Anchor {
                        path: table.path.clone(),
                        what: anchor.clone(),
                    });
                };
                // After the last entry above the anchor, not between the
                // anchor and the comment or blank lines leading up to it.
                let mut at = a;
                if lines.lines[a].trim_start().starts_with('*') {
                    while at > 0 && !lines.lines[at].trim_start().starts_with("/*") {
                        at -= 1;
                    }
                }
                while at > 0 && lines.lines[at - 1].trim().is_empty() {
                    at -= 1;
                }
                lines.insert(at, syscall_lines(spec, table, s));
            }
            if let Some(m) = count_macro {
                bump_count(spec, table, &mut lines, m)?;
            }
        }
        Format::NrDefine { macro_name, .. } => bump_count(spec, table, &mut lines, macro_name)?,
    }
    Ok(lines.finish(original))
}

/// The exact lines [`generate`] adds to (or rewrites in) `table`'s file, in
/// file order: a patch wiring up the spec adds exactly these. They depend on
/// the spec alone (the `columns` of a tbl, the `count_column` of a count
/// macro), which [`layout_drift`] checks against the real file.
pub fn added_lines(spec: &Spec, table: &Table) -> Vec<String> {
    let mut syscalls: Vec<&Syscall> = spec.syscalls.iter().collect();
    syscalls.sort_by_key(|s| spec.number(s, table));
    let mut out: Vec<String> = match table.format {
        Format::NrDefine { .. } => Vec::new(),
        _ => syscalls
            .iter()
            .flat_map(|s| syscall_lines(spec, table, s))
            .collect(),
    };
    match &table.format {
        Format::UnistdH {
            count_macro: Some(m),
            count_column,
            ..
        } => out.push(count_line(spec, table, m, *count_column)),
        Format::NrDefine {
            macro_name,
            count_column,
            ..
        } => out.push(count_line(spec, table, macro_name, *count_column)),
        _ => {}
    }
    out
}

/// Says how the real file's layout differs from what the spec declares for
/// it (tbl `columns`, `count_column`), or `None` when the generated lines
/// will line up with their neighbours. Compares with the last upstream lines.
pub fn layout_drift(spec: &Spec, table: &Table, original: &str) -> Option<String> {
    let lines = Lines::new(original).lines;
    let (declared, found) = match &table.format {
        Format::Tbl {
            columns,
            compat_column,
            ..
        } => {
            let ours = |name: &str| spec.syscalls.iter().any(|s| s.name == name);
            let sample: Vec<TblLine> = lines
                .iter()
                .rev()
                .filter_map(|l| split_tbl(l))
                .filter(|t| !ours(&t.fields[2].1))
                .take(10)
                .collect();
            let mut found: Vec<usize> = (1..4)
                .map(|i| usual_column(&sample, i).unwrap_or(0))
                .collect();
            let mut declared = columns[..3].to_vec();
            // Few recent lines have a compat entry: look further back for them.
            if matches!(compat_column, CompatColumn::Optional | CompatColumn::Always) {
                let with_compat: Vec<TblLine> = lines
                    .iter()
                    .rev()
                    .filter_map(|l| split_tbl(l))
                    .filter(|t| t.fields.len() > 4 && !ours(&t.fields[2].1))
                    .take(10)
                    .collect();
                if let Some(c) = usual_column(&with_compat, 4) {
                    found.push(c);
                    declared.push(columns[3]);
                }
            }
            (declared, found)
        }
        Format::UnistdH {
            count_macro: Some(m),
            count_column,
            ..
        }
        | Format::NrDefine {
            macro_name: m,
            count_column,
            ..
        } => {
            let line = lines
                .iter()
                .find(|l| define(l).is_some_and(|(name, _)| name == m))?;
            (
                vec![count_column.unwrap_or(0)],
                vec![column_of_value(line, m).unwrap_or(0)],
            )
        }
        Format::UnistdH {
            count_macro: None, ..
        } => return None,
    };
    if declared == found {
        None
    } else {
        Some(format!(
            "{}: the file's columns are {found:?} but kernel-syscalls.toml declares {declared:?}; update the table",
            table.path
        ))
    }
}

/// The file as lines, remembering whether anything changed.
struct Lines {
    lines: Vec<String>,
    changed: bool,
}

impl Lines {
    fn new(text: &str) -> Self {
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines = if text.is_empty() {
            Vec::new()
        } else {
            body.split('\n').map(String::from).collect()
        };
        Lines {
            lines,
            changed: false,
        }
    }

    fn insert(&mut self, at: usize, new: Vec<String>) {
        let at = at.min(self.lines.len());
        self.lines.splice(at..at, new);
        self.changed = true;
    }

    fn finish(self, original: &str) -> String {
        if self.changed {
            let mut t = self.lines.join("\n");
            t.push('\n');
            t
        } else {
            original.to_string()
        }
    }
}

/// One numbered entry found in a file.
struct Entry {
    line: usize,
    number: u32,
    name: String,
}

/// The lines that wire `s` into `table`.
fn syscall_lines(spec: &Spec, table: &Table, s: &Syscall) -> Vec<String> {
    let number = spec.number(s, table);
    match &table.format {
        Format::Tbl {
            abi,
            compat_column,
            columns,
        } => {
            let mut fields = vec![number.to_string(), abi.clone(), s.name.clone()];
            match compat_column {
                CompatColumn::None | CompatColumn::Reject => fields.push(s.entry.clone()),
                CompatColumn::Entry => {
                    fields.push(s.compat.clone().unwrap_or_else(|| s.entry.clone()))
                }
                CompatColumn::Optional => {
                    fields.push(s.entry.clone());
                    fields.extend(s.compat.clone());
                }
                CompatColumn::Always => {
                    fields.push(s.entry.clone());
                    fields.push(s.compat.clone().unwrap_or_else(|| s.entry.clone()));
                }
            }
            let mut out = String::new();
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    pad(&mut out, columns.get(i - 1).copied().unwrap_or(0));
                }
                out.push_str(field);
            }
            vec![out]
        }
        Format::UnistdH { compat_style, .. } => {
            let call = match (s.compat.as_deref(), compat_style) {
                (None, _) => format!("__SYSCALL(__NR_{}, {})", s.name, s.entry),
                (Some(c), HeaderCompat::ScComp) => {
                    format!("__SC_COMP(__NR_{}, {}, {c})", s.name, s.entry)
                }
                (Some(c), HeaderCompat::Entry) => format!("__SYSCALL(__NR_{}, {c})", s.name),
            };
            vec![format!("#define __NR_{} {number}", s.name), call]
        }
        Format::NrDefine { .. } => Vec::new(),
    }
}

const TAB: usize = 8;

/// Pads `out` (one line) to display column `target`: with tabs when the
/// target is a tab stop, else with spaces; at least one of either.
fn pad(out: &mut String, target: usize) {
    let mut col = display_width(out);
    if target.is_multiple_of(TAB) {
        loop {
            out.push('\t');
            col = (col / TAB + 1) * TAB;
            if col >= target {
                break;
            }
        }
    } else {
        out.push_str(&" ".repeat(target.saturating_sub(col).max(1)));
    }
}

fn display_width(s: &str) -> usize {
    s.chars().fold(0, |col, c| {
        if c == '\t' {
            (col / TAB + 1) * TAB
        } else {
            col + 1
        }
    })
}

/// `#define <macro> <count>` with the count one past the spec's highest
/// number in `table`.
fn count_line(spec: &Spec, table: &Table, macro_name: &str, column: Option<usize>) -> String {
    let needed = spec
        .syscalls
        .iter()
        .map(|s| spec.number(s, table).saturating_add(1))
        .max()
        .unwrap_or(0);
    let mut out = format!("#define {macro_name}");
    match column {
        Some(c) => pad(&mut out, c),
        None => out.push(' '),
    }
    out + &needed.to_string()
}

/// The display column where a `#define`'s value starts, or `None` for the
/// default single space.
fn column_of_value(line: &str, macro_name: &str) -> Option<usize> {
    let name_end = line.find(macro_name)? + macro_name.len();
    let value = name_end + line[name_end..].find(|c: char| !c.is_whitespace())?;
    (&line[name_end..value] != " ").then(|| display_width(&line[..value]))
}

/// Checks every syscall against the entries upstream has and returns the
/// syscalls still to add, lowest number first.
fn check<'s>(
    spec: &'s Spec,
    table: &Table,
    entries: &[Entry],
) -> Result<Vec<(&'s Syscall, u32)>, GenError> {
    let ours = |name: &str| spec.syscalls.iter().any(|s| s.name == name);
    let skipped = |n: u32| table.skip_ranges.iter().any(|r| r.contains(&n));
    let highest = entries
        .iter()
        .filter(|e| !ours(&e.name) && !skipped(e.number))
        .map(|e| e.number)
        .max()
        .unwrap_or(0);
    let mut missing = Vec::new();
    for s in &spec.syscalls {
        let number = spec.number(s, table);
        let path = table.path.clone();
        if let Some(e) = entries
            .iter()
            .find(|e| e.number == number && e.name != s.name)
        {
            return Err(GenError::Collision {
                path,
                number,
                existing_name: e.name.clone(),
            });
        }
        if let Some(e) = entries
            .iter()
            .find(|e| e.name == s.name && e.number != number)
        {
            return Err(GenError::Renumbered {
                path,
                name: s.name.clone(),
                found: e.number,
                expected: number,
            });
        }
        let skipped_between = table
            .skip_ranges
            .iter()
            .map(|r| {
                let lo = (*r.start()).max(highest.saturating_add(1));
                let hi = (*r.end()).min(number.saturating_sub(1));
                hi.saturating_add(1).saturating_sub(lo)
            })
            .fold(0u32, u32::saturating_add);
        let free = number
            .saturating_sub(highest)
            .saturating_sub(skipped_between);
        if number <= highest || free < spec.min_headroom {
            return Err(GenError::Headroom {
                path,
                number,
                highest,
            });
        }
        if !entries.iter().any(|e| e.name == s.name) {
            missing.push((s, number));
        }
    }
    missing.sort_by_key(|&(_, n)| n);
    Ok(missing)
}

/// A `.tbl` data line split into fields with their display columns.
struct TblLine {
    /// (start column, text) per field.
    fields: Vec<(usize, String)>,
}

fn split_tbl(line: &str) -> Option<TblLine> {
    if line.trim_start().starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let mut fields = Vec::new();
    let (mut col, mut cur, mut start) = (0usize, String::new(), 0usize);
    for c in line.chars() {
        if c == ' ' || c == '\t' {
            if !cur.is_empty() {
                fields.push((start, std::mem::take(&mut cur)));
            }
            col = if c == '\t' {
                (col / TAB + 1) * TAB
            } else {
                col + 1
            };
        } else {
            if cur.is_empty() {
                start = col;
            }
            cur.push(c);
            col += 1;
        }
    }
    if !cur.is_empty() {
        fields.push((start, cur));
    }
    fields.first()?.1.parse::<u32>().ok()?;
    (fields.len() >= 3).then_some(TblLine { fields })
}

fn tbl_entries(lines: &[String]) -> Vec<Entry> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(line, l)| {
            let t = split_tbl(l)?;
            Some(Entry {
                line,
                number: t.fields[0].1.parse().ok()?,
                name: t.fields[2].1.clone(),
            })
        })
        .collect()
}

/// The display column most of `sample` starts field `i` at; later lines win
/// ties.
fn usual_column(sample: &[TblLine], i: usize) -> Option<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for t in sample.iter().rev().filter(|t| t.fields.len() > i) {
        let c = t.fields[i].0;
        match counts.iter_mut().find(|(k, _)| *k == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((c, 1)),
        }
    }
    let mut best: Option<(usize, usize)> = None;
    for (c, n) in counts {
        if best.is_none_or(|(_, b)| n >= b) {
            best = Some((c, n));
        }
    }
    best.map(|(c, _)| c)
}

/// `#define __NR_<name> <n>` and `#define __NR3264_<name> <n>` lines.
fn header_entries(lines: &[String], count_macro: Option<&str>) -> Vec<Entry> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(line, l)| {
            let (macro_name, number) = define(l)?;
            if Some(macro_name) == count_macro {
                return None;
            }
            let name = macro_name
                .strip_prefix("__NR3264_")
                .or_else(|| macro_name.strip_prefix("__NR_"))?;
            Some(Entry {
                line,
                number,
                name: name.to_string(),
            })
        })
        .collect()
}

/// Splits `#define MACRO 123 ...` into the macro and its number.
fn define(line: &str) -> Option<(&str, u32)> {
    let rest = line
        .trim_start()
        .strip_prefix('#')?
        .trim_start()
        .strip_prefix("define")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let mut words = rest.split_whitespace();
    let name = words.next()?;
    let number = words.next()?.parse().ok()?;
    Some((name, number))
}

/// Raises `#define <macro> N` to one past the spec's highest number in
/// `table`, rewriting the line in the declared layout.
fn bump_count(
    spec: &Spec,
    table: &Table,
    lines: &mut Lines,
    macro_name: &str,
) -> Result<(), GenError> {
    let Some(idx) = lines
        .lines
        .iter()
        .position(|l| define(l).is_some_and(|(m, _)| m == macro_name))
    else {
        return Err(GenError::Anchor {
            path: table.path.clone(),
            what: format!("#define {macro_name} <count>"),
        });
    };
    let old = define(&lines.lines[idx]).map_or(0, |(_, n)| n);
    let column = match &table.format {
        Format::UnistdH { count_column, .. } | Format::NrDefine { count_column, .. } => {
            *count_column
        }
        Format::Tbl { .. } => None,
    };
    let new = count_line(spec, table, macro_name, column);
    if define(&new).is_some_and(|(_, n)| n > old) {
        lines.lines[idx] = new;
        lines.changed = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_spec;

    const NETSPEC: &str = "min_headroom = 100\n[commit]\nsubject = \"s\"\nbody = \"b\"\n\
        [[syscall]]\nname = \"netspec\"\nentry = \"sys_netspec\"\nnumber = 600\n";
    const SEND: &str = "[[syscall]]\nname = \"customized_send\"\nentry = \"sys_customized_send\"\n\
        compat = \"compat_sys_customized_send\"\nnumber = 601\n";
    const TBL: &str =
        "[[table]]\nbases = [\"6.12\"]\npath = \"t.tbl\"\nformat = \"tbl\"\nabi = \"common\"\n";

    /// Generates the last table of `NETSPEC + spec` from `original`; compares
    /// the new text (or the error) with `expected`, and checks that a second
    /// run changes nothing and that `added_lines` are the lines it added.
    fn check((spec, original): (&str, &str), expected: &str) {
        let spec = parse_spec(&format!("{NETSPEC}{spec}")).unwrap();
        let table = spec.tables.last().unwrap();
        let actual = match generate(&spec, table, original) {
            Err(e) => format!("error {e}"),
            Ok(text) => {
                assert_eq!(
                    generate(&spec, table, &text).as_ref(),
                    Ok(&text),
                    "second run changed the text"
                );
                let mut new: Vec<&str> = text.lines().collect();
                for old in original.lines() {
                    if let Some(i) = new.iter().position(|l| *l == old) {
                        new.remove(i);
                    }
                }
                let added = added_lines(&spec, table);
                for line in &new {
                    assert!(
                        added.iter().any(|a| a == line),
                        "generate added {line:?}, added_lines lacks it"
                    );
                }
                for line in &added {
                    assert!(
                        text.lines().any(|l| l == line),
                        "added_lines has {line:?}, the output lacks it"
                    );
                }
                text
            }
        };
        assert_eq!(actual.trim(), expected.trim(), "original:\n{original}");
    }

    #[test]
    fn tbl_appends_in_declared_columns() {
        check(
            (TBL, "# c\n461\tcommon\tlsm_list_modules\t\tsys_lsm_list_modules\n462\tcommon\tmseal\t\t\t\tsys_mseal\n"),
            "# c\n461\tcommon\tlsm_list_modules\t\tsys_lsm_list_modules\n462\tcommon\tmseal\t\t\t\tsys_mseal\n\
             600\tcommon\tnetspec\t\t\t\tsys_netspec",
        );
        // No trailing newline; an empty file.
        check(
            (TBL, "1 common a"),
            "1 common a\n600\tcommon\tnetspec\t\t\t\tsys_netspec",
        );
        check((TBL, ""), "600\tcommon\tnetspec\t\t\t\tsys_netspec");
        // Numbers padded with spaces; a name past the entry column.
        let s390 = format!("{TBL}columns = [5, 16, 20, 72]\ncompat_column = \"always\"\n");
        check(
            (&s390, ""),
            "600  common\tnetspec sys_netspec\t\t\t\t\tsys_netspec",
        );
    }

    #[test]
    fn tbl_two_syscalls_in_order() {
        let original = "462  common\tmseal\t\t\tsys_mseal\t\t\tsys_mseal\n\n";
        let table = format!("{TBL}compat_column = \"always\"\ncolumns = [5, 16, 40, 72]\n");
        let both = format!("{SEND}{table}");
        check(
            (&both, original),
            "462  common\tmseal\t\t\tsys_mseal\t\t\tsys_mseal\n\
             600  common\tnetspec\t\t\tsys_netspec\t\t\tsys_netspec\n\
             601  common\tcustomized_send\t\tsys_customized_send\t\tcompat_sys_customized_send\n",
        );
        // Adding the second later gives the same file as adding both at once.
        let one = parse_spec(&format!("{NETSPEC}{table}")).unwrap();
        let first = generate(&one, &one.tables[0], original).unwrap();
        let both = parse_spec(&format!("{NETSPEC}{both}")).unwrap();
        let t = &both.tables[0];
        assert_eq!(generate(&both, t, &first), generate(&both, t, original));
        // A lower number goes before a higher one already there.
        let later = "462\tcommon\tmseal\tsys_mseal\n601\tcommon\tcustomized_send\t\t\tsys_customized_send\t\tcompat_sys_customized_send\n# end\n";
        check(
            (&format!("{SEND}{TBL}"), later),
            "462\tcommon\tmseal\tsys_mseal\n600\tcommon\tnetspec\t\t\t\tsys_netspec\n\
             601\tcommon\tcustomized_send\t\t\tsys_customized_send\t\tcompat_sys_customized_send\n# end",
        );
    }

    #[test]
    fn tbl_collision() {
        check(
            (TBL, "600\tcommon\tupstream_thing\tsys_upstream_thing\n"),
            "error t.tbl: number 600 is taken by upstream_thing; pick another number in kernel-syscalls.toml",
        );
    }

    #[test]
    fn headroom() {
        check(
            (TBL, "500\tcommon\tlast\tsys_last\n"),
            "500\tcommon\tlast\tsys_last\n600\tcommon\tnetspec\t\t\t\tsys_netspec",
        );
        check(
            (TBL, "501\tcommon\tfuture\tsys_future\n"),
            "error t.tbl: number 600 leaves less than min_headroom free numbers above upstream's highest (501); raise it in kernel-syscalls.toml",
        );
        // x86-64: the x32 range counts neither as highest nor as headroom.
        let x86 = format!("{TBL}skip_ranges = [[512, 547]]\ncolumns = [8, 16, 40, 56]\n");
        check(
            (&x86, "462\tcommon\tmseal\tsys_mseal\n547\tx32\tpwritev2\tcompat_sys_pwritev64v2\n# end of x32\n"),
            "462\tcommon\tmseal\tsys_mseal\n547\tx32\tpwritev2\tcompat_sys_pwritev64v2\n# end of x32\n\
             600\tcommon\tnetspec\t\t\tsys_netspec",
        );
        check(
            (&x86, "465\tcommon\tnext\tsys_next\n"),
            "error t.tbl: number 600 leaves less than min_headroom free numbers above upstream's highest (465); raise it in kernel-syscalls.toml",
        );
    }

    #[test]
    fn renumbered() {
        check(
            (TBL, "462\tcommon\tmseal\tsys_mseal\n599\tcommon\tnetspec\tsys_netspec\n"),
            "error t.tbl: netspec is already wired as 599, but the spec says 600; revert the old wiring first",
        );
    }

    #[test]
    fn unistd_h() {
        let h = "[[table]]\nbases = [\"6.1\"]\npath = \"u.h\"\nformat = \"unistd-h\"\nanchor = \"#undef __NR_syscalls\"\n\
                 count_macro = \"__NR_syscalls\"\ncompat_style = \"sc-comp\"\n";
        let original = "#define __NR_a 449\n__SYSCALL(__NR_a, sys_a)\n\n#define __NR_b 450\n__SYSCALL(__NR_b, sys_b)\n\n\
                        #undef __NR_syscalls\n#define __NR_syscalls 451\n";
        check(
            (&format!("{SEND}{h}"), original),
            "#define __NR_a 449\n__SYSCALL(__NR_a, sys_a)\n\n#define __NR_b 450\n__SYSCALL(__NR_b, sys_b)\n\
             #define __NR_netspec 600\n__SYSCALL(__NR_netspec, sys_netspec)\n\
             #define __NR_customized_send 601\n__SC_COMP(__NR_customized_send, sys_customized_send, compat_sys_customized_send)\n\n\
             #undef __NR_syscalls\n#define __NR_syscalls 602",
        );
        check((h, "#define __NR_b 450\n"), "error u.h: cannot find \"#undef __NR_syscalls\"; the file changed upstream, update the table's anchor in kernel-syscalls.toml");
        check(
            (h, "#define __NR3264_x 600\n#undef __NR_syscalls\n"),
            "error u.h: number 600 is taken by x; pick another number in kernel-syscalls.toml",
        );
    }

    #[test]
    fn unistd32_h_and_count() {
        let h = "[[table]]\nbases = [\"6.1\"]\npath = \"u32.h\"\nformat = \"unistd-h\"\n\
                 anchor = \"Please add new compat syscalls\"\ncompat_style = \"entry\"\n";
        let original = "#define __NR_b 450\n__SYSCALL(__NR_b, sys_b)\n\n/*\n * Please add new compat syscalls above this comment\n */\n";
        check(
            (&format!("{SEND}{h}"), original),
            "#define __NR_b 450\n__SYSCALL(__NR_b, sys_b)\n#define __NR_netspec 600\n__SYSCALL(__NR_netspec, sys_netspec)\n\
             #define __NR_customized_send 601\n__SYSCALL(__NR_customized_send, compat_sys_customized_send)\n\n\
             /*\n * Please add new compat syscalls above this comment\n */",
        );
        let count = format!(
            "{h}[[table]]\nbases = [\"6.1\"]\npath = \"u.h\"\nformat = \"nr-define\"\nmacro = \"__NR_compat_syscalls\"\n\
             counts = \"u32.h\"\ncount_column = 40\n"
        );
        check(
            (&count, "#define __NR_compat_syscalls\t\t451\n#endif\n"),
            "#define __NR_compat_syscalls\t\t601\n#endif",
        );
        check((&count, "#endif\n"), "error u.h: cannot find \"#define __NR_compat_syscalls <count>\"; the file changed upstream, update the table's anchor in kernel-syscalls.toml");
    }

    /// `layout_drift` on the last table of `NETSPEC + spec`.
    fn drift((spec, original): (&str, &str), expected: &str) {
        let spec = parse_spec(&format!("{NETSPEC}{spec}")).unwrap();
        let actual = layout_drift(&spec, spec.tables.last().unwrap(), original);
        assert_eq!(
            actual.as_deref().unwrap_or("none"),
            expected,
            "original:\n{original}"
        );
    }

    #[test]
    fn layout_drift_compares_declared_and_found_columns() {
        let x86 =
            "462\ti386\tmseal\t\t\tsys_mseal\n5\ti386\topen\t\t\tsys_open\t\t\tcompat_sys_open\n";
        drift((&format!("{TBL}columns = [8, 16, 40, 72]\n"), x86), "none");
        drift(
            (TBL, x86),
            "t.tbl: the file's columns are [8, 16, 40, 72] but kernel-syscalls.toml declares [8, 16, 48, 80]; update the table",
        );
        let count = "[[table]]\nbases = [\"6.12\"]\npath = \"u.h\"\nformat = \"nr-define\"\nmacro = \"N\"\ncounts = \"t.tbl\"\n";
        drift((&format!("{TBL}{count}"), "#define N 451\n"), "none");
        drift(
            (&format!("{TBL}{count}"), "#define N\t451\n"),
            "u.h: the file's columns are [16] but kernel-syscalls.toml declares [0]; update the table",
        );
    }
}
