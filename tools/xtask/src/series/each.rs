//! `cargo xtask series build-each`: the series builds after every patch.
//!
//! A detached worktree of the base's tree is checked out at each commit in
//! turn and built incrementally into one `O=` directory, so that a patch
//! that only compiles with a later one is caught. The configuration is the
//! test profile without KASAN: every option netspec's code depends on is on
//! (netfilter, cgroup BPF, the LSM hooks, KUnit), and the build is quicker.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use xshell::cmd;

use crate::arch::{self, Arch};
use crate::base;
use crate::kernel::{self, Profile};
use crate::project::{self, run_or_print};
use crate::tree::BASE_TAG;
use crate::{Stage, StageExt};

/// The fragments: the test profile's, without KASAN.
fn fragments(arch: &Arch, base: &str) -> Vec<PathBuf> {
    kernel::fragments(arch, base, Profile::Test)
        .into_iter()
        .filter(|f| *f != "kasan.config")
        .map(|f| project::configs_dir().join(f))
        .collect()
}

pub fn build_each(base_name: &str, arch_name: &str, dry_run: bool) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let base = base::find(base_name).stage(Stage::Usage)?;
    let arch = arch::find(arch_name).stage(Stage::Usage)?;
    crate::tree::ensure(&sh, base, None, false, dry_run)?;
    let tree = project::tree_dir(base.name);
    let work = project::target().join("each").join(base.name);
    let out = project::build_dir(base.name, arch.name, "each");
    let commits: Vec<(String, String)> = {
        let _d = sh.push_dir(&tree);
        cmd!(sh, "git log --reverse --format=%H%x09%s {BASE_TAG}..HEAD")
            .read()?
            .lines()
            .filter_map(|l| l.split_once('\t').map(|(h, s)| (h.to_string(), s.to_string())))
            .collect()
    };
    if !work.join(".git").exists() {
        let _d = sh.push_dir(&tree);
        run_or_print(dry_run, cmd!(sh, "git worktree add -q --detach {work} {BASE_TAG}"))?;
    }
    let frags = fragments(arch, base.name);
    let (a, cc, jobs) = (arch.linux_arch, arch.cross_compile, kernel::jobs());
    // Configured on the whole series, where every option exists; each
    // commit starts from that configuration, and olddefconfig drops what a
    // commit does not have yet.
    let (config, full) = (out.join(".config"), out.join(".config.series"));
    {
        let _d = sh.push_dir(&work);
        let last = &commits.last().context("the series is empty")?.0;
        run_or_print(dry_run, cmd!(sh, "git checkout -q --detach {last}"))?;
        kernel::configure(&sh, arch, &frags, &out, dry_run)?;
        if !dry_run {
            sh.copy_file(&config, &full)?;
        }
    }
    let mut failed = Vec::new();
    for (i, (commit, subject)) in commits.iter().enumerate() {
        let _d = sh.push_dir(&work);
        run_or_print(dry_run, cmd!(sh, "git checkout -q --detach {commit}"))?;
        if !dry_run {
            sh.copy_file(&full, &config)?;
        }
        run_or_print(dry_run, cmd!(sh, "make -s O={out} ARCH={a} CROSS_COMPILE={cc} olddefconfig"))?;
        let started = Instant::now();
        let target = arch.image_target;
        let c = cmd!(sh, "make -s O={out} ARCH={a} CROSS_COMPILE={cc} -j{jobs} {target}");
        let ok = if dry_run {
            println!("would run: {c}");
            true
        } else {
            c.quiet().ignore_stdout().run().is_ok()
        };
        println!("  {} {:04} {subject} ({:.0?})", if ok { "+" } else { "!" }, i + 1, started.elapsed());
        if !ok {
            failed.push(format!("{:04} {subject}", i + 1));
        }
    }
    if !failed.is_empty() {
        return Err(anyhow::anyhow!("{}", failed.join("\n")))
            .context(format!("the {} series does not build on {} after every patch", base.name, arch.name))
            .stage(Stage::Build);
    }
    println!("the {} series builds on {} after each of its {} patches", base.name, arch.name, commits.len());
    Ok(())
}
