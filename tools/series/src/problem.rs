//! What parsers and checks report back.

use std::fmt;

/// Something odd a parser noticed in its input; the parse still produced a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line number in the parsed text.
    pub line: usize,
    /// What is wrong and, where it helps, what to do about it.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A rule the series or one of its patches breaks.
///
/// Variants carry the file name so a list of problems from several checks
/// still reads on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `series` lists a patch that is not in the directory.
    Missing { name: String },
    /// A `*.patch` file in the directory that `series` does not list.
    Unlisted { name: String },
    /// The name is not `NNNN-slug.patch` with `NNNN` its 1-based position in `series`.
    Misnamed { name: String, position: usize },
    /// No `Signed-off-by:` trailer with the expected identity.
    NoSignoff { name: String, identity: String },
    /// The commit message is empty or only trailers.
    EmptyMessage { name: String },
    /// The subject is longer than [`MAX_SUBJECT_CHARS`](crate::MAX_SUBJECT_CHARS).
    SubjectTooLong { name: String, chars: usize },
    /// The subject does not start with a `subsystem: ` prefix.
    NoSubsystemPrefix { name: String, subject: String },
    /// The subject is RFC 2047-encoded, so its length and prefix cannot be checked.
    EncodedSubject { name: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { name } => write!(
                f,
                "{name}: listed in series but the file is missing; restore it or drop the line"
            ),
            Problem::Unlisted { name } => write!(
                f,
                "{name}: not listed in series; add it to series or delete the file"
            ),
            Problem::Misnamed { name, position } => write!(
                f,
                "{name}: at position {position} the name must be {position:04}-<slug>.patch; \
                 regenerate the series"
            ),
            Problem::NoSignoff { name, identity } => {
                write!(f, "{name}: no `Signed-off-by: {identity}`; amend with `git commit -s`")
            }
            Problem::EmptyMessage { name } => write!(
                f,
                "{name}: the commit message has no text besides trailers; say why the change is needed"
            ),
            Problem::SubjectTooLong { name, chars } => write!(
                f,
                "{name}: subject is {chars} characters, more than {}; shorten it",
                crate::MAX_SUBJECT_CHARS
            ),
            Problem::NoSubsystemPrefix { name, subject } => write!(
                f,
                "{name}: subject {subject:?} lacks a `subsystem: ` prefix (e.g. `net: netspec: `)"
            ),
            Problem::EncodedSubject { name } => write!(
                f,
                "{name}: subject is RFC 2047-encoded (non-ASCII); keep subjects ASCII so they can be checked"
            ),
        }
    }
}
