//! One `git format-patch` file: parsing it and checking it against house rules.

use crate::{Diagnostic, Problem};

/// Longest subject allowed, in characters, after the `[PATCH]` prefix.
pub const MAX_SUBJECT_CHARS: usize = 75;

/// A `git format-patch` file, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// The file name, as given to [`parse_patch`].
    pub name: String,
    /// The subject without leading `[PATCH ...]` tags, unfolded.
    /// RFC 2047 encoded words (`=?UTF-8?q?...?=`) are left as they are.
    pub subject: String,
    /// The `From:` header (an in-body `From:` wins, as with `git am`).
    pub from: String,
    /// The `Date:` header, verbatim.
    pub date: String,
    /// The commit message after the subject, trailers included, up to `---`.
    pub body: String,
    /// Every `Signed-off-by:` value in the message, in order.
    pub signed_off_by: Vec<String>,
    /// Paths from the `diff --git a/X b/Y` headers (the `b/` side), in order.
    pub files: Vec<String>,
    /// Every line the patch adds.
    pub added: Vec<AddedLine>,
}

/// A line a patch adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLine {
    /// The path it is added to.
    pub file: String,
    /// Its 1-based line number in the new file.
    pub line: u32,
    /// Its text, without the leading `+`.
    pub text: String,
}

/// Parses a `git format-patch` mbox file.
///
/// Handles folded headers (a continuation line starting with a space or tab),
/// `[PATCH n/m]` subject tags, in-body `From:`/`Date:`/`Subject:` headers,
/// the `---` separator, the diffstat, and hunks whose line counts decide
/// where they end (so a removed line `-- ` is not mistaken for the signature).
/// Quoted-printable and base64 bodies are not decoded; they are reported.
pub fn parse_patch(name: &str, text: &str) -> (Patch, Vec<Diagnostic>) {
    let mut patch = Patch {
        name: name.to_string(),
        ..Patch::default()
    };
    let mut diags = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;

    if lines.first().is_some_and(|l| l.starts_with("From ")) {
        at = 1;
    } else {
        diags.push(Diagnostic::new(
            1,
            "no `From <sha> <date>` line; is this `git format-patch` output?",
        ));
    }

    // Headers, unfolded the way `git mailinfo` does it.
    let mut headers: Vec<(usize, String)> = Vec::new();
    while at < lines.len() && !lines[at].is_empty() {
        let line = lines[at];
        match headers.last_mut() {
            Some((_, header)) if line.starts_with([' ', '\t']) => {
                header.truncate(header.trim_end().len());
                header.push(' ');
                header.push_str(&line[1..]);
            }
            _ => headers.push((at + 1, line.to_string())),
        }
        at += 1;
    }
    if at >= lines.len() {
        diags.push(Diagnostic::new(
            at.max(1),
            "the headers never end; no message or diff",
        ));
    }
    let (mut from, mut date, mut subject) = (None, None, None);
    for (n, header) in &headers {
        let Some((key, value)) = header.split_once(':') else {
            diags.push(Diagnostic::new(*n, format!("not a header: {header:?}")));
            continue;
        };
        let value = value.trim().to_string();
        match key.to_ascii_lowercase().as_str() {
            "from" => from = Some(value),
            "date" => date = Some(value),
            "subject" => subject = Some(value),
            "content-transfer-encoding"
                if matches!(
                    value.to_ascii_lowercase().as_str(),
                    "quoted-printable" | "base64"
                ) =>
            {
                diags.push(Diagnostic::new(
                    *n,
                    format!("body is {value}-encoded and is read undecoded; use 8bit"),
                ));
            }
            _ => {}
        }
    }
    let header_end = at + 1;

    // The message, up to `---` (or the first diff if the separator is missing).
    at = (at + 1).min(lines.len());
    while at < lines.len() && lines[at].trim().is_empty() {
        at += 1;
    }
    let mut in_body = true;
    while in_body && at < lines.len() {
        let line = lines[at];
        let (key, value) = match line.split_once(':') {
            Some((key, value)) => (key, value.trim().to_string()),
            None => break,
        };
        match key {
            "From" => from = Some(value),
            "Date" => date = Some(value),
            "Subject" => subject = Some(value),
            _ => in_body = false,
        }
        if in_body {
            at += 1;
            if at < lines.len() && lines[at].is_empty() {
                at += 1;
                in_body = false;
            }
        }
    }
    let message_start = at;
    let mut separator = None;
    while at < lines.len() {
        if lines[at] == "---" {
            separator = Some(at);
            break;
        }
        if lines[at].starts_with("diff --git ") {
            break;
        }
        at += 1;
    }
    let message = &lines[message_start..at];
    if separator.is_none() && at < lines.len() {
        diags.push(Diagnostic::new(
            at + 1,
            "no `---` line between the message and the diff",
        ));
    }
    patch.body = message.join("\n").trim().to_string();
    patch.signed_off_by = message
        .iter()
        .filter_map(|l| l.strip_prefix("Signed-off-by:"))
        .map(|v| v.trim().to_string())
        .collect();

    for (value, field, what) in [
        (from, &mut patch.from, "From"),
        (date, &mut patch.date, "Date"),
        (subject, &mut patch.subject, "Subject"),
    ] {
        match value {
            Some(v) => *field = v,
            None => diags.push(Diagnostic::new(
                header_end.min(lines.len().max(1)),
                format!("no `{what}:` header"),
            )),
        }
    }
    patch.subject = strip_patch_tags(&patch.subject).to_string();

    parse_diff(&lines, at, &mut patch, &mut diags);
    (patch, diags)
}

/// Removes leading bracketed tags that say `PATCH` or `RFC` (`[PATCH]`,
/// `[PATCH v2 3/7]`, `[RFC PATCH net-next]`); other brackets stay, as with
/// `git am --keep-non-patch`, so a lost tag shows up in the subject check.
fn strip_patch_tags(mut subject: &str) -> &str {
    loop {
        subject = subject.trim_start();
        let Some(end) = subject.strip_prefix('[').and_then(|rest| rest.find(']')) else {
            return subject;
        };
        let tag = &subject[1..=end];
        if !(tag.contains("PATCH") || tag.contains("RFC")) {
            return subject;
        }
        subject = &subject[end + 2..];
    }
}

/// Parses `diff --git` sections from `lines[at..]` into `patch.files` and `patch.added`.
fn parse_diff(lines: &[&str], mut at: usize, patch: &mut Patch, diags: &mut Vec<Diagnostic>) {
    let mut file: Option<String> = None;
    // Lines still expected in the current hunk from the old and the new file,
    // and the new file's line number for the next added or context line.
    let (mut old, mut new, mut new_line) = (0u32, 0u32, 0u32);
    let mut hunk_start = 0;

    while at < lines.len() {
        let line = lines[at];
        at += 1;
        if old > 0 || new > 0 {
            let consumed = match line.as_bytes().first() {
                Some(b' ') | None => {
                    old > 0 && new > 0 && {
                        old -= 1;
                        new -= 1;
                        new_line = new_line.saturating_add(1);
                        true
                    }
                }
                Some(b'-') => {
                    old > 0 && {
                        old -= 1;
                        true
                    }
                }
                Some(b'+') => {
                    new > 0 && {
                        new -= 1;
                        patch.added.push(AddedLine {
                            file: file.clone().unwrap_or_default(),
                            line: new_line,
                            text: line[1..].to_string(),
                        });
                        new_line = new_line.saturating_add(1);
                        true
                    }
                }
                Some(b'\\') => true,
                _ => false,
            };
            if consumed {
                continue;
            }
            diags.push(Diagnostic::new(
                at,
                format!("hunk starting on line {hunk_start} ends early: {old} old and {new} new lines missing"),
            ));
            (old, new) = (0, 0);
        }

        if let Some(rest) = line.strip_prefix("diff --git ") {
            match diff_git_path(rest) {
                Some(path) => {
                    patch.files.push(path.clone());
                    file = Some(path);
                }
                None => {
                    diags.push(Diagnostic::new(
                        at,
                        format!("cannot read the paths in {line:?}"),
                    ));
                    file = None;
                }
            }
        } else if line.starts_with("@@ ") {
            match hunk_header(line) {
                Some((o, n, start)) => {
                    (old, new, new_line, hunk_start) = (o, n, start.max(1), at);
                    if file.is_none() {
                        diags.push(Diagnostic::new(at, "hunk outside a `diff --git` section"));
                    }
                }
                None => diags.push(Diagnostic::new(
                    at,
                    format!("malformed hunk header {line:?}"),
                )),
            }
        }
    }
    if old > 0 || new > 0 {
        diags.push(Diagnostic::new(
            lines.len(),
            format!("hunk starting on line {hunk_start} is cut off: {old} old and {new} new lines missing"),
        ));
    }
    if patch.files.is_empty() {
        diags.push(Diagnostic::new(
            lines.len().max(1),
            "no `diff --git` section; the patch changes nothing",
        ));
    }
}

/// Reads `-OLD[,COUNT] +NEW[,COUNT] @@` and returns the old count, the new
/// count and the new start line.
fn hunk_header(line: &str) -> Option<(u32, u32, u32)> {
    let rest = line.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(" +")?;
    let (new, _) = rest.split_once(" @@")?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, old_count) = range(old)?;
    let (new_start, new_count) = range(new)?;
    Some((old_count, new_count, new_start))
}

/// The `b/` path of `diff --git a/X b/Y`, with git's C-style quoting undone.
fn diff_git_path(rest: &str) -> Option<String> {
    if rest.starts_with('"') {
        let (_, tail) = unquote(rest)?;
        let b = tail.strip_prefix(' ')?;
        let b = if b.starts_with('"') {
            unquote(b)?.0
        } else {
            b.to_string()
        };
        return b.strip_prefix("b/").map(str::to_string);
    }
    // Unquoted paths may hold spaces, so prefer the split where both sides agree.
    if rest.len() > 5 && (rest.len() - 5).is_multiple_of(2) {
        let half = (rest.len() - 5) / 2;
        if let (Some(a), Some(sep), Some(b)) = (
            rest.get(2..2 + half),
            rest.get(2 + half..5 + half),
            rest.get(5 + half..),
        ) {
            if rest.starts_with("a/") && sep == " b/" && a == b {
                return Some(b.to_string());
            }
        }
    }
    if let Some(i) = rest.find(" \"b/") {
        let (b, _) = unquote(&rest[i + 1..])?;
        return b.strip_prefix("b/").map(str::to_string);
    }
    rest.strip_prefix("a/")?;
    let i = rest.find(" b/")?;
    Some(rest[i + 3..].to_string())
}

/// Undoes git's C-style path quoting; returns the path and the text after the closing quote.
fn unquote(s: &str) -> Option<(String, &str)> {
    let mut bytes = Vec::new();
    let mut iter = s.strip_prefix('"')?.char_indices();
    let body = &s[1..];
    while let Some((i, c)) = iter.next() {
        match c {
            '"' => return Some((String::from_utf8_lossy(&bytes).into_owned(), &body[i + 1..])),
            '\\' => {
                let (_, e) = iter.next()?;
                let byte = match e {
                    'a' => 7,
                    'b' => 8,
                    'f' => 12,
                    'n' => b'\n',
                    'r' => b'\r',
                    't' => b'\t',
                    'v' => 11,
                    '0'..='3' => {
                        let (_, d2) = iter.next()?;
                        let (_, d3) = iter.next()?;
                        let digits = [e, d2, d3].iter().collect::<String>();
                        u8::from_str_radix(&digits, 8).ok()?
                    }
                    other if other.is_ascii() => other as u8,
                    _ => return None,
                };
                bytes.push(byte);
            }
            c => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    None
}

/// Checks a patch against the house rules: signed off by `identity`, a real
/// commit message, and a subject of at most [`MAX_SUBJECT_CHARS`] characters
/// with a `subsystem: ` prefix.
pub fn check_patch(patch: &Patch, identity: &str) -> Vec<Problem> {
    let name = || patch.name.clone();
    let mut problems = Vec::new();
    if !patch.signed_off_by.iter().any(|s| s == identity.trim()) {
        problems.push(Problem::NoSignoff {
            name: name(),
            identity: identity.trim().to_string(),
        });
    }
    if !has_message(&patch.body) {
        problems.push(Problem::EmptyMessage { name: name() });
    }
    let subject = patch.subject.as_str();
    if subject.contains("=?") && subject.contains("?=") {
        problems.push(Problem::EncodedSubject { name: name() });
        return problems;
    }
    let chars = subject.chars().count();
    if chars > MAX_SUBJECT_CHARS {
        problems.push(Problem::SubjectTooLong {
            name: name(),
            chars,
        });
    }
    if !has_subsystem_prefix(subject) {
        problems.push(Problem::NoSubsystemPrefix {
            name: name(),
            subject: subject.to_string(),
        });
    }
    problems
}

/// Whether the subject reads `subsystem: summary`, where the subsystem has no
/// spaces (`net:`, `selftests/net:`, `net: netspec:`).
fn has_subsystem_prefix(subject: &str) -> bool {
    let Some((prefix, summary)) = subject.split_once(": ") else {
        return false;
    };
    !prefix.is_empty() && !prefix.contains(char::is_whitespace) && !summary.trim().is_empty()
}

/// Whether the body has a paragraph that is not the trailer block.
fn has_message(body: &str) -> bool {
    let paragraphs: Vec<&str> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    match paragraphs.split_last() {
        None => false,
        Some((last, rest)) => !rest.is_empty() || !is_trailer_block(last),
    }
}

/// Whether every line of the paragraph is a `Token: value` trailer, a
/// continuation of one, or a `[bracketed]` maintainer note.
fn is_trailer_block(paragraph: &str) -> bool {
    paragraph.lines().all(|line| {
        if line.starts_with([' ', '\t']) || (line.starts_with('[') && line.ends_with(']')) {
            return true;
        }
        line.split_once(": ").is_some_and(|(token, _)| {
            !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input` as `t.patch`, checks it as `Dev <dev@x>`, and compares a
    /// one-fact-per-line description with `expected`.
    fn check(input: &str, expected: &str) {
        let (patch, diags) = parse_patch("t.patch", input);
        let mut actual = format!(
            "subject: {}\nfrom: {}\ndate: {}\nbody: {:?}\nsob: {:?}\nfiles: {:?}\n",
            patch.subject, patch.from, patch.date, patch.body, patch.signed_off_by, patch.files
        );
        for a in &patch.added {
            actual += &format!("+ {}:{}: {}\n", a.file, a.line, a.text);
        }
        for d in &diags {
            actual += &format!("diag {d}\n");
        }
        for p in check_patch(&patch, "Dev <dev@x>") {
            actual += &format!("problem {p}\n");
        }
        assert_eq!(actual.trim_end(), expected.trim_end(), "input:\n{input}");
    }

    const GOOD: &str = "\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Dev <dev@x>
Date: Tue, 3 Jun 2025 10:14:07 +0200
Subject: [PATCH v2 1/2] net: add a thing that is described in a subject
 which wraps

Why the thing is needed.

Signed-off-by: Dev <dev@x>
---
 a b/f.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/a b/f.c b/a b/f.c
index 1111111..2222222 100644
--- a/a b/f.c
+++ b/a b/f.c
@@ -10,3 +10,3 @@ int f(void)
 one
--- old
+-- new
 three
-- 
2.47.3
";

    #[test]
    fn full_patch() {
        check(
            GOOD,
            r#"subject: net: add a thing that is described in a subject which wraps
from: Dev <dev@x>
date: Tue, 3 Jun 2025 10:14:07 +0200
body: "Why the thing is needed.\n\nSigned-off-by: Dev <dev@x>"
sob: ["Dev <dev@x>"]
files: ["a b/f.c"]
+ a b/f.c:11: -- new"#,
        );
    }

    #[test]
    fn no_separator_no_signoff_trailer_only() {
        check(
            "From 0 Mon Sep 17 00:00:00 2001\nFrom: A <a@x>\nDate: d\nSubject: [PATCH] fix\n\n\
             Fixes: 123456789abc (\"x\")\nSigned-off-by: A <a@x>\n\
             diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n x\n+y\n",
            r#"subject: fix
from: A <a@x>
date: d
body: "Fixes: 123456789abc (\"x\")\nSigned-off-by: A <a@x>"
sob: ["A <a@x>"]
files: ["x"]
+ x:2: y
diag line 8: no `---` line between the message and the diff
problem t.patch: no `Signed-off-by: Dev <dev@x>`; amend with `git commit -s`
problem t.patch: the commit message has no text besides trailers; say why the change is needed
problem t.patch: subject "fix" lacks a `subsystem: ` prefix (e.g. `net: netspec: `)"#,
        );
    }

    #[test]
    fn in_body_headers_and_encoded_subject() {
        check(
            "From 0 Mon Sep 17 00:00:00 2001\nFrom: Dev <dev@x>\nDate: d\n\
             Subject: [PATCH] =?UTF-8?q?net:=20caf=C3=A9?=\n\tmore\n\
             Content-Transfer-Encoding: quoted-printable\n\n\
             From: Other <o@x>\n\nBecause.\n\nSigned-off-by: Dev <dev@x>\n---\n\
             diff --git \"a/caf\\303\\251\" \"b/caf\\303\\251\"\n--- x\n+++ y\n@@ -0,0 +1 @@\n+z\n",
            r#"subject: =?UTF-8?q?net:=20caf=C3=A9?= more
from: Other <o@x>
date: d
body: "Because.\n\nSigned-off-by: Dev <dev@x>"
sob: ["Dev <dev@x>"]
files: ["café"]
+ café:1: z
diag line 6: body is quoted-printable-encoded and is read undecoded; use 8bit
problem t.patch: subject is RFC 2047-encoded (non-ASCII); keep subjects ASCII so they can be checked"#,
        );
    }

    #[test]
    fn malformed_input() {
        check(
            "",
            r#"subject: 
from: 
date: 
body: ""
sob: []
files: []
diag line 1: no `From <sha> <date>` line; is this `git format-patch` output?
diag line 1: the headers never end; no message or diff
diag line 1: no `From:` header
diag line 1: no `Date:` header
diag line 1: no `Subject:` header
diag line 1: no `diff --git` section; the patch changes nothing
problem t.patch: no `Signed-off-by: Dev <dev@x>`; amend with `git commit -s`
problem t.patch: the commit message has no text besides trailers; say why the change is needed
problem t.patch: subject "" lacks a `subsystem: ` prefix (e.g. `net: netspec: `)"#,
        );
        check(
            "Subject: net: x\nbogus\n\nText.\n---\ndiff --git a/x b/x\n@@ -1,3 +1,3 @@\n x\nrandom\n@@ nope\n@@ -1,2 +1,2 @@\n-a\n",
            r#"subject: net: x
from: 
date: 
body: "Text."
sob: []
files: ["x"]
diag line 1: no `From <sha> <date>` line; is this `git format-patch` output?
diag line 2: not a header: "bogus"
diag line 3: no `From:` header
diag line 3: no `Date:` header
diag line 9: hunk starting on line 7 ends early: 2 old and 2 new lines missing
diag line 10: malformed hunk header "@@ nope"
diag line 12: hunk starting on line 11 is cut off: 1 old and 2 new lines missing
problem t.patch: no `Signed-off-by: Dev <dev@x>`; amend with `git commit -s`"#,
        );
    }

    #[test]
    fn subject_rules() {
        let long = format!("net: {}", "x".repeat(71));
        check(
            &format!("From 0\nFrom: a\nDate: d\nSubject: [RFC PATCH] [net-next] {long}\n\nWhy.\n\nSigned-off-by: Dev <dev@x>\n---\ndiff --git a/x b/x\n"),
            &format!(r#"subject: [net-next] {long}
from: a
date: d
body: "Why.\n\nSigned-off-by: Dev <dev@x>"
sob: ["Dev <dev@x>"]
files: ["x"]
problem t.patch: subject is 87 characters, more than 75; shorten it
problem t.patch: subject "[net-next] {long}" lacks a `subsystem: ` prefix (e.g. `net: netspec: `)"#),
        );
    }
}
