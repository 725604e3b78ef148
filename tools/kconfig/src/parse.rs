//! Config fragments and `.config` files: both are lines of `CONFIG_X=value`,
//! `# CONFIG_X is not set`, comments and blank lines.

use std::collections::BTreeMap;
use std::fmt;

/// The value an option is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `=y`.
    Yes,
    /// `=m`.
    Module,
    /// `=n` or `# CONFIG_X is not set`.
    No,
    /// `="..."`, unescaped: `\"` and `\\` are read as `"` and `\`.
    Str(String),
    /// Anything else as written, such as `123`, `-1` or `0x10`.
    Other(String),
}

impl Value {
    /// Whether `got` (from a `.config`, `None` if the option is absent)
    /// gives the option this value.
    ///
    /// An absent option counts as not set. Numbers compare by value, so
    /// `0x10` matches `0x0010`; everything else must match exactly.
    pub fn is_satisfied_by(&self, got: Option<&Value>) -> bool {
        match (self, got) {
            (Value::No, None) => true,
            (Value::Other(a), Some(Value::Other(b))) => {
                a == b || number(a).is_some_and(|a| number(b) == Some(a))
            }
            (wanted, Some(got)) => wanted == got,
            (_, None) => false,
        }
    }
}

/// Reads a decimal or `0x` hexadecimal integer, as Kconfig writes them.
fn number(s: &str) -> Option<i128> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let n = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?.into(),
    };
    Some(if negative { -n } else { n })
}

/// Shows the value as it follows `=` in a config file (`n` for not set).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Yes => f.write_str("y"),
            Value::Module => f.write_str("m"),
            Value::No => f.write_str("n"),
            Value::Str(s) => write!(f, "\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            Value::Other(s) => f.write_str(s),
        }
    }
}

/// One option set in a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in the fragment.
    pub line: usize,
    /// The option's name without the `CONFIG_` prefix, such as `KASAN`.
    pub option: String,
    /// The value the line gives it.
    pub value: Value,
}

/// A config fragment, such as `kernel-configs/debug.config`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fragment {
    /// How to name the fragment in messages, usually its path.
    pub name: String,
    /// The options it sets, in file order (repeats included).
    pub entries: Vec<Entry>,
}

/// Something wrong with one line; the parse carried on past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and, where it helps, what to do about it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads a fragment; `name` is kept for messages.
///
/// Malformed lines are skipped with a [`Diagnostic`]; a value that is not
/// `y`, `m`, `n`, a number or a quoted string is kept as [`Value::Other`]
/// with one. Setting an option twice is diagnosed on the second line; both
/// entries stay, and the later one wins, as in Kconfig.
pub fn parse(name: &str, text: &str) -> (Fragment, Vec<Diagnostic>) {
    let mut entries: Vec<Entry> = Vec::new();
    let mut diagnostics = Vec::new();
    let mut first_set: BTreeMap<String, usize> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let mut diag = |message: String| {
            diagnostics.push(Diagnostic {
                line: line_no,
                message,
            })
        };
        let Some((option, value)) = parse_line(line.trim(), &mut diag) else {
            continue;
        };
        if let Some(first) = first_set.get(&option) {
            diag(format!(
                "CONFIG_{option} is set again (first on line {first}); the later value wins"
            ));
        } else {
            first_set.insert(option.clone(), line_no);
        }
        entries.push(Entry {
            line: line_no,
            option,
            value,
        });
    }
    (
        Fragment {
            name: name.to_string(),
            entries,
        },
        diagnostics,
    )
}

/// Reads one trimmed line into an option and its value, or `None` for
/// comments, blank lines and lines too broken to use.
fn parse_line(line: &str, diag: &mut impl FnMut(String)) -> Option<(String, Value)> {
    if line.is_empty() {
        return None;
    }
    if let Some(comment) = line.strip_prefix('#') {
        if let Some(option) = line
            .strip_prefix("# CONFIG_")
            .and_then(|rest| rest.strip_suffix(" is not set"))
            .filter(|o| is_name(o))
        {
            return Some((option.to_string(), Value::No));
        }
        let looks_like = comment
            .trim_start()
            .strip_prefix("CONFIG_")
            .and_then(|rest| {
                let (option, tail) = rest.split_once(char::is_whitespace)?;
                (is_name(option) && tail.trim() == "is not set").then_some(option)
            });
        if let Some(option) = looks_like {
            diag(format!(
                "Kconfig reads this as a comment; write `# CONFIG_{option} is not set` exactly"
            ));
        }
        return None;
    }
    let Some((option, raw)) = line.strip_prefix("CONFIG_").and_then(|l| l.split_once('=')) else {
        diag(format!(
            "`{line}` is not `CONFIG_NAME=value`, `# CONFIG_NAME is not set`, a comment or blank"
        ));
        return None;
    };
    if option != option.trim_end() || raw != raw.trim_start() {
        diag(format!("`{line}`: Kconfig allows no spaces around `=`"));
        return None;
    }
    if !is_name(option) {
        diag(format!(
            "`CONFIG_{option}` is not an option name (letters, digits, `_`)"
        ));
        return None;
    }
    let value = match raw {
        "y" => Value::Yes,
        "m" => Value::Module,
        "n" => Value::No,
        "" => {
            diag(format!(
                "CONFIG_{option} has no value; for an empty string write `\"\"`"
            ));
            return None;
        }
        _ if raw.starts_with('"') => match unquote(raw) {
            Some(s) => Value::Str(s),
            None => {
                diag(format!(
                    "CONFIG_{option}: a string must be one `\"...\"` with `\\\"` and `\\\\` escapes"
                ));
                return None;
            }
        },
        _ => {
            if number(raw).is_none() {
                diag(format!(
                    "CONFIG_{option}={raw}: not y, m, n, a number or a quoted string"
                ));
            }
            Value::Other(raw.to_string())
        }
    };
    Some((option.to_string(), value))
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Reads `"..."`, which must end at the closing quote.
fn unquote(raw: &str) -> Option<String> {
    let mut chars = raw.strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return chars.as_str().is_empty().then_some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
    None
}

/// A merged `.config`: every option's final value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    values: BTreeMap<String, Value>,
}

impl Config {
    /// The value of `option` (without `CONFIG_`), `None` if the file does
    /// not mention it.
    pub fn get(&self, option: &str) -> Option<&Value> {
        self.values.get(option)
    }

    /// Every option the file mentions, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// Reads a `.config`, such as the output of `make olddefconfig`.
///
/// Uses the fragment syntax; lines it cannot read are skipped (Kconfig
/// wrote the file, so there should be none), and a repeated option takes
/// its last value.
pub fn parse_config(text: &str) -> Config {
    let (fragment, _) = parse("", text);
    Config {
        values: fragment
            .entries
            .into_iter()
            .map(|e| (e.option, e.value))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    /// Parses `text` as a fragment and compares a dump of its entries and
    /// diagnostics, one per line, with `expected` (trimmed line by line).
    fn check(text: &str, expected: &str) {
        let (fragment, diags) = parse("f.config", text);
        let mut actual = String::new();
        for e in &fragment.entries {
            writeln!(actual, "{}: {} = {:?}", e.line, e.option, e.value).unwrap();
        }
        for d in &diags {
            writeln!(actual, "diag {d}").unwrap();
        }
        let trim = |s: &str| {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(trim(&actual), trim(expected), "text:\n{text}");
    }

    #[test]
    fn values() {
        check(
            "CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=n\n# CONFIG_D is not set\nCONFIG_E=\"hello world\"\nCONFIG_F=0x10\nCONFIG_G=123\nCONFIG_H=-1\n",
            r#"1: A = Yes
               2: B = Module
               3: C = No
               4: D = No
               5: E = Str("hello world")
               6: F = Other("0x10")
               7: G = Other("123")
               8: H = Other("-1")"#,
        );
    }

    #[test]
    fn comments_blanks_and_line_endings() {
        check("# a comment\n\n   \n#\n# CONFIG_A=y is a commented-out line\r\nCONFIG_B=y\r\n  CONFIG_C=m  \n", "6: B = Yes\n7: C = Module");
        check("", "");
    }

    #[test]
    fn strings() {
        check(r#"CONFIG_S="""#, r#"1: S = Str("")"#);
        check(
            r#"CONFIG_S="say \"hi\" \\o/""#,
            r#"1: S = Str("say \"hi\" \\o/")"#,
        );
        check(r#"CONFIG_S="a#b=c""#, r#"1: S = Str("a#b=c")"#);
        check(
            r#"CONFIG_S="unterminated"#,
            r#"diag line 1: CONFIG_S: a string must be one `"..."` with `\"` and `\\` escapes"#,
        );
        check(
            r#"CONFIG_S="one" "two""#,
            r#"diag line 1: CONFIG_S: a string must be one `"..."` with `\"` and `\\` escapes"#,
        );
        check(
            r#"CONFIG_S="ends in backslash\"#,
            r#"diag line 1: CONFIG_S: a string must be one `"..."` with `\"` and `\\` escapes"#,
        );
    }

    #[test]
    fn malformed() {
        check(
            "FOO=y\nCONFIG_=y\nCONFIG_A B=y\nCONFIG_X\nCONFIG_E=\nCONFIG_Y=yes\nCONFIG_Z=y # why\n#CONFIG_N is not set\n# CONFIG_M  is not set\nCONFIG_é=y\nCONFIG_W = y",
            "6: Y = Other(\"yes\")
             7: Z = Other(\"y # why\")
             diag line 1: `FOO=y` is not `CONFIG_NAME=value`, `# CONFIG_NAME is not set`, a comment or blank
             diag line 2: `CONFIG_` is not an option name (letters, digits, `_`)
             diag line 3: `CONFIG_A B` is not an option name (letters, digits, `_`)
             diag line 4: `CONFIG_X` is not `CONFIG_NAME=value`, `# CONFIG_NAME is not set`, a comment or blank
             diag line 5: CONFIG_E has no value; for an empty string write `\"\"`
             diag line 6: CONFIG_Y=yes: not y, m, n, a number or a quoted string
             diag line 7: CONFIG_Z=y # why: not y, m, n, a number or a quoted string
             diag line 8: Kconfig reads this as a comment; write `# CONFIG_N is not set` exactly
             diag line 9: Kconfig reads this as a comment; write `# CONFIG_M is not set` exactly
             diag line 10: `CONFIG_é` is not an option name (letters, digits, `_`)
             diag line 11: `CONFIG_W = y`: Kconfig allows no spaces around `=`",
        );
    }

    #[test]
    fn set_twice() {
        check(
            "CONFIG_A=y\n# CONFIG_A is not set\nCONFIG_A=m\n",
            "1: A = Yes
             2: A = No
             3: A = Module
             diag line 2: CONFIG_A is set again (first on line 1); the later value wins
             diag line 3: CONFIG_A is set again (first on line 1); the later value wins",
        );
    }
}
