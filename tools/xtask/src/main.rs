//! `cargo xtask`: the one CLI of netspec. It prepares kernel trees, maintains
//! the patch series, builds cross kernels, and boots them in QEMU.
//!
//! Architecture invariant: every process is started here, with `xshell`; the
//! libraries under `tools/` only turn text into values.

mod arch;
mod base;
mod bench;
mod ci;
mod debian;
mod engine;
mod fixes;
mod gen;
mod guest;
mod kernel;
mod kunit;
mod nixcheck;
mod project;
mod selftest;
mod series;
#[cfg(test)]
mod tidy;
mod tree;
mod vmtest;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The stage a failure belongs to; it decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// A test ran and failed (1).
    Test,
    /// The command line was wrong (2).
    Usage,
    /// Configuring or building failed (3).
    Build,
    /// A patch did not apply, or the series is not well-formed (4).
    Patch,
    /// QEMU or the guest did not get to run the tests (5).
    Boot,
}

impl Stage {
    fn code(self) -> u8 {
        match self {
            Stage::Test => 1,
            Stage::Usage => 2,
            Stage::Build => 3,
            Stage::Patch => 4,
            Stage::Boot => 5,
        }
    }
}

impl std::error::Error for Stage {}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Test => "test failure",
            Stage::Usage => "usage error",
            Stage::Build => "config/build failure",
            Stage::Patch => "patch failure",
            Stage::Boot => "boot/infrastructure failure",
        })
    }
}

/// Tags an error with the stage it belongs to.
pub trait StageExt<T> {
    fn stage(self, stage: Stage) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> StageExt<T> for Result<T, E> {
    fn stage(self, stage: Stage) -> anyhow::Result<T> {
        self.map_err(|e| e.into().context(stage))
    }
}

#[derive(Parser)]
#[command(name = "cargo xtask", about = "netspec: series, kernels and VM tests")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prepare target/trees/<base>: the base as a git tree with the series applied.
    Tree(tree::Args),
    /// Show, export, check or refresh the patch series.
    Series(series::Args),
    /// Generate derived files (the syscall wiring).
    Gen(gen::Args),
    /// Build a kernel for one architecture.
    Kernel(kernel::Args),
    /// Build guest programs, boot kernels in QEMU and judge their KTAP.
    VmTest(vmtest::Args),
    /// Run netspec's KUnit suites in the test kernels, under QEMU.
    Kunit(kunit::Args),
    /// Benchmarks in the bench kernels under QEMU -icount: streams, the send
    /// path, code size, customization latency, the paper's model.
    Bench(bench::Args),
    /// The customization engine's compile step for one context, timed
    /// against a kernel build, with its code size (issue 16).
    Engine(engine::Args),
    /// Check what can be checked of the Nix flake without nixpkgs.
    NixCheck(nixcheck::Args),
    /// Prove the harness fails where it must (damaged patch, lost config option, panic).
    Selftest(selftest::Args),
    /// Everything CI runs: cargo test, series check on every base, VM tests, KUnit.
    Ci(ci::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(Stage::Usage.code()) } else { ExitCode::SUCCESS };
        }
    };
    let result = match cli.command {
        Command::Tree(a) => tree::run(a),
        Command::Series(a) => series::run(a),
        Command::Gen(a) => gen::run(a),
        Command::Kernel(a) => kernel::run(a),
        Command::VmTest(a) => vmtest::run(a),
        Command::Kunit(a) => kunit::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Engine(a) => engine::run(a),
        Command::NixCheck(a) => nixcheck::run(a),
        Command::Selftest(a) => selftest::run(a),
        Command::Ci(a) => ci::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let stage = e.downcast_ref::<Stage>().copied().unwrap_or(Stage::Build);
            eprintln!("error ({stage}):");
            // The stage is a context layer, whose chain entry is a wrapper, not a Stage.
            for cause in e.chain().filter(|c| c.downcast_ref::<Stage>().is_none() && c.to_string() != stage.to_string()) {
                eprintln!("  {cause}");
            }
            ExitCode::from(stage.code())
        }
    }
}
