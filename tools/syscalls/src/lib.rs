//! Wires the project's system calls into every architecture's syscall table.
//!
//! `kernel-syscalls.toml` (parsed by [`parse_spec`]) names each syscall once
//! and lists the table files of each kernel base; [`generate`] turns the text
//! of one such file into its edited text, [`added_lines`] says which lines
//! that adds (from the spec alone, for checking a committed patch), and
//! [`layout_drift`] checks the spec's declared column layout against a file.
//!
//! Architecture invariant: text in, values out. This crate reads no files and
//! starts no processes; `xtask` finds the kernel tree, feeds each table's
//! contents in and writes the result back.

mod gen;
mod spec;

pub use gen::{added_lines, generate, layout_drift, GenError};
pub use spec::{
    parse_spec, Commit, CompatColumn, Format, HeaderCompat, Spec, SpecError, Syscall, Table,
};
