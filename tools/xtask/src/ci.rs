//! `cargo xtask ci`: everything the README's test command promises, in order,
//! with one line per step and the time it took.

use std::time::Instant;

use anyhow::Context;
use xshell::cmd;

use crate::project;
use crate::{Stage, StageExt};

/// Which arches boot on which base in CI: every arch on the newest base, the
/// papers' armv4 and x86_64 on the older one.
pub const VM_MATRIX: &[(&str, &str)] = &[("6.12", "all"), ("6.1", "armv4,x86_64")];

/// The order CI builds and boots the matrix in, one pipeline for both bases:
/// the kernels build back to back while the guests run, so the arches whose
/// guests run longest (KASAN under TCG: aarch64 and riscv64, 5-6 minutes a
/// boot) go first, and the one that runs shortest (x86_64) goes last, where
/// nothing overlaps it.
pub const VM_ORDER: &[(&str, &str)] = &[
    ("6.12", "aarch64"),
    ("6.12", "riscv64"),
    ("6.12", "armv4"),
    ("6.12", "i486"),
    ("6.1", "armv4"),
    ("6.12", "x86_64"),
    ("6.1", "x86_64"),
];

#[derive(clap::Args)]
pub struct Args {
    /// Skip the VM tests (unit, golden, tidy and series checks only).
    #[arg(long)]
    no_vm: bool,
    /// Print the steps instead of running them.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let mut steps: Vec<(String, anyhow::Result<()>, std::time::Duration)> = Vec::new();
    let mut step = |name: String, f: &mut dyn FnMut() -> anyhow::Result<()>| {
        println!("\n==> {name}");
        let t = Instant::now();
        let r = f();
        if let Err(e) = &r {
            eprintln!("{name}: {e:#}");
        }
        steps.push((name, r, t.elapsed()));
    };

    step("cargo test --workspace".into(), &mut || {
        let c = cmd!(sh, "cargo test --workspace --quiet");
        project::run_or_print(args.dry_run, c).stage(Stage::Test)
    });
    step("nix-check".into(), &mut || crate::nixcheck::run(crate::nixcheck::Args { dry_run: args.dry_run }));
    step("series check --base all".into(), &mut || {
        crate::series::check_bases("all", args.dry_run)
    });
    step("config check: every arch, base and profile".into(), &mut || config_check(&sh, !args.no_vm, args.dry_run));
    if !args.no_vm {
        step("vm-test and kunit, 6.12: all arches, 6.1: armv4 and x86_64".into(), &mut || {
            let jobs = vm_jobs()?;
            let args = crate::vmtest::Args {
                arch: String::new(),
                base: String::new(),
                filter: None,
                timeout: 900,
                append: String::new(),
                dry_run: args.dry_run,
                log_tag: "vm-test".into(),
                kunit: false,
                kernel_build: None,
            };
            let outcomes = crate::vmtest::run_jobs(&jobs, &args, true)?;
            println!("\nvm-test and kunit:");
            crate::vmtest::report(outcomes)
        });
        step("selftest --base 6.12 --arch x86_64".into(), &mut || {
            if args.dry_run {
                println!("would run: cargo xtask selftest");
                return Ok(());
            }
            crate::selftest::run(crate::selftest::Args { base: "6.12".into(), arch: "x86_64".into() })
        });
    }

    println!("\nci summary:");
    let mut failed = None;
    for (name, r, took) in steps {
        let verdict = if r.is_ok() { "ok  " } else { "FAIL" };
        println!("  {verdict} {name} ({:.0?})", took);
        if let Err(e) = r {
            failed.get_or_insert(e);
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// VM_ORDER, checked to cover VM_MATRIX exactly.
fn vm_jobs() -> anyhow::Result<Vec<(&'static crate::base::Base, &'static crate::arch::Arch)>> {
    let mut want: Vec<(&str, &str)> = Vec::new();
    for (base, arches) in VM_MATRIX {
        for arch in crate::arch::select(arches)? {
            want.push((base, arch.name));
        }
    }
    let mut have = VM_ORDER.to_vec();
    want.sort();
    have.sort();
    anyhow::ensure!(want == have, "ci::VM_ORDER {have:?} does not cover ci::VM_MATRIX {want:?}");
    VM_ORDER
        .iter()
        .map(|(b, a)| Ok((crate::base::find(b)?, crate::arch::find(a)?)))
        .collect()
}

/// Configures every arch on every base in every profile (in scratch build
/// directories) and fails naming each fragment option that did not survive:
/// the combinations CI does not build are checked this far.  With
/// `vm_builds`, the test kernels the VM tests build are left to them: their
/// build makes the same check first.
fn config_check(sh: &xshell::Shell, vm_builds: bool, dry_run: bool) -> anyhow::Result<()> {
    use crate::kernel::{self, Profile};
    let mut failed = Vec::new();
    for base in crate::base::BASES {
        // The series check reports a base without a series; its configs would lack NET_SPECIALIZE.
        if crate::series::require_series(base.name).is_err() {
            println!("  --   {}: {}", base.name, crate::series::no_series(base.name));
            continue;
        }
        crate::tree::ensure(sh, base, None, false, dry_run)?;
        let _dir = sh.push_dir(project::tree_dir(base.name));
        for arch in crate::arch::ARCHES {
            for profile in Profile::ALL {
                let frags: Vec<_> = kernel::fragments(arch, base.name, profile)
                    .iter()
                    .map(|f| project::configs_dir().join(f))
                    .collect();
                let out = project::target().join("config-check").join(base.name).join(format!("{}-{}", arch.name, profile.name()));
                let what = format!("{} {} {}", base.name, arch.name, profile.name());
                if vm_builds && profile == Profile::Test && VM_ORDER.contains(&(base.name, arch.name)) {
                    println!("  --   {what}: the VM tests build it, checking its config first");
                    continue;
                }
                match kernel::configure(sh, arch, &frags, &out, dry_run) {
                    Ok(()) => println!("  ok   {what}"),
                    Err(e) => {
                        println!("  FAIL {what}: {e:#}");
                        failed.push(what);
                    }
                }
            }
        }
    }
    if !failed.is_empty() {
        return Err(anyhow::anyhow!("{}", failed.join(", "))).context("config check failed").stage(Stage::Build);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn vm_order_covers_the_matrix() {
        let jobs = super::vm_jobs().unwrap();
        assert_eq!(jobs.len(), super::VM_ORDER.len());
    }
}
