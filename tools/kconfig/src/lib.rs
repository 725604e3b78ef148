//! Kernel config fragments, and the check that they survived
//! `make olddefconfig`.
//!
//! A fragment (`kernel-configs/*.config`) asks for some options; xtask
//! merges the fragments in order into a `.config` and runs `olddefconfig`,
//! which silently drops options whose dependencies are missing.
//! [`unsatisfied`] names every such option, and [`conflicts`] lists options
//! set in more than one fragment for the tidy test to judge.
//!
//! Option names are kept without their `CONFIG_` prefix (`KASAN`, not
//! `CONFIG_KASAN`); messages put it back.
//!
//! Architecture invariant: text in, values out.
//! Nothing here starts a process, touches the filesystem, or panics on input:
//! [`parse`] returns a value plus [`Diagnostic`]s.
//!
//! Code map:
//! - `parse.rs`: [`parse`] (fragments), [`parse_config`] (`.config` files), [`Value`].
//! - `check.rs`: [`unsatisfied`] and [`conflicts`].

mod check;
mod parse;

pub use check::{conflicts, unsatisfied, Conflict, Setting, Unsatisfied};
pub use parse::{parse, parse_config, Config, Diagnostic, Entry, Fragment, Value};
