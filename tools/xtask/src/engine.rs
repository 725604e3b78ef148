//! `cargo xtask engine`: the customization engine's compile step, run and
//! timed against a kernel this tool built (issue 16, item 1).
//!
//! For a context it generates the translation unit (`tools/engine`), reads
//! the command kbuild ran for `net/netspec/udp4.o` from that build's `.cmd`
//! file, and compiles the unit with it, calling the compiler directly:
//! without and with a precompiled header of the template's includes, then
//! objtool when kbuild ran it. It reports the median wall time of each step
//! and the generated function's text size against the kernel's own code
//! (the generic send path and the built-in instance, as `bench` counts
//! them). The kernels this tool builds have no loadable modules, so the
//! object is not linked into a module or loaded: that is still to build.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use xshell::{cmd, Shell};

use crate::{arch, project, Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    /// An arch, a comma-separated list, or all.
    #[arg(long, default_value = "x86_64")]
    pub arch: String,
    #[arg(long, default_value = "6.12")]
    pub base: String,
    /// The profile of the kernel build to compile against (test, bench).
    #[arg(long, default_value = "test")]
    pub profile: String,
    /// The context's checksum mode: partial, software or none.
    #[arg(long, default_value = "partial")]
    pub csum: String,
    /// Times each compile is run; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

/// The kbuild object whose command a generated unit is compiled with: the
/// one that instantiates the same template.
const OBJECT: &str = "net/netspec/udp4.o";
const MODNAME: &str = "netspec_gen";

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.runs == 0 {
        bail!(anyhow::anyhow!("--runs must be at least 1").context(Stage::Usage));
    }
    let spec = crate::gen::load_variants()?;
    let path = spec
        .paths
        .iter()
        .find(|p| p.name == "udp4")
        .context("kernel-variants.toml has no udp4 path")?;
    let ctx = engine::Context {
        path: "udp4".into(),
        values: vec![("csum".into(), args.csum.clone())],
    };
    let source = engine::generate(path, &ctx).stage(Stage::Usage)?;
    let mut reports = Vec::new();
    for arch in arch::select_for(&args.arch, &args.base).stage(Stage::Usage)? {
        reports.push(run_one(&args, arch, path, &source)?);
    }
    if !args.dry_run {
        let text = reports.join("\n");
        println!("\n{text}");
        let out = project::target()
            .join("engine")
            .join(&args.base)
            .join("results.md");
        std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
        println!("written to {}", out.display());
    }
    Ok(())
}

fn run_one(
    args: &Args,
    arch: &arch::Arch,
    path: &variants::PathSpec,
    source: &str,
) -> anyhow::Result<String> {
    let build = project::build_dir(&args.base, arch.name, &args.profile);
    let cmd_file = build.join("net/netspec/.udp4.o.cmd");
    if args.dry_run && !cmd_file.exists() {
        println!(
            "would compile the unit for {} with the command in {}",
            arch.name,
            cmd_file.display()
        );
        return Ok(String::new());
    }
    let text = std::fs::read_to_string(&cmd_file).with_context(|| {
        format!(
            "reading {}: build the kernel first (cargo xtask kernel --arch {} --base {} --profile {})",
            cmd_file.display(),
            arch.name,
            args.base,
            args.profile
        )
    })?;
    let cc = engine::CompileCommand::from_cmd_file(&text, OBJECT).stage(Stage::Build)?;
    let include_dirs = vec![cc.source_dir().to_string()];

    let work = project::target()
        .join("engine")
        .join(&args.base)
        .join(format!("{}-{}", arch.name, args.profile));
    std::fs::create_dir_all(&work)?;
    let gen_c = work.join("gen.c");
    let pch_h = work.join("pch.h");
    let pch = work.join("pch.h.gch");
    let obj = work.join("gen.o");
    let obj_pch = work.join("gen-pch.o");
    std::fs::write(&gen_c, source)?;
    std::fs::write(&pch_h, cc.pch_header(&[engine::template_header(path)]))?;
    let s = |p: &Path| p.display().to_string();

    let sh = project::shell()?;
    let _cwd = sh.push_dir(&build);
    let compiler = &cc.compiler;
    let plain = cc.compile_args(&include_dirs, MODNAME, &s(&gen_c), &s(&obj));
    let build_pch = cc.pch_build_args(&include_dirs, MODNAME, &s(&pch_h), &s(&pch));
    let with_pch =
        cc.pch_compile_args(&include_dirs, MODNAME, &s(&pch_h), &s(&gen_c), &s(&obj_pch));
    if args.dry_run {
        for a in [&plain, &build_pch, &with_pch] {
            println!("(cd {} && {compiler} {})", build.display(), a.join(" "));
        }
        if let Some(post) = cc.post_args(&s(&obj_pch)) {
            println!("(cd {} && {})", build.display(), post.join(" "));
        }
        return Ok(String::new());
    }

    println!(
        "engine: {} {}: compiling {} in {}",
        args.base,
        arch.name,
        gen_c.display(),
        build.display()
    );
    let t_plain = time(args.runs, || {
        let a = &plain;
        cmd!(sh, "{compiler} {a...}")
            .quiet()
            .run()
            .map_err(Into::into)
    })
    .context("compiling the generated unit with kbuild's command")
    .stage(Stage::Build)?;
    let t_build_pch = time(args.runs, || {
        let a = &build_pch;
        cmd!(sh, "{compiler} {a...}")
            .quiet()
            .run()
            .map_err(Into::into)
    })
    .context("precompiling the template's includes")
    .stage(Stage::Build)?;
    let t_pch = time(args.runs, || {
        let a = &with_pch;
        cmd!(sh, "{compiler} {a...}")
            .quiet()
            .run()
            .map_err(Into::into)
    })
    .context("compiling the generated unit with the precompiled header")
    .stage(Stage::Build)?;
    // -H lists what the compile read; a used precompiled header is the
    // line "! <file>.gch". Checked, so a figure for it is never a full
    // compile under another name.
    let h = cmd!(sh, "{compiler} {with_pch...} -H")
        .quiet()
        .ignore_stdout()
        .read_stderr()?;
    if !h
        .lines()
        .any(|l| l.starts_with("! ") && l.ends_with(".gch"))
    {
        bail!(anyhow::anyhow!("gcc did not use {}", pch.display()).context(Stage::Test));
    }
    let t_post = match cc.post_args(&s(&obj_pch)) {
        Some(post) => {
            let (tool, rest) = post.split_first().context("empty post-compile command")?;
            // objtool rewrites the object in place: run it on copies.
            let copy = work.join("gen-objtool.o");
            let rest: Vec<String> = rest
                .iter()
                .map(|w| {
                    if *w == s(&obj_pch) {
                        s(&copy)
                    } else {
                        w.clone()
                    }
                })
                .collect();
            Some(
                time(args.runs, || {
                    std::fs::copy(&obj_pch, &copy)?;
                    {
                        let a = &rest;
                        cmd!(sh, "{tool} {a...}")
                    }
                    .quiet()
                    .run()
                    .map_err(Into::into)
                })
                .context("running objtool on the generated object")
                .stage(Stage::Build)?,
            )
        }
        None => None,
    };

    let nm = nm_tool(&cc.compiler);
    let name = engine::function_name(path);
    let gen_syms = bench::parse_nm(
        &cmd!(sh, "{nm} -S {obj_pch}")
            .quiet()
            .read()
            .context("nm the generated object")?,
    );
    let gen_size = gen_syms
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.size)
        .with_context(|| format!("{} has no text symbol {name}", obj_pch.display()))
        .stage(Stage::Test)?;
    // With the out-of-line copies of the template's static inline helpers
    // the compiler kept.
    let gen_text: u64 = gen_syms.iter().map(|s| s.size).sum();
    let gen_list: Vec<String> = gen_syms
        .iter()
        .map(|s| format!("{} {}", s.name, s.size))
        .collect();
    let builtin_name = format!("netspec_udp4_send_{}", args.csum);
    let builtin = text_size(&sh, &nm, &build.join(OBJECT), &builtin_name)?;
    let vmlinux = cmd!(sh, "{nm} -S {build}/vmlinux")
        .quiet()
        .read()
        .context("nm vmlinux")?;
    let sizes = bench::code_size(&bench::parse_nm(&vmlinux));

    let mut r = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        r,
        "### {} {} ({} profile), context `csum={}`\n",
        args.base, arch.name, args.profile, args.csum
    );
    let _ = writeln!(
        r,
        "Median wall time of {} runs each, on this host:\n",
        args.runs
    );
    let _ = writeln!(r, "| step | ms |\n|---|---:|");
    let _ = writeln!(
        r,
        "| compile, kbuild's command (no precompiled header) | {} |",
        ms(t_plain)
    );
    let _ = writeln!(
        r,
        "| precompile the template's includes (once per kernel build) | {} |",
        ms(t_build_pch)
    );
    let _ = writeln!(r, "| compile with the precompiled header | {} |", ms(t_pch));
    if let Some(t) = t_post {
        let _ = writeln!(
            r,
            "| objtool, as kbuild runs it on the object | {} |",
            ms(t)
        );
    }
    let per_request = t_pch + t_post.unwrap_or_default();
    let then = if t_post.is_some() {
        ", then objtool"
    } else {
        ""
    };
    let _ = writeln!(
        r,
        "| **per request: compile with it{then}** | **{}** |\n",
        ms(per_request)
    );
    let generic = sizes.generic_total();
    let _ = writeln!(r, "| text | bytes | generic / this |\n|---|---:|---:|");
    let _ = writeln!(
        r,
        "| generic send path (`bench`'s set, this vmlinux) | {generic} | 1.00x |"
    );
    let _ = writeln!(
        r,
        "| generated `{name}()` | {gen_size} | {} |",
        ratio(generic, gen_size)
    );
    let _ = writeln!(
        r,
        "| generated object, all its text ({}) | {gen_text} | {} |",
        gen_list.join(", "),
        ratio(generic, gen_text)
    );
    if let Some(b) = builtin {
        let _ = writeln!(
            r,
            "| built-in `{builtin_name}()` | {b} | {} |",
            ratio(generic, b)
        );
    }
    let one = sizes.specialized_one_variant();
    let _ = writeln!(
        r,
        "| built-in instance, all it runs (`bench`'s set, one variant) | {one} | {} |",
        ratio(generic, one)
    );
    if let Some(b) = builtin {
        let with = one - b + gen_size;
        let _ = writeln!(
            r,
            "| the same with the generated function in place of the variant | {with} | {} |",
            ratio(generic, with)
        );
    }
    Ok(r)
}

/// Runs `f` `runs` times; the median duration.
fn time(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        t.push(start.elapsed());
    }
    t.sort();
    Ok(t[runs / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        return "-".into();
    }
    format!("{:.2}x", a as f64 / b as f64)
}

/// The binutils `nm` that goes with a compiler: `arm-linux-gnueabi-gcc`
/// gives `arm-linux-gnueabi-nm`.
fn nm_tool(compiler: &str) -> String {
    match compiler.strip_suffix("gcc") {
        Some(prefix) => format!("{prefix}nm"),
        None => "nm".into(),
    }
}

fn text_size(sh: &Shell, nm: &str, obj: &PathBuf, name: &str) -> anyhow::Result<Option<u64>> {
    let out = cmd!(sh, "{nm} -S {obj}")
        .quiet()
        .read()
        .with_context(|| format!("nm {}", obj.display()))?;
    Ok(bench::parse_nm(&out)
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| s.size))
}
