//! `cargo xtask bench`: build the bench kernel and the guest harness
//! (vm-tests/bench/), boot under QEMU with icount, read the code sizes from
//! the vmlinux symbol table, and write the results (JSON, markdown, PNG)
//! under target/bench/<base>/. A run whose kernel and guest program are those
//! of the previous results is compared with them figure by figure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::arch::{self, Arch};
use crate::base::{self, Base};
use crate::kernel::{self, Profile};
use crate::project;
use crate::vmtest::{self, path_str};
use crate::{Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    /// An arch, a comma-separated list, or all.
    #[arg(long, default_value = "all")]
    pub arch: String,
    #[arg(long, default_value = "6.12")]
    pub base: String,
    /// Boots per arch; each is compared with the one before it.
    #[arg(long, default_value_t = 1)]
    pub runs: u32,
    /// The largest relative change of any figure between two runs of the
    /// same kernel and guest program that still counts as a repeat.
    #[arg(long, default_value_t = 0.01)]
    pub tolerance: f64,
    /// Seconds a boot may take.
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
    /// Merge kernel-configs/<NAME>.config into the bench kernel too (e.g.
    /// `lsm`: an LSM that asks about every send, as a distribution kernel
    /// has); the results go to target/bench/<base>+<NAME>/.
    #[arg(long = "with", value_name = "NAME")]
    pub with: Vec<String>,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let base = base::find(&args.base).stage(Stage::Usage)?;
    let arches = arch::select_for(&args.arch, base.name).stage(Stage::Usage)?;
    if let Some(w) = args.with.iter().find(|w| !kernel::BENCH_EXTRAS.contains(&w.as_str())) {
        return Err(anyhow::anyhow!("--with {w}: not one of {}", kernel::BENCH_EXTRAS.join(", "))).stage(Stage::Usage);
    }
    if args.runs == 0 || !(args.tolerance >= 0.0) {
        return Err(anyhow::anyhow!("--runs must be at least 1 and --tolerance not negative")).stage(Stage::Usage);
    }
    crate::tree::ensure(&sh, base, None, false, args.dry_run)?;
    let mut dir = base.name.to_string();
    for w in &args.with {
        dir.push('+');
        dir.push_str(w);
    }
    let out = project::target().join("bench").join(dir);
    let mut outcomes = Vec::new();
    for arch in arches {
        let outcome = run_arch(&sh, base, arch, &args, &out);
        outcomes.push((arch.name, outcome));
    }
    if !args.dry_run {
        let all = stored(&out)?;
        if !all.is_empty() {
            let md = out.join("results.md");
            sh.write_file(&md, bench::render(&all))?;
            println!("\nbench: {} ({} arch(es))", md.display(), all.len());
        }
    }
    println!("\nbench on {}:", base.name);
    let mut first_err = None;
    for (name, o) in outcomes {
        match o {
            Ok(summary) => println!("  {name:8} OK    {summary}"),
            Err(e) => {
                println!("  {name:8} FAIL  {}", e.downcast_ref::<Stage>().copied().unwrap_or(Stage::Build));
                eprintln!("{e:#}");
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// The results stored for every arch, in the arch table's order.
fn stored(out: &Path) -> anyhow::Result<Vec<bench::Results>> {
    let mut all = Vec::new();
    for a in arch::ARCHES {
        let p = out.join(format!("{}.json", a.name));
        if let Ok(text) = std::fs::read_to_string(&p) {
            all.push(serde_json::from_str(&text).with_context(|| format!("reading {}", p.display()))?);
        }
    }
    Ok(all)
}

fn run_arch(sh: &Shell, base: &Base, arch: &Arch, args: &Args, out: &Path) -> anyhow::Result<String> {
    println!("==> bench {} on {}: {}", arch.name, base.name, arch.description);
    let image = kernel::build_with(sh, base, arch, Profile::Bench, &args.with, args.dry_run)?;
    let build = project::build_dir(base.name, arch.name, &kernel::variant_name(Profile::Bench, &args.with));
    let guest_out = project::guest_dir(base.name, arch.name).join("bench");
    let program = [("bench".to_string(), project::root().join("vm-tests/bench/bench.c"))];
    let initrd = crate::guest::build_programs(sh, base.name, arch, &build, &guest_out, &program, args.dry_run)?;
    let qemu = arch.qemu;
    let qemu_args = arch.bench_qemu_args(&path_str(&image), &path_str(&initrd));
    let qa = &qemu_args;
    let vmlinux = build.join("vmlinux");
    let nm = format!("{}nm", arch.cross_compile);
    if args.dry_run {
        println!("would run: {}", cmd!(sh, "{nm} -S {vmlinux}"));
        println!("would run: {}", cmd!(sh, "{qemu} {qa...}"));
        return Ok("dry run".into());
    }
    let symbols = cmd!(sh, "{nm} -S {vmlinux}").quiet().read().context("reading the vmlinux symbol table")?;
    let code = bench::code_size(&bench::parse_nm(&symbols));
    // The code-size sets are inputs too: a run that counts other functions
    // is not a repeat of one that did not.
    let sets = format!("{:?} {:?}", bench::SPECIALIZED, bench::GENERIC);
    let inputs = digest(&[&image, &initrd], &format!("{qemu} {} {sets}", qemu_args.join(" ")))?;
    let optimize = optimize_level(&kconfig::parse_config(&sh.read_file(build.join(".config"))?));

    sh.create_dir(out)?;
    let json = out.join(format!("{}.json", arch.name));
    let mut previous: Option<bench::Results> = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str::<bench::Results>(&t).ok())
        .filter(|p| p.inputs == inputs);
    if previous.is_none() {
        println!("bench: no earlier results with this kernel and guest program; nothing to compare yet");
    }
    let mut worst: Option<f64> = None;
    let mut results = None;
    for i in 1..=args.runs {
        let log = project::target().join("logs").join(base.name).join(format!("{}-bench-{i}.log", arch.name));
        sh.create_dir(log.parent().unwrap())?;
        let boot = vmtest::boot(cmd!(sh, "{qemu} {qa...}").into(), arch, Duration::from_secs(args.timeout), &log)?;
        vmtest::judge(&boot, &log, false)?;
        let (run, diags) = bench::parse(&boot.console);
        if !diags.is_empty() {
            let lines: Vec<String> = diags.iter().map(|d| format!("  {d}")).collect();
            return Err(anyhow::anyhow!("{}\nlog: {}", lines.join("\n"), log.display()))
                .context("the guest's measurements are incomplete")
                .stage(Stage::Test);
        }
        let r = bench::Results {
            arch: arch.name.into(),
            base: base.name.into(),
            inputs: inputs.clone(),
            run,
            code: code.clone(),
            optimize: optimize.into(),
        };
        if let Some(p) = &previous {
            let devs = bench::compare(p, &r);
            let max = devs.first().map_or(0.0, |d| d.relative);
            println!("bench: run {i} against the previous one: {} figures, largest change {:.4}%", devs.len(), max * 100.0);
            for d in devs.iter().take(3) {
                println!("  {d}");
            }
            worst = Some(worst.map_or(max, |w: f64| w.max(max)));
        }
        previous = Some(r.clone());
        results = Some(r);
    }
    let results = results.expect("at least one run");
    if json.exists() {
        sh.copy_file(&json, out.join(format!("{}.prev.json", arch.name)))?;
    }
    sh.write_file(&json, serde_json::to_string_pretty(&results)? + "\n")?;
    let png = out.join(format!("{}.png", arch.name));
    plot(&results, &png).with_context(|| format!("plotting {}", png.display()))?;
    println!("bench: {} and {}", json.display(), png.display());
    match worst {
        Some(w) if w > args.tolerance => Err(anyhow::anyhow!(
            "a figure changed by {:.3}% between runs of the same kernel and guest program (tolerance {:.3}%)",
            w * 100.0,
            args.tolerance * 100.0
        ))
        .stage(Stage::Test),
        Some(w) => Ok(format!("repeat within {:.4}%", w * 100.0)),
        None => Ok("first run with these inputs".into()),
    }
}

/// The optimization level a kernel `.config` builds with: "-O2" for
/// `CC_OPTIMIZE_FOR_PERFORMANCE`, "-Os" for `CC_OPTIMIZE_FOR_SIZE`, empty
/// if it sets neither.
fn optimize_level(config: &kconfig::Config) -> &'static str {
    let set = |option| config.get(option) == Some(&kconfig::Value::Yes);
    if set("CC_OPTIMIZE_FOR_PERFORMANCE") {
        "-O2"
    } else if set("CC_OPTIMIZE_FOR_SIZE") {
        "-Os"
    } else {
        ""
    }
}

/// FNV-1a over the files and the QEMU command line: which kernel, guest
/// program and machine a result is of.
fn digest(files: &[&PathBuf], command: &str) -> anyhow::Result<String> {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    };
    for f in files {
        eat(&std::fs::read(f).with_context(|| format!("reading {}", f.display()))?);
    }
    // Paths differ between clones; the arguments without them still name the machine.
    let root = project::root().display().to_string();
    eat(command.replace(&root, "").as_bytes());
    Ok(format!("{h:016x}"))
}

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Registers DejaVu Sans (Debian's fonts-dejavu-core) as plotters' sans-serif, once.
fn font() -> anyhow::Result<()> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let bytes = std::fs::read(FONT).map_err(|e| format!("{FONT}: {e}; install fonts-dejavu-core (tools/bootstrap.sh)"))?;
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, Box::leak(bytes.into_boxed_slice()))
            .map_err(|_| format!("{FONT} is not a font plotters can read"))
    })
    .clone()
    .map_err(|e| anyhow::anyhow!(e))
}

/// Two panels of grouped bars, one group per stream test, one bar per
/// measured sender: throughput and sender instructions per ADU, each
/// against send() in the same test.
fn plot(r: &bench::Results, path: &Path) -> anyhow::Result<()> {
    use plotters::prelude::*;
    font()?;
    let figures = bench::figures(r);
    let value = |key: String| figures.iter().find(|f| f.key == key).map(|f| f.value);
    let mut groups: Vec<String> = Vec::new();
    let mut senders: Vec<String> = Vec::new();
    for s in &r.run.stream {
        let g = format!("{} {} {}", s.proto, s.link, s.adu);
        if !groups.contains(&g) {
            groups.push(g);
        }
        if matches!(s.outcome, bench::Outcome::Measured { .. }) && !senders.contains(&s.sender) {
            senders.push(s.sender.clone());
        }
    }
    let root = BitMapBackend::new(path, (1400, 1000)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((2, 1));
    let metrics = [("throughput", "throughput vs send()"), ("sender instructions/ADU", "sender instructions/ADU vs send()")];
    for (area, (metric, title)) in panels.iter().zip(metrics) {
        let ratio = |g: &str, s: &str| -> Option<f64> {
            Some(value(format!("stream {g} {s} {metric}"))? / value(format!("stream {g} send {metric}"))?)
        };
        let top = groups
            .iter()
            .flat_map(|g| senders.iter().filter_map(move |s| ratio(g, s)))
            .fold(1.0f64, f64::max)
            * 1.75;
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{} (Linux {}): {title}", r.arch, r.base), ("sans-serif", 24))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..groups.len() as f64 - 0.5, 0f64..top)?;
        let names = groups.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.len() * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc(title)
            .label_style(("sans-serif", 15))
            .draw()?;
        let width = 0.9 / senders.len().max(1) as f64;
        for (j, s) in senders.iter().enumerate() {
            let color = Palette99::pick(j).to_rgba();
            let bars: Vec<Rectangle<(f64, f64)>> = groups
                .iter()
                .enumerate()
                .filter_map(|(i, g)| {
                    let y = ratio(g, s)?;
                    let x0 = i as f64 - 0.45 + j as f64 * width;
                    Some(Rectangle::new([(x0, 0.0), (x0 + width * 0.9, y)], color.filled()))
                })
                .collect();
            chart
                .draw_series(bars)?
                .label(s.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    fn check(config: &str, expected: &str) {
        assert_eq!(super::optimize_level(&kconfig::parse_config(config)), expected, "{config:?}");
    }

    #[test]
    fn the_optimization_level_is_the_config_s_choice() {
        check("CONFIG_X=y\nCONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y\n", "-O2");
        check("# CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE is not set\nCONFIG_CC_OPTIMIZE_FOR_SIZE=y\n", "-Os");
        check("# CONFIG_CC_OPTIMIZE_FOR_SIZE is not set\n", "");
        check("", "");
    }
}
