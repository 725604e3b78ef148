//! Judges a VM test's QEMU serial console log: the guest's KTAP results and
//! every problem the kernel reported around them.
//!
//! The guest (`vm-tests/init.c`) prints KTAP version 1 to the console, where
//! it interleaves with printk lines, then [`END_MARKER`].
//! [`parse`] reads the whole log into a [`Report`]; [`Report::verdict`] says
//! whether the run passed; [`Report::summary`] and [`Report::render_results`]
//! are for people.
//! [`scan_line`] and [`is_panic_line`] look at one line, for the harness to
//! react while the log streams in.
//!
//! Architecture invariant: text in, values out.
//! Nothing here starts a process, touches the filesystem, or panics on input.
//! This crate knows nothing about QEMU or architectures.
//!
//! Code map:
//! - `parse.rs`: KTAP lines and nesting.
//! - `kernel.rs`: kernel report detection and grouping.
//! - `verdict.rs`: pass/fail reasons, summary and rendering.

mod kernel;
mod parse;
mod verdict;

pub use kernel::{is_panic_line, kernel_lines, scan_line, KernelReport, ReportKind};
pub use parse::{parse, Report, Status, TestResult, END_MARKER};
pub use verdict::{Reason, Verdict};
