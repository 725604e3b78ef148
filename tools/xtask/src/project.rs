//! Where things are: the repository and its `target/` directories.

use std::path::{Path, PathBuf};

use anyhow::Context;
use xshell::Shell;

/// The repository root (the directory of the workspace `Cargo.toml`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_path_buf()
}

/// A shell rooted at the repository.
pub fn shell() -> anyhow::Result<Shell> {
    let sh = Shell::new().context("creating a shell")?;
    sh.change_dir(root());
    Ok(sh)
}

pub fn target() -> PathBuf {
    root().join("target")
}

/// The git tree of a base with the series applied.
pub fn tree_dir(base: &str) -> PathBuf {
    target().join("trees").join(base)
}

/// The out-of-tree build directory of one kernel.
pub fn build_dir(base: &str, arch: &str, profile: &str) -> PathBuf {
    target().join("build").join(base).join(format!("{arch}-{profile}"))
}

/// Guest programs and initramfs of one arch on one base.
pub fn guest_dir(base: &str, arch: &str) -> PathBuf {
    target().join("guest").join(base).join(arch)
}

pub fn patches_dir(base: &str) -> PathBuf {
    root().join("patches").join(base)
}

pub fn configs_dir() -> PathBuf {
    root().join("kernel-configs")
}

/// The project identity that signs off every patch.
pub const IDENTITY: &str = "netspec developers <netspec@lists.invalid>";
pub const IDENTITY_NAME: &str = "netspec developers";
pub const IDENTITY_EMAIL: &str = "netspec@lists.invalid";

/// Runs `f` unless `dry_run`, in which case it prints what it would run.
pub fn run_or_print(dry_run: bool, cmd: xshell::Cmd<'_>) -> anyhow::Result<()> {
    if dry_run {
        println!("would run: {cmd}");
        Ok(())
    } else {
        cmd.run().map_err(Into::into)
    }
}
