//! Checks across fragments: what `olddefconfig` dropped, and options set in
//! more than one fragment.

use crate::parse::{Config, Entry, Fragment, Value};
use std::collections::BTreeMap;
use std::fmt;

/// A fragment option the merged `.config` does not have as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsatisfied {
    /// The fragment that set the option last.
    pub fragment: String,
    /// Its line there.
    pub line: usize,
    /// The option, without `CONFIG_`.
    pub option: String,
    /// The value the fragment asked for.
    pub wanted: Value,
    /// The value in the `.config`; `None` if it is absent.
    pub got: Option<Value>,
}

impl fmt::Display for Unsatisfied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let got = match &self.got {
            None => "absent".to_string(),
            Some(Value::No) => "not set".to_string(),
            Some(v) => v.to_string(),
        };
        write!(
            f,
            "{}:{}: CONFIG_{}={} did not survive olddefconfig (got: {got})",
            self.fragment, self.line, self.option, self.wanted
        )
    }
}

/// The fragment options that `config` does not have as asked, in fragment
/// order, then line order.
///
/// Fragments are in merge order: the last one to set an option decides its
/// value, so only that setting is checked.
/// `=n` and `is not set` are satisfied by either in `config`, or by the
/// option's absence.
pub fn unsatisfied(fragments: &[Fragment], config: &Config) -> Vec<Unsatisfied> {
    let mut last: BTreeMap<&str, (usize, &Entry)> = BTreeMap::new();
    for (index, fragment) in fragments.iter().enumerate() {
        for entry in &fragment.entries {
            last.insert(&entry.option, (index, entry));
        }
    }
    let mut decisive: Vec<(usize, &Entry)> = last.into_values().collect();
    decisive.sort_by_key(|&(index, entry)| (index, entry.line));
    decisive
        .into_iter()
        .filter(|(_, entry)| !entry.value.is_satisfied_by(config.get(&entry.option)))
        .map(|(index, entry)| Unsatisfied {
            fragment: fragments[index].name.clone(),
            line: entry.line,
            option: entry.option.clone(),
            wanted: entry.value.clone(),
            got: config.get(&entry.option).cloned(),
        })
        .collect()
}

/// Where a fragment sets an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The fragment's name.
    pub fragment: String,
    /// The line in it.
    pub line: usize,
    /// The value set there.
    pub value: Value,
}

/// One option set in two fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The option, without `CONFIG_`.
    pub option: String,
    /// The setting in the earlier fragment.
    pub first: Setting,
    /// The setting in the later fragment, which wins when merged in order.
    pub second: Setting,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = (&self.first, &self.second);
        write!(
            f,
            "{}:{}: CONFIG_{}={} is set again in {}:{}: CONFIG_{}={}",
            a.fragment, a.line, self.option, a.value, b.fragment, b.line, self.option, b.value
        )
    }
}

/// Options set in more than one fragment, same value or not: each fragment
/// that sets an option again is paired with the previous one to set it.
///
/// Within a fragment only its last setting counts (repeats there are
/// [`parse`](crate::parse) diagnostics). Listed by the later setting's
/// fragment and line; whether a conflict is allowed is the caller's call.
pub fn conflicts(fragments: &[Fragment]) -> Vec<Conflict> {
    let mut previous: BTreeMap<&str, Setting> = BTreeMap::new();
    let mut found = Vec::new();
    for fragment in fragments {
        let mut own: BTreeMap<&str, &Entry> = BTreeMap::new();
        for entry in &fragment.entries {
            own.insert(&entry.option, entry);
        }
        let mut own: Vec<&Entry> = own.into_values().collect();
        own.sort_by_key(|e| e.line);
        for entry in own {
            let setting = Setting {
                fragment: fragment.name.clone(),
                line: entry.line,
                value: entry.value.clone(),
            };
            if let Some(first) = previous.insert(&entry.option, setting.clone()) {
                found.push(Conflict {
                    option: entry.option.clone(),
                    first,
                    second: setting,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, parse_config};

    /// Parses `fragments` (name, text) in merge order and `config`, and
    /// compares the unsatisfied and conflicting options, one per line, with
    /// `expected` (trimmed line by line).
    fn check((fragments, config): (&[(&str, &str)], &str), expected: &str) {
        let fragments: Vec<Fragment> = fragments
            .iter()
            .map(|(name, text)| parse(name, text).0)
            .collect();
        let config = parse_config(config);
        let mut actual: Vec<String> = unsatisfied(&fragments, &config)
            .iter()
            .map(|u| u.to_string())
            .collect();
        actual.extend(
            conflicts(&fragments)
                .iter()
                .map(|c| format!("conflict {c}")),
        );
        let expected: Vec<&str> = expected
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn survived() {
        check(
            (
                &[("a", "CONFIG_A=y\nCONFIG_B=m\nCONFIG_S=\"x\"\nCONFIG_N=0x10")],
                "CONFIG_A=y\nCONFIG_B=m\nCONFIG_S=\"x\"\nCONFIG_N=0x0010\n",
            ),
            "",
        );
    }

    #[test]
    fn dropped_or_changed() {
        check(
            (
                &[(
                    "a",
                    "CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=y\nCONFIG_S=\"x\"\nCONFIG_N=16",
                )],
                "# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_S=\"y\"\nCONFIG_N=0x10\n",
            ),
            "a:1: CONFIG_A=y did not survive olddefconfig (got: not set)
             a:2: CONFIG_B=m did not survive olddefconfig (got: y)
             a:3: CONFIG_C=y did not survive olddefconfig (got: absent)
             a:4: CONFIG_S=\"x\" did not survive olddefconfig (got: \"y\")",
        );
    }

    #[test]
    fn no_vs_not_set_vs_absent() {
        let fragment = "CONFIG_A=n\n# CONFIG_B is not set\nCONFIG_C=n\n# CONFIG_D is not set\n";
        check(
            (&[("a", fragment)], "# CONFIG_A is not set\nCONFIG_B=n\n"),
            "",
        );
        check(
            (
                &[("a", fragment)],
                "CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=\"\"\n",
            ),
            "a:1: CONFIG_A=n did not survive olddefconfig (got: y)
             a:2: CONFIG_B=n did not survive olddefconfig (got: m)
             a:3: CONFIG_C=n did not survive olddefconfig (got: \"\")",
        );
    }

    #[test]
    fn later_fragments_override() {
        check(
            (
                &[
                    ("base", "CONFIG_A=y\nCONFIG_B=y\n"),
                    ("override", "# CONFIG_A is not set\n"),
                ],
                "CONFIG_B=y\n",
            ),
            "conflict base:1: CONFIG_A=y is set again in override:1: CONFIG_A=n",
        );
        check(
            (
                &[
                    ("base", "CONFIG_A=n\n"),
                    ("override", "CONFIG_A=y\nCONFIG_A=m\n"),
                ],
                "CONFIG_A=y\n",
            ),
            "override:2: CONFIG_A=m did not survive olddefconfig (got: y)
             conflict base:1: CONFIG_A=n is set again in override:2: CONFIG_A=m",
        );
    }

    #[test]
    fn conflicts_chain_and_same_value() {
        check(
            (
                &[
                    ("a", "CONFIG_X=y\nCONFIG_Y=y"),
                    ("b", "CONFIG_Y=y\nCONFIG_X=m"),
                    ("c", "CONFIG_X=y"),
                ],
                "CONFIG_X=y\nCONFIG_Y=y",
            ),
            "conflict a:2: CONFIG_Y=y is set again in b:1: CONFIG_Y=y
             conflict a:1: CONFIG_X=y is set again in b:2: CONFIG_X=m
             conflict b:2: CONFIG_X=m is set again in c:1: CONFIG_X=y",
        );
    }
}
