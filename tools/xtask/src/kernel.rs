//! `cargo xtask kernel`: configure and build one kernel, out of tree and incrementally.

use std::path::PathBuf;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::arch::{self, Arch};
use crate::base::{self, Base};
use crate::project::{self, run_or_print};
use crate::{Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    /// The architecture (armv4, i486, x86_64, aarch64, riscv64).
    #[arg(long)]
    pub arch: String,
    #[arg(long, default_value = "6.12")]
    pub base: String,
    /// release: the kernel for a device, no debug options. test: lockdep,
    /// KASAN where the arch has it, kmemleak, full preemption (what vm-test,
    /// kunit and ci boot). bench: no debug options, what bench boots.
    #[arg(long, default_value = "release")]
    pub profile: String,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
    /// Configure and check the config, but do not build.
    #[arg(long)]
    pub config_only: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let arch = arch::find(&args.arch).stage(Stage::Usage)?;
    let base = base::find(&args.base).stage(Stage::Usage)?;
    let profile = Profile::parse(&args.profile).stage(Stage::Usage)?;
    crate::tree::ensure(&sh, base, None, false, args.dry_run)?;
    if args.config_only {
        let out = project::build_dir(base.name, arch.name, profile.name());
        let frags: Vec<PathBuf> =
            fragments(arch, base.name, profile).iter().map(|f| project::configs_dir().join(f)).collect();
        let _dir = sh.push_dir(project::tree_dir(base.name));
        configure(&sh, arch, &frags, &out, args.dry_run)?;
        println!("{}", out.join(".config").display());
        return Ok(());
    }
    let image = build(&sh, base, arch, profile, args.dry_run)?;
    println!("{}", image.display());
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// The kernel for a device: no debug options (the default of `kernel`).
    Release,
    /// The VM tests' and KUnit's kernel: lockdep, KASAN, kmemleak.
    Test,
    /// The benchmarks' kernel: no debug options, no netfilter.
    Bench,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Release, Profile::Test, Profile::Bench];

    pub fn parse(s: &str) -> anyhow::Result<Profile> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .with_context(|| format!("unknown profile {s:?}; expected release, test or bench"))
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Test => "test",
            Profile::Bench => "bench",
        }
    }
}

/// The fragments merged onto the arch's defconfig, in merge order.
pub fn fragments(arch: &Arch, base: &str, profile: Profile) -> Vec<&'static str> {
    let mut f = vec![arch.fragment];
    f.extend(arch.base_fragments.iter().filter(|(b, _)| *b == base).map(|(_, frag)| *frag));
    f.push("common.config");
    match profile {
        Profile::Test => {
            f.push("debug.config");
            if arch.kasan {
                f.push("kasan.config");
            }
            if arch.channel.is_some_and(|c| c.modules) {
                f.push("signed-modules.config");
            }
        }
        Profile::Bench => f.push("bench.config"),
        Profile::Release => f.push("release.config"),
    }
    f
}

/// `make` with the arch's ARCH and CROSS_COMPILE, building into `out`.
fn make<'a>(sh: &'a Shell, arch: &Arch, out: &PathBuf, jobs: &str) -> xshell::Cmd<'a> {
    let (a, cc) = (arch.linux_arch, arch.cross_compile);
    cmd!(sh, "make -s O={out} ARCH={a} CROSS_COMPILE={cc} -j{jobs}")
}

pub fn jobs() -> String {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).to_string()
}

/// Configures (only when a fragment or the tree changed) and builds; returns the image path.
pub fn build(
    sh: &Shell,
    base: &Base,
    arch: &Arch,
    profile: Profile,
    dry_run: bool,
) -> anyhow::Result<PathBuf> {
    build_with(sh, base, arch, profile, &[], dry_run)
}

/// The fragments `bench --with NAME` may merge into the bench kernel
/// (kernel-configs/NAME.config).
pub const BENCH_EXTRAS: &[&str] = &["lsm", "distro"];

/// The build directory's name for a profile with extra fragments merged
/// last: `bench`, or `bench+lsm` for `kernel-configs/lsm.config`.
pub fn variant_name(profile: Profile, extra: &[String]) -> String {
    let mut name = profile.name().to_string();
    for e in extra {
        name.push('+');
        name.push_str(e);
    }
    name
}

/// [`build`], with `kernel-configs/<extra>.config` merged after the
/// profile's fragments, into a build directory of its own.
pub fn build_with(
    sh: &Shell,
    base: &Base,
    arch: &Arch,
    profile: Profile,
    extra: &[String],
    dry_run: bool,
) -> anyhow::Result<PathBuf> {
    if let Some(why) = arch.unsupported_on(base.name) {
        return Err(anyhow::anyhow!("no {} kernel on base {}: {why}", arch.name, base.name)).stage(Stage::Usage);
    }
    let tree = project::tree_dir(base.name);
    let out = project::build_dir(base.name, arch.name, &variant_name(profile, extra));
    let mut frags: Vec<PathBuf> =
        fragments(arch, base.name, profile).iter().map(|f| project::configs_dir().join(f)).collect();
    frags.extend(extra.iter().map(|e| project::configs_dir().join(format!("{e}.config"))));
    let _dir = sh.push_dir(&tree);
    let jobs = jobs();

    // Re-merge when the inputs changed: the merged inputs are recorded next to .config.
    let stamp_path = out.join(".netspec-config-inputs");
    let mut stamp = format!("{}\n", arch.defconfig);
    for f in &frags {
        stamp.push_str(&sh.read_file(f).with_context(|| format!("reading {}", f.display()))?);
    }
    let fresh = sh.read_file(&stamp_path).ok().as_deref() != Some(stamp.as_str());
    if fresh || dry_run {
        configure(sh, arch, &frags, &out, dry_run)?;
        if !dry_run {
            sh.write_file(&stamp_path, &stamp)?;
        }
    }
    let _lock = if dry_run { None } else { Some(build_lock()?) };
    // Declared after the lock, so dropped before it: the fixes are out of
    // the tree before another build may start.
    let fixes = crate::fixes::apply(sh, base.name, arch.name, &tree, dry_run)?;
    let target = arch.image_target;
    // A kernel that loads generated modules also needs what linking one
    // takes: scripts/module.lds (kbuild's modules_prepare).
    let modules = profile == Profile::Test && arch.channel.is_some_and(|c| c.modules);
    let targets: &[&str] = if modules { &[target, "modules_prepare"] } else { &[target] };
    let started = std::time::Instant::now();
    run_or_print(dry_run, make(sh, arch, &out, &jobs).args(targets))
        .with_context(|| format!("building {} for {} on {}", target, arch.name, base.name))
        .stage(Stage::Build)?;
    fixes.finish()?;
    if !dry_run {
        eprintln!(
            "kernel {} {} {}: built in {:.0?}",
            base.name,
            arch.name,
            variant_name(profile, extra),
            started.elapsed()
        );
    }
    Ok(out.join(arch.image_path))
}

/// The lock file of [`build_lock`], open, and its path.
fn open_build_lock() -> anyhow::Result<(std::fs::File, PathBuf)> {
    let path = project::root().join("target/build/.lock");
    std::fs::create_dir_all(path.parent().unwrap())?;
    let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok((file, path))
}

/// The build lock if no build holds it now (see [`build_lock`]).
pub fn build_lock_if_free() -> anyhow::Result<Option<std::fs::File>> {
    let (file, path) = open_build_lock()?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// One kernel build at a time on this machine: two `make -j` runs on two
/// cores each take twice as long and can exhaust memory. The lock is held
/// until the returned file is dropped.
fn build_lock() -> anyhow::Result<std::fs::File> {
    if let Some(file) = build_lock_if_free()? {
        return Ok(file);
    }
    let (file, path) = open_build_lock()?;
    eprintln!("kernel: waiting for another kernel build ({})", path.display());
    file.lock().with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

/// The arch's defconfig, the fragments merged with the kernel's
/// merge_config.sh, olddefconfig, and the check that every option survived.
/// Runs in the tree directory the shell is in.
pub fn configure(sh: &Shell, arch: &Arch, frags: &[PathBuf], out: &PathBuf, dry_run: bool) -> anyhow::Result<()> {
    let jobs = jobs();
    if !dry_run {
        sh.create_dir(out)?;
    }
    let defconfig = arch.defconfig;
    run_or_print(dry_run, make(sh, arch, out, &jobs).arg(defconfig)).stage(Stage::Build)?;
    let config = out.join(".config");
    let (a, cc) = (arch.linux_arch, arch.cross_compile);
    run_or_print(
        dry_run,
        cmd!(sh, "scripts/kconfig/merge_config.sh -m -O {out} {config} {frags...}")
            .env("ARCH", a)
            .env("CROSS_COMPILE", cc)
            .quiet()
            .ignore_stdout(),
    )
    .stage(Stage::Build)?;
    run_or_print(dry_run, make(sh, arch, out, &jobs).arg("olddefconfig")).stage(Stage::Build)?;
    if !dry_run {
        check_survivors(sh, frags, &config)?;
    }
    Ok(())
}

/// Fails naming every fragment option that olddefconfig dropped or changed.
fn check_survivors(sh: &Shell, frags: &[PathBuf], config: &PathBuf) -> anyhow::Result<()> {
    let mut parsed = Vec::new();
    for f in frags {
        let name = f.strip_prefix(project::root()).unwrap_or(f).display().to_string();
        let (fragment, diags) = kconfig::parse(&name, &sh.read_file(f)?);
        if let Some(d) = diags.first() {
            bail!("{name}: {d}");
        }
        parsed.push(fragment);
    }
    let merged = kconfig::parse_config(&sh.read_file(config)?);
    let lost = kconfig::unsatisfied(&parsed, &merged);
    if !lost.is_empty() {
        let lines: Vec<String> = lost.iter().map(|u| u.to_string()).collect();
        // Force a re-merge next time: the stamp is only written on success.
        return Err(anyhow::anyhow!("{}", lines.join("\n")))
            .context(format!(
                "{} fragment option(s) did not survive olddefconfig (a missing dependency?)",
                lost.len()
            ))
            .stage(Stage::Build);
    }
    Ok(())
}
