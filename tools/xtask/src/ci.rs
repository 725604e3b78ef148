//! `cargo xtask ci`: everything the README's test command promises, in order,
//! with one line per step and the time it took.

use std::time::Instant;

use anyhow::Context;
use xshell::cmd;

use crate::project;
use crate::{Stage, StageExt};

/// Which arches boot on which base in CI: every arch on 6.12, x86_64 on 6.1
/// (Debian stable's kernel). Six test kernels at 4-8 minutes each are most
/// of CI's 75 minutes on two cores; with 7.3's x86_64 kernel too the run
/// took 71 minutes, too close to the budget.
pub const VM_MATRIX: &[(&str, &str)] = &[("6.12", "all"), ("6.1", "x86_64")];

/// What `ci --full` boots: x86_64 on 7.3, and the papers' armv4 on 6.1 and
/// 7.3, too.
pub const FULL_MATRIX: &[(&str, &str)] = &[("6.12", "all"), ("6.1", "armv4,x86_64"), ("7.3", "armv4,x86_64")];

/// The order the kernels are built and booted in, one pipeline for every
/// base: the kernels build back to back while the guests run, so the arches
/// whose guests run longest (KASAN under TCG: aarch64, riscv64, armv4) go
/// first, and the one that runs shortest (x86_64) goes last, where nothing
/// overlaps it. A matrix boots the jobs of this order it names.
pub const VM_ORDER: &[(&str, &str)] = &[
    ("6.12", "aarch64"),
    ("6.12", "riscv64"),
    ("6.12", "armv4"),
    ("6.1", "armv4"),
    ("7.3", "armv4"),
    ("6.12", "i486"),
    ("6.1", "x86_64"),
    ("7.3", "x86_64"),
    ("6.12", "x86_64"),
];

#[derive(clap::Args)]
pub struct Args {
    /// Skip the VM tests (unit, golden, tidy and series checks only).
    #[arg(long)]
    no_vm: bool,
    /// The full matrix (armv4 on every base), the suites' long mode (the
    /// fuzz and scale suites at full size), and every base's series built
    /// after every patch: what CI's 75 minutes leave out.
    #[arg(long)]
    full: bool,
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
    let matrix = if args.full { FULL_MATRIX } else { VM_MATRIX };
    step("config check: every arch, base and profile".into(), &mut || {
        config_check(&sh, if args.no_vm { &[] } else { matrix }, args.dry_run)
    });
    if args.full {
        for base in crate::base::BASES {
            step(format!("series build-each --base {} --arch x86_64", base.name), &mut || {
                crate::series::build_each(base.name, "x86_64", args.dry_run)
            });
        }
    }
    if !args.no_vm {
        step(format!("vm-test and kunit: {}", describe(matrix)), &mut || {
            let jobs = vm_jobs(matrix)?;
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
                long: args.full,
                icount: false,
            };
            let outcomes = crate::vmtest::run_jobs(&jobs, &args, true)?;
            println!("\nvm-test and kunit:");
            crate::vmtest::report(outcomes)
        });
        // The generated unit compiles against the test kernels just built,
        // with and without the precompiled header: the template header
        // must stay usable outside kbuild.
        step("engine --base 6.12 --arch x86_64,armv4".into(), &mut || {
            crate::engine::run(crate::engine::Args {
                arch: "x86_64,armv4".into(),
                base: "6.12".into(),
                profile: "test".into(),
                csum: "partial".into(),
                adu: 64,
                runs: 3,
                dry_run: args.dry_run,
            })
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

/// "6.12: all; 6.1: x86_64; ..." for a step's name.
fn describe(matrix: &[(&str, &str)]) -> String {
    matrix.iter().map(|(b, a)| format!("{b}: {a}")).collect::<Vec<_>>().join("; ")
}

/// The (base, arch) pairs a matrix names.
fn pairs(matrix: &[(&str, &str)]) -> anyhow::Result<Vec<(&'static str, &'static str)>> {
    let mut out = Vec::new();
    for (base, arches) in matrix {
        let base = crate::base::find(base)?;
        for arch in crate::arch::select(arches)? {
            out.push((base.name, arch.name));
        }
    }
    Ok(out)
}

/// The jobs of VM_ORDER that the matrix names, checked to cover it exactly.
fn vm_jobs(matrix: &[(&str, &str)]) -> anyhow::Result<Vec<(&'static crate::base::Base, &'static crate::arch::Arch)>> {
    let mut want = pairs(matrix)?;
    let mut have: Vec<(&str, &str)> = VM_ORDER.iter().copied().filter(|p| want.contains(p)).collect();
    let order = have.clone();
    want.sort();
    have.sort();
    anyhow::ensure!(want == have, "ci::VM_ORDER {order:?} does not cover the matrix {want:?}");
    order
        .iter()
        .map(|(b, a)| Ok((crate::base::find(b)?, crate::arch::find(a)?)))
        .collect()
}

/// Configures every arch on every base in every profile (in scratch build
/// directories) and fails naming each fragment option that did not survive:
/// the combinations CI does not build are checked this far.  With
/// `vm_builds`, the test kernels the VM tests build are left to them: their
/// build makes the same check first.
fn config_check(sh: &xshell::Shell, vm_builds: &[(&str, &str)], dry_run: bool) -> anyhow::Result<()> {
    use crate::kernel::{self, Profile};
    let vm_builds = pairs(vm_builds)?;
    let mut jobs = Vec::new();
    for base in crate::base::BASES {
        // The series check reports a base without a series; its configs would lack NET_SPECIALIZE.
        if crate::series::require_series(base.name).is_err() {
            println!("  --   {}: {}", base.name, crate::series::no_series(base.name));
            continue;
        }
        crate::tree::ensure(sh, base, None, false, dry_run)?;
        for arch in crate::arch::ARCHES {
            if let Some(why) = arch.unsupported_on(base.name) {
                println!("  --   {} {}: {why}", base.name, arch.name);
                continue;
            }
            for profile in Profile::ALL {
                let what = format!("{} {} {}", base.name, arch.name, profile.name());
                if profile == Profile::Test && vm_builds.contains(&(base.name, arch.name)) {
                    println!("  --   {what}: the VM tests build it, checking its config first");
                    continue;
                }
                jobs.push((base, arch, profile, what));
            }
        }
    }
    // One configuration keeps a core busy: two at a time.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((base, arch, profile, what)) = jobs.get(i) else { break };
                let frags: Vec<_> =
                    kernel::fragments(arch, base.name, *profile).iter().map(|f| project::configs_dir().join(f)).collect();
                let out = project::target()
                    .join("config-check")
                    .join(base.name)
                    .join(format!("{}-{}", arch.name, profile.name()));
                let r = project::shell().and_then(|sh| {
                    let _dir = sh.push_dir(project::tree_dir(base.name));
                    kernel::configure(&sh, arch, &frags, &out, dry_run)
                });
                match r {
                    Ok(()) => println!("  ok   {what}"),
                    Err(e) => {
                        println!("  FAIL {what}: {e:#}");
                        failed.lock().unwrap().push(what.clone());
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    if !failed.is_empty() {
        return Err(anyhow::anyhow!("{}", failed.join(", "))).context("config check failed").stage(Stage::Build);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn vm_order_covers_the_matrices() {
        assert_eq!(super::vm_jobs(super::VM_MATRIX).unwrap().len(), 6);
        // The full matrix is the whole order.
        assert_eq!(super::vm_jobs(super::FULL_MATRIX).unwrap().len(), super::VM_ORDER.len());
    }
}
