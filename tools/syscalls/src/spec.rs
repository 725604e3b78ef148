//! The model of `kernel-syscalls.toml` and its parser.
//!
//! Everything that can be checked without looking at a kernel tree is checked
//! here, so that [`crate::generate`] only has to deal with what a table file
//! actually contains.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use toml_edit::{ImDocument, Item, TableLike};

/// The parsed `kernel-syscalls.toml`: the project's syscalls and every table
/// file they are wired into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// A syscall number must stay at least this far above the highest number
    /// upstream already uses in a table (see [`crate::GenError::Headroom`]).
    pub min_headroom: u32,
    /// The kernel commit that carries the generated edits.
    pub commit: Commit,
    /// The syscalls, in file order.
    pub syscalls: Vec<Syscall>,
    /// The table files, in file order.
    pub tables: Vec<Table>,
}

/// Subject and body of the wiring commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// One-line subject, without the `[PATCH]` prefix.
    pub subject: String,
    /// The commit message body; the tool appends the trailers.
    pub body: String,
}

/// One system call as the tables name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syscall {
    /// Name in the tables and in `__NR_<name>`.
    pub name: String,
    /// Native entry point, e.g. `sys_netspec`.
    pub entry: String,
    /// Compat entry point, when the compat ABI needs its own.
    pub compat: Option<String>,
    /// Number in tables that follow the generic numbering.
    pub number: u32,
    /// Numbers for individual tables, keyed by table path; they replace
    /// `number + number_offset`.
    pub overrides: BTreeMap<String, u32>,
}

/// One file to edit, on one or more kernel bases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Kernel bases (e.g. `"6.12"`) whose tree contains this file.
    pub bases: Vec<String>,
    /// Path inside the kernel tree.
    pub path: String,
    /// How the file is laid out and what to change in it.
    pub format: Format,
    /// Added to [`Syscall::number`] for tables with their own numbering
    /// (alpha is generic + 110).
    pub number_offset: u32,
    /// Ranges upstream will never allocate from again (x86-64's x32 range);
    /// they neither count as the highest number nor as headroom.
    pub skip_ranges: Vec<RangeInclusive<u32>>,
}

/// The file formats the generator knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `syscall.tbl`: `<number> <abi> <name> [<entry> [<compat entry>]]`.
    Tbl {
        /// ABI column for the new lines.
        abi: String,
        /// What the fifth column means in this table.
        compat_column: CompatColumn,
        /// Display columns (tab width 8) where the abi, name, entry and
        /// compat fields start. A tab stop is reached with tabs, any other
        /// column with spaces (s390 pads its numbers with spaces).
        columns: [usize; 4],
    },
    /// `#define __NR_<name> <n>` plus `__SYSCALL(...)`, inserted after the
    /// last entry above `anchor`.
    UnistdH {
        /// Text of the line the new entries go above (after the preceding
        /// blank lines and comment opener).
        anchor: String,
        /// A `#define <macro> <count>` in the same file to raise to one past
        /// the highest number.
        count_macro: Option<String>,
        /// How a compat entry point is written.
        compat_style: HeaderCompat,
        /// Display column of the count macro's value; `None` is one space.
        count_column: Option<usize>,
    },
    /// A file that only holds `#define <macro> <count>` for a table kept in
    /// another file.
    NrDefine {
        /// The macro to raise, e.g. `__NR_compat_syscalls`.
        macro_name: String,
        /// Path of the table (same base) whose numbers it counts.
        counts: String,
        /// Display column of the macro's value; `None` is one space.
        count_column: Option<usize>,
    },
}

/// The fifth column of a `.tbl` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompatColumn {
    /// No compat ABI: the native entry is used; a compat entry is ignored.
    None,
    /// The table is itself a compat ABI: the compat entry, when there is one,
    /// goes in the entry column (mips n32).
    Entry,
    /// The compat entry, when there is one, goes in a fifth column.
    Optional,
    /// The fifth column is always present and repeats the native entry when
    /// there is no compat one (s390).
    Always,
    /// The table cannot express a compat entry this generator knows how to
    /// write (x86-64's x32 lines, arm's OABI column): a syscall with a compat
    /// entry is a spec error.
    Reject,
}

/// How a `unistd.h`-style header names a compat entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderCompat {
    /// `__SC_COMP(__NR_x, sys_x, compat_sys_x)` (asm-generic).
    ScComp,
    /// `__SYSCALL(__NR_x, compat_sys_x)`: the header is the compat table.
    Entry,
}

/// A problem in `kernel-syscalls.toml`, with the line and key it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {key}: {message}")]
pub struct SpecError {
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// Dotted key, e.g. `table[3].abi`.
    pub key: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl Spec {
    /// The wiring commit's subject.
    pub fn commit_subject(&self) -> String {
        self.commit.subject.clone()
    }

    /// The wiring commit's body, without trailers.
    pub fn commit_body(&self) -> String {
        self.commit.body.clone()
    }

    /// The kernel bases named by any table, sorted.
    pub fn bases(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .tables
            .iter()
            .flat_map(|t| t.bases.iter().map(String::as_str))
            .collect();
        set.into_iter().collect()
    }

    /// The tables to edit on `base`, in file order.
    pub fn tables_for<'a>(&'a self, base: &'a str) -> impl Iterator<Item = &'a Table> + 'a {
        self.tables
            .iter()
            .filter(move |t| t.bases.iter().any(|b| b == base))
    }

    /// The number `syscall` gets in `table`. A count-only table
    /// ([`Format::NrDefine`]) uses the numbering of the table it counts.
    pub fn number(&self, syscall: &Syscall, table: &Table) -> u32 {
        let numbered = match &table.format {
            Format::NrDefine { counts, .. } => self
                .tables
                .iter()
                .find(|t| &t.path == counts && t.bases.iter().any(|b| table.bases.contains(b)))
                .unwrap_or(table),
            _ => table,
        };
        match syscall.overrides.get(&numbered.path) {
            Some(&n) => n,
            None => syscall.number.saturating_add(numbered.number_offset),
        }
    }
}

/// Where most tables start their abi, name, entry and compat columns.
pub const DEFAULT_COLUMNS: [usize; 4] = [8, 16, 48, 80];

/// Parses `kernel-syscalls.toml`.
pub fn parse_spec(text: &str) -> Result<Spec, SpecError> {
    let doc = ImDocument::parse(text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        // Display is "TOML parse error at ...", a source excerpt, then the
        // reason (sometimes none); keep the reason, the line is reported apart.
        let reason = e
            .to_string()
            .lines()
            .skip(1)
            .filter(|l| {
                !l.trim_start()
                    .starts_with(|c: char| c == '|' || c.is_ascii_digit())
            })
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        let column = offset.map_or(0, |o| {
            let before = text.get(..o).unwrap_or("");
            before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1
        });
        SpecError {
            line: line_at(text, offset),
            key: "(syntax)".into(),
            message: if reason.is_empty() {
                format!("invalid TOML at column {column}")
            } else {
                format!("{reason} (column {column})")
            },
        }
    })?;
    let mut root = Fields::new(text, doc.as_table(), String::new(), Some(0));

    let min_headroom = root.int("min_headroom")?.unwrap_or(0);
    let commit = {
        let mut c = root.table("commit")?;
        let commit = Commit {
            subject: c.req_str("subject")?,
            body: c.req_str("body")?,
        };
        c.finish()?;
        commit
    };
    let mut syscalls = Vec::new();
    for mut s in root.array_of_tables("syscall")? {
        let overrides = match s.opt_table("overrides")? {
            None => BTreeMap::new(),
            Some(mut o) => o.all_ints()?,
        };
        let syscall = Syscall {
            name: s.ident("name")?,
            entry: s.ident("entry")?,
            compat: s.opt_ident("compat")?,
            number: s.req_int("number")?,
            overrides,
        };
        s.finish()?;
        syscalls.push((s, syscall));
    }
    let mut tables = Vec::new();
    for mut t in root.array_of_tables("table")? {
        let bases = t.str_array("bases")?;
        if bases.is_empty() {
            return Err(t.err("bases", "name at least one kernel base, e.g. [\"6.12\"]"));
        }
        let path = t.req_str("path")?;
        let format = match t.req_str("format")?.as_str() {
            "tbl" => Format::Tbl {
                abi: t.ident("abi")?,
                compat_column: match t.str("compat_column")?.as_deref() {
                    None | Some("optional") => CompatColumn::Optional,
                    Some("none") => CompatColumn::None,
                    Some("entry") => CompatColumn::Entry,
                    Some("always") => CompatColumn::Always,
                    Some("reject") => CompatColumn::Reject,
                    Some(other) => {
                        return Err(t.err(
                            "compat_column",
                            &format!(
                            "unknown value {other:?}; use optional, none, entry, always or reject"
                        ),
                        ))
                    }
                },
                columns: t.columns("columns")?,
            },
            "unistd-h" => Format::UnistdH {
                count_column: t.column("count_column")?,
                anchor: t.req_str("anchor")?,
                count_macro: t.opt_ident("count_macro")?,
                compat_style: match t.req_str("compat_style")?.as_str() {
                    "sc-comp" => HeaderCompat::ScComp,
                    "entry" => HeaderCompat::Entry,
                    other => {
                        return Err(t.err(
                            "compat_style",
                            &format!("unknown value {other:?}; use sc-comp or entry"),
                        ))
                    }
                },
            },
            "nr-define" => Format::NrDefine {
                macro_name: t.ident("macro")?,
                counts: t.req_str("counts")?,
                count_column: t.column("count_column")?,
            },
            other => {
                return Err(t.err(
                    "format",
                    &format!("unknown format {other:?}; use tbl, unistd-h or nr-define"),
                ))
            }
        };
        let number_offset = t.int("number_offset")?.unwrap_or(0);
        let mut skip_ranges = Vec::new();
        for (lo, hi) in t.int_pairs("skip_ranges")? {
            if lo > hi {
                return Err(t.err("skip_ranges", &format!("range [{lo}, {hi}] is empty")));
            }
            skip_ranges.push(lo..=hi);
        }
        let table = Table {
            bases,
            path,
            format,
            number_offset,
            skip_ranges,
        };
        t.finish()?;
        tables.push((t, table));
    }
    root.finish()?;

    validate(min_headroom, commit, syscalls, tables)
}

fn validate(
    min_headroom: u32,
    commit: Commit,
    syscalls: Vec<(Fields<'_>, Syscall)>,
    tables: Vec<(Fields<'_>, Table)>,
) -> Result<Spec, SpecError> {
    let spec = Spec {
        min_headroom,
        commit,
        syscalls: syscalls.iter().map(|(_, s)| s.clone()).collect(),
        tables: tables.iter().map(|(_, t)| t.clone()).collect(),
    };
    if spec.syscalls.is_empty() {
        return Err(SpecError {
            line: 0,
            key: "syscall".into(),
            message: "no [[syscall]] blocks; add one per system call".into(),
        });
    }
    for (i, (at, s)) in syscalls.iter().enumerate() {
        if syscalls[..i].iter().any(|(_, o)| o.name == s.name) {
            return Err(at.err("name", &format!("syscall {:?} is listed twice", s.name)));
        }
        for path in s.overrides.keys() {
            if !spec.tables.iter().any(|t| &t.path == path) {
                return Err(at.err_in(
                    "overrides",
                    &format!("overrides.{path:?}"),
                    "no [[table]] has this path; overrides are keyed by table path",
                ));
            }
        }
    }
    for (i, (t, table)) in tables.iter().enumerate() {
        for base in &table.bases {
            if tables[..i]
                .iter()
                .any(|(_, o)| o.path == table.path && o.bases.contains(base))
            {
                return Err(t.err(
                    "path",
                    &format!(
                        "{} is listed twice for base {base}; a file needs one [[table]] per base",
                        table.path
                    ),
                ));
            }
        }
        if let Format::NrDefine { counts, .. } = &table.format {
            for base in &table.bases {
                let counted = spec.tables.iter().find(|o| {
                    &o.path == counts
                        && o.bases.contains(base)
                        && !matches!(o.format, Format::NrDefine { .. })
                });
                if counted.is_none() {
                    return Err(t.err(
                        "counts",
                        &format!("no tbl or unistd-h [[table]] with path {counts} on base {base}"),
                    ));
                }
            }
        }
        let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
        for (at, s) in &syscalls {
            let n = spec.number(s, table);
            if let Some(other) = seen.insert(n, &s.name) {
                return Err(at.err(
                    "number",
                    &format!(
                        "{} gets number {n} in {}, which {other} already has",
                        s.name, table.path
                    ),
                ));
            }
            if s.compat.is_some() {
                if let Format::Tbl {
                    compat_column: CompatColumn::Reject,
                    ..
                } = table.format
                {
                    return Err(at.err(
                        "compat",
                        &format!(
                            "{} cannot carry a compat entry (compat_column = \"reject\"); wire it by hand or teach the generator",
                            table.path
                        ),
                    ));
                }
            }
        }
    }
    Ok(spec)
}

fn join(ctx: &str, key: &str) -> String {
    if ctx.is_empty() {
        key.into()
    } else {
        format!("{ctx}.{key}")
    }
}

fn line_at(text: &str, offset: Option<usize>) -> usize {
    match offset {
        Some(o) => text.get(..o).unwrap_or(text).matches('\n').count() + 1,
        None => 0,
    }
}

/// A TOML table being read: remembers which keys were used so unknown
/// (misspelt) keys are reported.
struct Fields<'a> {
    text: &'a str,
    table: &'a dyn TableLike,
    ctx: String,
    line: usize,
    used: BTreeSet<String>,
}

impl<'a> Fields<'a> {
    fn new(text: &'a str, table: &'a dyn TableLike, ctx: String, offset: Option<usize>) -> Self {
        let line = if offset.is_some() {
            line_at(text, offset)
        } else {
            0
        };
        Fields {
            text,
            table,
            ctx,
            line,
            used: BTreeSet::new(),
        }
    }

    fn line_of(&self, key: &str) -> usize {
        let offset = self
            .table
            .get_key_value(key)
            .and_then(|(k, v)| k.span().or_else(|| v.span()))
            .map(|s| s.start);
        match offset {
            Some(_) => line_at(self.text, offset),
            None => self.line,
        }
    }

    fn err(&self, key: &str, message: &str) -> SpecError {
        SpecError {
            line: self.line_of(key),
            key: join(&self.ctx, key),
            message: message.into(),
        }
    }

    /// An error about a part of `key`'s value, e.g. one entry of `overrides`.
    fn err_in(&self, key: &str, what: &str, message: &str) -> SpecError {
        SpecError {
            line: self.line_of(key),
            key: join(&self.ctx, what),
            message: message.into(),
        }
    }

    fn get(&mut self, key: &str) -> Option<&'a Item> {
        self.used.insert(key.into());
        self.table.get(key)
    }

    fn str(&mut self, key: &str) -> Result<Option<String>, SpecError> {
        match self.get(key) {
            None => Ok(None),
            Some(item) => match item.as_str() {
                Some(s) => Ok(Some(s.to_string())),
                None => Err(self.err(key, "expected a string")),
            },
        }
    }

    fn req_str(&mut self, key: &str) -> Result<String, SpecError> {
        self.str(key)?
            .ok_or_else(|| self.err(key, "missing required key"))
    }

    fn opt_ident(&mut self, key: &str) -> Result<Option<String>, SpecError> {
        match self.str(key)? {
            Some(s) if !is_ident(&s) => Err(self.err(key, &format!("{s:?} is not a C identifier"))),
            other => Ok(other),
        }
    }

    fn ident(&mut self, key: &str) -> Result<String, SpecError> {
        self.opt_ident(key)?
            .ok_or_else(|| self.err(key, "missing required key"))
    }

    fn int(&mut self, key: &str) -> Result<Option<u32>, SpecError> {
        match self.get(key) {
            None => Ok(None),
            Some(item) => match item.as_integer().and_then(|i| u32::try_from(i).ok()) {
                Some(n) => Ok(Some(n)),
                None => Err(self.err(key, "expected a non-negative integer")),
            },
        }
    }

    fn req_int(&mut self, key: &str) -> Result<u32, SpecError> {
        self.int(key)?
            .ok_or_else(|| self.err(key, "missing required key"))
    }

    /// A display column: a number of characters from the line start, tabs
    /// counted to the next multiple of 8.
    fn column(&mut self, key: &str) -> Result<Option<usize>, SpecError> {
        Ok(self.int(key)?.map(|n| n as usize))
    }

    /// The `columns` of a tbl, defaulting to the generic layout.
    fn columns(&mut self, key: &str) -> Result<[usize; 4], SpecError> {
        let Some(item) = self.get(key) else {
            return Ok(DEFAULT_COLUMNS);
        };
        let numbers: Option<Vec<usize>> = item.as_array().and_then(|a| {
            a.iter()
                .map(|v| v.as_integer().and_then(|n| usize::try_from(n).ok()))
                .collect()
        });
        match numbers.as_deref() {
            Some(&[a, b, c, d]) if 0 < a && a < b && b < c && c < d => Ok([a, b, c, d]),
            _ => Err(self.err(
                key,
                "expected four increasing columns: abi, name, entry, compat (e.g. [8, 16, 48, 80])",
            )),
        }
    }

    fn str_array(&mut self, key: &str) -> Result<Vec<String>, SpecError> {
        let Some(item) = self.get(key) else {
            return Err(self.err(key, "missing required key"));
        };
        let strings: Option<Vec<String>> = item
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or(None);
        strings.ok_or_else(|| self.err(key, "expected an array of strings"))
    }

    fn int_pairs(&mut self, key: &str) -> Result<Vec<(u32, u32)>, SpecError> {
        let Some(item) = self.get(key) else {
            return Ok(Vec::new());
        };
        let pair = |v: &toml_edit::Value| -> Option<(u32, u32)> {
            let a = v.as_array()?;
            let n = |i: usize| a.get(i)?.as_integer().and_then(|x| u32::try_from(x).ok());
            (a.len() == 2).then_some((n(0)?, n(1)?))
        };
        let pairs: Option<Vec<(u32, u32)>> =
            item.as_array().and_then(|a| a.iter().map(pair).collect());
        pairs.ok_or_else(|| self.err(key, "expected an array of [first, last] pairs"))
    }

    fn opt_table(&mut self, key: &str) -> Result<Option<Fields<'a>>, SpecError> {
        let ctx = join(&self.ctx, key);
        match self.get(key) {
            None => Ok(None),
            Some(item) => match item.as_table_like() {
                Some(t) => Ok(Some(
                    Fields::new(self.text, t, ctx, item.span().map(|s| s.start))
                        .with_line(self.line_of(key)),
                )),
                None => Err(self.err(key, "expected a table")),
            },
        }
    }

    fn with_line(mut self, line: usize) -> Self {
        if self.line == 0 {
            self.line = line;
        }
        self
    }

    fn table(&mut self, key: &str) -> Result<Fields<'a>, SpecError> {
        self.opt_table(key)?
            .ok_or_else(|| self.err(key, &format!("missing [{key}] table")))
    }

    fn array_of_tables(&mut self, key: &str) -> Result<Vec<Fields<'a>>, SpecError> {
        let Some(item) = self.get(key) else {
            return Ok(Vec::new());
        };
        let Some(array) = item.as_array_of_tables() else {
            return Err(self.err(key, &format!("expected [[{key}]] blocks")));
        };
        Ok(array
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Fields::new(
                    self.text,
                    t,
                    format!("{key}[{i}]"),
                    t.span().map(|s| s.start),
                )
            })
            .collect())
    }

    /// Reads every entry as an integer, for `overrides`.
    fn all_ints(&mut self) -> Result<BTreeMap<String, u32>, SpecError> {
        let keys: Vec<String> = self.table.iter().map(|(k, _)| k.to_string()).collect();
        let mut out = BTreeMap::new();
        for k in keys {
            let n = self.req_int(&k)?;
            out.insert(k, n);
        }
        Ok(out)
    }

    fn finish(&self) -> Result<(), SpecError> {
        for (key, _) in self.table.iter() {
            if !self.used.contains(key) {
                return Err(self.err(key, "unknown key (misspelt?)"));
            }
        }
        Ok(())
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "min_headroom = 100\n[commit]\nsubject = \"s\"\nbody = \"b\"\n";

    /// Parses `HEAD` + `input` and compares a one-line-per-fact summary, or
    /// the error, with `expected`.
    fn check(input: &str, expected: &str) {
        let text = format!("{HEAD}{input}");
        let actual = match parse_spec(&text) {
            Err(e) => format!("error {e}"),
            Ok(spec) => {
                let mut out = format!("bases {:?}\n", spec.bases());
                for t in &spec.tables {
                    let numbers: Vec<String> = spec
                        .syscalls
                        .iter()
                        .map(|s| format!("{}={}", s.name, spec.number(s, t)))
                        .collect();
                    out += &format!(
                        "{} {:?} {:?} {}\n",
                        t.path,
                        t.bases,
                        t.format,
                        numbers.join(" ")
                    );
                }
                out
            }
        };
        assert_eq!(actual.trim(), expected.trim(), "input:\n{input}");
    }

    #[test]
    fn valid() {
        check(
            r#"
[[syscall]]
name = "netspec"
entry = "sys_netspec"
number = 600
overrides = { "b.tbl" = 650 }
[[syscall]]
name = "customized_send"
entry = "sys_customized_send"
compat = "compat_sys_customized_send"
number = 601
[[table]]
bases = ["6.12", "6.1"]
path = "a.tbl"
format = "tbl"
abi = "common"
number_offset = 110
[[table]]
bases = ["6.1"]
path = "b.tbl"
format = "tbl"
abi = "n64"
compat_column = "always"
columns = [5, 16, 40, 72]
skip_ranges = [[512, 547]]
[[table]]
bases = ["6.1"]
path = "u32.h"
format = "unistd-h"
anchor = "Please add"
compat_style = "entry"
[[table]]
bases = ["6.1"]
path = "u.h"
format = "nr-define"
macro = "__NR_compat_syscalls"
counts = "u32.h"
count_column = 40
"#,
            r#"
bases ["6.1", "6.12"]
a.tbl ["6.12", "6.1"] Tbl { abi: "common", compat_column: Optional, columns: [8, 16, 48, 80] } netspec=710 customized_send=711
b.tbl ["6.1"] Tbl { abi: "n64", compat_column: Always, columns: [5, 16, 40, 72] } netspec=650 customized_send=601
u32.h ["6.1"] UnistdH { anchor: "Please add", count_macro: None, compat_style: Entry, count_column: None } netspec=600 customized_send=601
u.h ["6.1"] NrDefine { macro_name: "__NR_compat_syscalls", counts: "u32.h", count_column: Some(40) } netspec=600 customized_send=601
"#,
        );
    }

    #[test]
    fn duplicate_number() {
        check(
            r#"
[[syscall]]
name = "a"
entry = "sys_a"
number = 600
[[syscall]]
name = "b"
entry = "sys_b"
number = 590
overrides = { "t.tbl" = 600 }
[[table]]
bases = ["6.12"]
path = "t.tbl"
format = "tbl"
abi = "common"
"#,
            "error line 13: syscall[1].number: b gets number 600 in t.tbl, which a already has",
        );
    }

    #[test]
    fn duplicate_name() {
        check(
            "[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\nnumber = 1\n[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\nnumber = 2\n",
            "error line 10: syscall[1].name: syscall \"a\" is listed twice",
        );
    }

    #[test]
    fn unknown_key() {
        check(
            "[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\nnumbr = 1\n",
            "error line 5: syscall[0].number: missing required key",
        );
        check(
            "[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\nnumber = 1\ncompt = \"x\"\n",
            "error line 9: syscall[0].compt: unknown key (misspelt?)",
        );
    }

    #[test]
    fn bad_values() {
        check(
            "[[syscall]]\nname = \"a b\"\nentry = \"sys_a\"\nnumber = 1\n",
            "error line 6: syscall[0].name: \"a b\" is not a C identifier",
        );
        check(
            "[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\nnumber = -1\n",
            "error line 8: syscall[0].number: expected a non-negative integer",
        );
        check(
            "[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\nnumber = 1\n[[table]]\nbases = [\"6.1\"]\npath = \"x\"\nformat = \"csv\"\n",
            "error line 12: table[0].format: unknown format \"csv\"; use tbl, unistd-h or nr-define",
        );
        check(
            "min_headroom = ",
            "error line 5: (syntax): invalid TOML at column 16",
        );
        check(
            "x = [1,",
            "error line 5: (syntax): invalid array; expected `]` (column 8)",
        );
    }

    #[test]
    fn bad_columns() {
        let syscall = "[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\nnumber = 1\n";
        check(
            &format!("{syscall}[[table]]\nbases = [\"6.1\"]\npath = \"x\"\nformat = \"tbl\"\nabi = \"common\"\ncolumns = [8, 16, 16, 80]\n"),
            "error line 14: table[0].columns: expected four increasing columns: abi, name, entry, compat (e.g. [8, 16, 48, 80])",
        );
    }

    #[test]
    fn cross_references() {
        let syscall =
            "[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\ncompat = \"compat_sys_a\"\nnumber = 1\n";
        check(
            &format!("{syscall}[[table]]\nbases = [\"6.1\"]\npath = \"u.h\"\nformat = \"nr-define\"\nmacro = \"N\"\ncounts = \"u32.h\"\n"),
            "error line 15: table[0].counts: no tbl or unistd-h [[table]] with path u32.h on base 6.1",
        );
        check(
            &format!("{syscall}[[table]]\nbases = [\"6.1\"]\npath = \"x.tbl\"\nformat = \"tbl\"\nabi = \"common\"\ncompat_column = \"reject\"\n"),
            "error line 8: syscall[0].compat: x.tbl cannot carry a compat entry (compat_column = \"reject\"); wire it by hand or teach the generator",
        );
        check(
            "[[syscall]]\nname = \"a\"\nentry = \"sys_a\"\nnumber = 1\noverrides = { \"y.tbl\" = 3 }\n",
            "error line 9: syscall[0].overrides.\"y.tbl\": no [[table]] has this path; overrides are keyed by table path",
        );
        check(
            &format!("{syscall}[[table]]\nbases = [\"6.1\"]\npath = \"x.tbl\"\nformat = \"tbl\"\nabi = \"common\"\n[[table]]\nbases = [\"6.12\", \"6.1\"]\npath = \"x.tbl\"\nformat = \"tbl\"\nabi = \"common\"\n"),
            "error line 17: table[1].path: x.tbl is listed twice for base 6.1; a file needs one [[table]] per base",
        );
    }
}
