//! The benchmark's results: the guest's raw measurements (`# bench:` lines
//! in the console log), the code sizes from a vmlinux symbol table, and what
//! is derived from both: rates, instructions per ADU, ratios, the paper's
//! model, the markdown tables, and the comparison of two runs.
//!
//! Under QEMU's `-icount shift=0` one nanosecond of guest time is one
//! executed instruction; the guest prints nanoseconds, this crate calls them
//! instructions.
//!
//! Architecture invariant: text in, values out; no processes, no files.

mod parse;
mod report;
mod symbols;

pub use parse::{parse, Customize, Diagnostic, Outcome, PathRow, Run, StreamRow};
pub use report::{batch_vs_gso, compare, figures, model, render, Deviation, Figure, ModelRow, Results};
pub use symbols::{code_size, parse_nm, CodeSize, Entry, Symbol, GENERIC, SPECIALIZED};
