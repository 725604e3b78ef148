//! `cargo xtask vm-test`: build the kernel and the guest programs, boot QEMU
//! under TCG, stream the console, and judge the guest's KTAP.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::arch::{self, Arch, RunEnd};
use crate::base::{self, Base};
use crate::kernel::{self, Profile};
use crate::project;
use crate::{Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    /// An arch, a comma-separated list, or all.
    #[arg(long, default_value = "all")]
    pub arch: String,
    #[arg(long, default_value = "6.12")]
    pub base: String,
    /// Run only the suites whose name contains this, or one of these
    /// comma-separated parts.
    pub filter: Option<String>,
    /// Seconds a guest may run before it counts as hung.
    #[arg(long, default_value_t = 900)]
    pub timeout: u64,
    /// Extra kernel command-line arguments (e.g. to inject a fault).
    #[arg(long, default_value = "")]
    pub append: String,
    /// Boot the kernel already built in this `O=` directory (its `source`
    /// link names the tree) instead of building the test kernel: for one
    /// arch, e.g. a kernel built from your own tree.
    #[arg(long)]
    pub kernel_build: Option<PathBuf>,
    /// The suites' long mode (NETSPEC_LONG=1 in their environment): the fuzz
    /// and scale suites at full size.
    #[arg(long)]
    pub long: bool,
    /// Boot under `-icount` as the benchmarks do: the guest clock counts
    /// executed instructions, so the suites' timings (the scale suite's
    /// per-batch costs) are instruction counts that repeat from boot to boot.
    #[arg(long)]
    pub icount: bool,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
    /// Names the console log: target/logs/<base>/<arch>-<log_tag>.log.
    #[arg(skip = String::from("vm-test"))]
    pub log_tag: String,
    /// Judge the kernel's own KTAP (KUnit) instead of the guest suites',
    /// which are then not run; see `cargo xtask kunit`.
    #[arg(skip)]
    pub kunit: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let base = base::find(&args.base).stage(Stage::Usage)?;
    let arches = arch::select_for(&args.arch, base.name).stage(Stage::Usage)?;
    let jobs: Vec<(&'static Base, &'static Arch)> = arches.into_iter().map(|a| (base, a)).collect();
    let outcomes = run_jobs(&jobs, &args, false)?;
    println!("\nvm-test on {}:", base.name);
    report(outcomes)
}

/// One boot's outcome: its summary line, how long it took, and its result.
pub type Outcome = (String, Duration, anyhow::Result<String>);

/// Prints the outcomes and returns the worst: the first failure, with every
/// failure printed.
pub fn report(outcomes: Vec<Outcome>) -> anyhow::Result<()> {
    for (line, took, _) in &outcomes {
        println!("  {line}  ({:.0?})", took);
    }
    let mut first_err = None;
    for (_, _, o) in outcomes {
        if let Err(e) = o {
            eprintln!("{e:#}");
            first_err.get_or_insert(e);
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Builds the test kernel of each (base, arch) job in order, and boots each
/// as soon as it is built: with `args.kunit` to judge KUnit, otherwise to run
/// the guest suites, and then, with `and_kunit`, a second time with KUnit.
///
/// The kernels are built one after another on a second thread while the
/// guests run: a build keeps both cores busy, a TCG guest one, so the builds
/// overlap the boots, and only the last kernel's boots run alone.
pub fn run_jobs(jobs: &[(&'static Base, &'static Arch)], args: &Args, and_kunit: bool) -> anyhow::Result<Vec<Outcome>> {
    let sh = project::shell()?;
    let mut suites = crate::guest::suites()?;
    if let Some(f) = &args.filter {
        suites.retain(|s| selects(f, s));
        if suites.is_empty() && !selects(f, crate::guest::RUST_SUITE) {
            return Err(anyhow::anyhow!("no suite under vm-tests/suites/ matches {f:?}")).stage(Stage::Usage);
        }
    }
    if args.kunit {
        suites.clear();
    }
    let mut bases: Vec<&Base> = jobs.iter().map(|(b, _)| *b).collect();
    bases.dedup_by_key(|b| b.name);
    if let Some(dir) = &args.kernel_build {
        if jobs.len() != 1 {
            return Err(anyhow::anyhow!("--kernel-build boots one kernel: give one --arch")).stage(Stage::Usage);
        }
        if !dir.join("source").exists() {
            return Err(anyhow::anyhow!("{} is not a kernel O= build directory (no source link)", dir.display()))
                .stage(Stage::Usage);
        }
    } else {
        for base in bases {
            crate::tree::ensure(&sh, base, None, false, args.dry_run)?;
        }
    }
    let kunit_args = Args {
        arch: args.arch.clone(),
        base: args.base.clone(),
        filter: None,
        timeout: args.timeout,
        append: crate::kunit::APPEND.into(),
        dry_run: args.dry_run,
        log_tag: "kunit".into(),
        kunit: true,
        kernel_build: args.kernel_build.clone(),
        long: false,
        icount: false,
    };
    let mut outcomes = Vec::new();
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        let dry_run = args.dry_run;
        let to_build = jobs.to_vec();
        let prebuilt = args.kernel_build.clone();
        scope.spawn(move || {
            for (base, arch) in to_build {
                let built = match &prebuilt {
                    Some(dir) => Ok(dir.join(arch.image_path)),
                    None => project::shell().and_then(|sh| kernel::build(&sh, base, arch, Profile::Test, dry_run)),
                };
                if tx.send(built).is_err() {
                    break;
                }
            }
        });
        for (base, arch) in jobs {
            let started = Instant::now();
            let image = rx.recv().context("the kernel build thread stopped").and_then(|image| image);
            let what = if args.kunit { "kunit" } else { "vm-test" };
            let image = match image {
                Ok(image) => image,
                Err(e) => {
                    let line = format!("{:8} {:5} {what:7} FAIL  {}", arch.name, base.name, Stage::Build);
                    outcomes.push((line, started.elapsed(), Err(e)));
                    continue;
                }
            };
            let mut boots = vec![(what, args)];
            if and_kunit && !args.kunit {
                boots.push(("kunit", &kunit_args));
            }
            for (what, a) in boots {
                let started = Instant::now();
                let suites: &[String] = if a.kunit { &[] } else { &suites };
                let outcome = run_arch(&sh, base, arch, image.clone(), suites, a);
                let line = match &outcome {
                    Ok(summary) => format!("{:8} {:5} {what:7} PASS  {summary}", arch.name, base.name),
                    Err(e) => format!(
                        "{:8} {:5} {what:7} FAIL  {}",
                        arch.name,
                        base.name,
                        e.downcast_ref::<Stage>().copied().unwrap_or(Stage::Build)
                    ),
                };
                outcomes.push((line, started.elapsed(), outcome));
            }
        }
    });
    Ok(outcomes)
}

/// The suite that needs the channel to netspecd (vm-tests/suites/remote.c).
const REMOTE_SUITE: &str = "remote";

/// Whether the suite filter (comma-separated parts) selects `suite`: one of
/// its parts is in the suite's name.
fn selects(filter: &str, suite: &str) -> bool {
    filter.split(',').any(|part| suite.contains(part))
}

fn run_arch(sh: &Shell, base: &Base, arch: &Arch, image: PathBuf, suites: &[String], args: &Args) -> anyhow::Result<String> {
    println!("==> {} on {}: {}", arch.name, base.name, arch.description);
    let build = match &args.kernel_build {
        Some(dir) => dir.clone(),
        None => project::build_dir(base.name, arch.name, Profile::Test.name()),
    };
    // The Rust API's suite runs where there is a Rust target for the guest.
    let mut suites = suites.to_vec();
    let rust = crate::guest::RUST_SUITE;
    if arch.rust_target.is_some() && !args.kunit && args.filter.as_deref().is_none_or(|f| selects(f, rust)) {
        suites.push(rust.to_string());
    }
    // The remote suite talks to netspecd over the arch's channel; without
    // one it is left out.
    let channel = arch.channel.filter(|_| suites.iter().any(|s| s == REMOTE_SUITE));
    if arch.channel.is_none() {
        suites.retain(|s| s != REMOTE_SUITE);
    }
    // The remote suite's module signed with a key the kernel does not
    // trust, made for this build; nothing for any other boot.
    let extra = project::guest_dir(base.name, arch.name).join(crate::guest::EXTRA_DIR);
    let _ = std::fs::remove_dir_all(&extra);
    if channel.is_some_and(|c| c.modules) && !args.dry_run {
        crate::engine::foreign_module(sh, &build, &extra.join("foreign.ko"))?;
    }
    let initrd = crate::guest::build(sh, base.name, arch, &build, &suites, args.dry_run)?;
    // The kernel hands an unknown NAME=value of its command line to init's
    // environment, and init to the suites'.
    let mut append = if args.long { format!("{} NETSPEC_LONG=1", args.append).trim().to_string() } else { args.append.clone() };
    if let Some(ch) = channel {
        append = format!("{append} NETSPEC_CHANNEL={}", ch.tty).trim().to_string();
    }
    let mut qemu_args = arch.qemu_args(&path_str(&image), &path_str(&initrd), &append);
    let logs = project::target().join("logs").join(base.name);
    let sock = logs.join(format!("{}-{}-netspecd.sock", arch.name, args.log_tag));
    if let Some(ch) = channel {
        qemu_args.extend(arch.channel_qemu_args(ch, &path_str(&sock)));
    }
    if args.long && arch.is_64bit() {
        // The scale suite's long mode holds 100,000 instances: about 400 MB
        // of slab with KASAN, more than the default guest has.
        if let Some(m) = qemu_args.iter().position(|a| a == "-m") {
            qemu_args[m + 1] = crate::arch::LONG_MEMORY.into();
        }
    }
    if args.icount {
        qemu_args.extend(crate::arch::BENCH_QEMU_EXTRA.iter().map(|s| s.to_string()));
    }
    let qemu = arch.qemu;
    let c = cmd!(sh, "{qemu} {qemu_args...}");
    if args.dry_run {
        println!("would run: {c}");
        return Ok("dry run".into());
    }
    let log_path = logs.join(format!("{}-{}.log", arch.name, args.log_tag));
    sh.create_dir(&logs)?;
    // Started for this kernel build before QEMU, which connects to it.
    let _server = match channel {
        Some(_) => Some(crate::engine::start_netspecd(
            sh,
            &build,
            &sock,
            &logs.join(format!("{}-{}-netspecd.log", arch.name, args.log_tag)),
            &project::target().join("netspecd").join(base.name).join(arch.name),
        )?),
        None => None,
    };
    let log = boot(c.into(), arch, Duration::from_secs(args.timeout), &log_path)?;
    judge(&log, &log_path, args.kunit)
}

pub(crate) fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// What a boot produced: the console text and how it ended.
pub struct Boot {
    pub console: String,
    pub timed_out: bool,
    pub panicked: bool,
}

/// Runs QEMU, copying the console to `log_path` as it comes, until the guest
/// ends the run, the harness's end marker is read (and the arch cannot end
/// it itself), the kernel panics, or the timeout passes.
pub(crate) fn boot(mut qemu: std::process::Command, arch: &Arch, timeout: Duration, log_path: &Path) -> anyhow::Result<Boot> {
    let mut child = qemu
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}; is it installed? (tools/bootstrap.sh)", arch.qemu))
        .stage(Stage::Boot)?;
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).trim_end_matches('\r').to_string();
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = std::fs::File::create(log_path)?;
    let mut console = String::new();
    let deadline = Instant::now() + timeout;
    let mut stop_at: Option<Instant> = None;
    let (mut timed_out, mut panicked) = (false, false);
    loop {
        let now = Instant::now();
        let wake = stop_at.unwrap_or(deadline).min(deadline);
        if now >= wake {
            timed_out = stop_at.is_none();
            break;
        }
        match rx.recv_timeout(wake - now) {
            Ok(line) => {
                writeln!(log, "{line}")?;
                console.push_str(&line);
                console.push('\n');
                if ktap::is_panic_line(&line) {
                    panicked = true;
                    // Give the rest of the panic report a moment to arrive.
                    stop_at.get_or_insert(Instant::now() + Duration::from_secs(3));
                } else if line.trim() == ktap::END_MARKER {
                    let grace = match arch.run_end {
                        RunEnd::HarnessStops => 1,
                        RunEnd::Reset => 30,
                    };
                    stop_at.get_or_insert(Instant::now() + Duration::from_secs(grace));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break, // QEMU exited
        }
    }
    let _ = child.kill();
    let status = child.wait()?;
    let _ = reader.join();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    if !stderr.trim().is_empty() {
        writeln!(log, "--- qemu stderr ---\n{stderr}")?;
        console.push_str(&format!("--- qemu stderr ---\n{stderr}"));
    }
    writeln!(log, "--- harness: qemu {status}, timed out: {timed_out}, panic: {panicked} ---")?;
    Ok(Boot { console, timed_out, panicked })
}

/// The verdict on one boot: a boot-stage error if the guest never got to
/// report (timeout, panic, no KTAP), a test-stage error if it reported a
/// failure or the kernel reported a bug; otherwise the one-line summary.
/// With `kunit`, the KTAP judged is the kernel's (the lines with a printk
/// timestamp), and it must hold netspec's KUnit suites and nothing else.
pub(crate) fn judge(boot: &Boot, log_path: &Path, kunit: bool) -> anyhow::Result<String> {
    let mut report = if kunit { ktap::parse(&ktap::kernel_lines(&boot.console)) } else { ktap::parse(&boot.console) };
    if kunit {
        // init, not the kernel, prints the end marker: it has no timestamp.
        report.end_marker = boot.console.lines().any(|l| l.trim_end_matches('\r').trim() == ktap::END_MARKER);
        let names: Vec<&str> = report.results.iter().map(|r| r.name.as_str()).collect();
        if report.version_seen && (names.is_empty() || names.iter().any(|n| !n.starts_with("netspec"))) {
            return Err(anyhow::anyhow!(
                "KUnit ran {names:?}, not netspec's suites (is CONFIG_NET_SPECIALIZE_KUNIT_TEST in the test config?); log: {}",
                log_path.display()
            ))
            .stage(Stage::Test);
        }
    }
    println!("{}", report.render_results());
    let summary = report.summary();
    println!("{summary}");
    let tail = || {
        let lines: Vec<&str> = boot.console.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };
    let log = log_path.display();
    if boot.panicked {
        return Err(anyhow::anyhow!("the kernel panicked; log: {log}\n{}", tail())).stage(Stage::Boot);
    }
    if !report.version_seen {
        let why = if boot.timed_out { "timed out before the guest printed KTAP" } else { "the guest printed no KTAP" };
        return Err(anyhow::anyhow!("{why}; log: {log}\n{}", tail())).stage(Stage::Boot);
    }
    if boot.timed_out && !report.end_marker {
        return Err(anyhow::anyhow!("the guest timed out in the tests; log: {log}\n{}", tail())).stage(Stage::Boot);
    }
    match report.verdict() {
        ktap::Verdict::Pass => Ok(summary),
        ktap::Verdict::Fail(reasons) => {
            let reasons: Vec<String> = reasons.iter().map(|r| format!("  {r}")).collect();
            bail_test(format!("{summary}\n{}\nlog: {log}", reasons.join("\n")))
        }
    }
}

fn bail_test(msg: String) -> anyhow::Result<String> {
    Err(anyhow::anyhow!(msg)).stage(Stage::Test)
}
