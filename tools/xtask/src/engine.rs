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
//! them). Then it starts `netspecd` on the same build, times requests it
//! compiles (cold) and answers from its cache (warm) over its Unix socket,
//! and checks the refusals an agent relies on. The unit is a module: where
//! the build loads modules (signed-modules.config), it is linked and signed as
//! kbuild would, and those steps are timed too.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use xshell::{cmd, Shell};

use engine::OBJECT;
use netspecd::proto;

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
    /// The context's message size.
    #[arg(long, default_value_t = 64)]
    pub adu: u32,
    /// Times each compile is run; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

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
        values: vec![
            ("csum".into(), args.csum.clone()),
            (engine::ADU.into(), args.adu.to_string()),
        ],
    };
    let mut reports = Vec::new();
    for arch in arch::select_for(&args.arch, &args.base).stage(Stage::Usage)? {
        reports.push(run_one(&args, arch, path, &ctx)?);
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
    ctx: &engine::Context,
) -> anyhow::Result<String> {
    let build = project::build_dir(&args.base, arch.name, &args.profile);
    let cmd_file = build.join(engine::cmd_file(OBJECT));
    if args.dry_run && !cmd_file.exists() {
        println!(
            "would compile the unit for {} with the command in {}, then run netspecd on {}",
            arch.name,
            cmd_file.display(),
            build.display()
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
    let config = std::fs::read_to_string(build.join(".config"))
        .with_context(|| format!("reading {}/.config", build.display()))?;
    let cc = engine::CompileCommand::from_cmd_file(&text, OBJECT)
        .stage(Stage::Build)?
        .for_modules_of(&config);
    let canonical = ctx.canonical(path).stage(Stage::Usage)?;
    let module = module_info(build.as_path(), &canonical)?;
    let source = engine::generate_module(path, ctx, &module).stage(Stage::Usage)?;
    let source = source.as_str();

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
    let plain = cc.compile_args(&s(&gen_c), &s(&obj));
    let build_pch = cc.pch_build_args(&s(&pch_h), &s(&pch));
    let with_pch = cc.pch_compile_args(&s(&pch_h), &s(&gen_c), &s(&obj_pch));
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
    let compile = |a: &[String], what: &str| {
        time(args.runs, || {
            cmd!(sh, "{compiler} {a...}")
                .quiet()
                .run()
                .map_err(Into::into)
        })
        .with_context(|| what.to_string())
        .stage(Stage::Build)
    };
    let t_plain = compile(&plain, "compiling the generated unit with kbuild's command")?;
    let t_build_pch = compile(&build_pch, "precompiling the template's includes")?;
    let t_pch = compile(
        &with_pch,
        "compiling the generated unit with the precompiled header",
    )?;
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

    let linked = link_and_sign(&sh, &build, &config, &cc, &work, &obj_pch, args.runs)?;

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
        "### {} {} ({} profile), context `{canonical}`\n",
        args.base, arch.name, args.profile
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
    if let Some(l) = &linked {
        let _ = writeln!(r, "| link the module (`ld -r -T scripts/module.lds`) | {} |", ms(l.link));
        if let Some(t) = l.sign {
            let _ = writeln!(r, "| sign it with the build's key (`scripts/sign-file`) | {} |", ms(t));
        }
    }
    let per_request = t_pch
        + t_post.unwrap_or_default()
        + linked.as_ref().map_or(Duration::ZERO, |l| l.link + l.sign.unwrap_or_default());
    let then = match (t_post.is_some(), &linked) {
        (true, Some(_)) => ", objtool, link, sign",
        (false, Some(_)) => ", link, sign",
        (true, None) => ", then objtool",
        (false, None) => "",
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
    if let Some(l) = &linked {
        let _ = writeln!(r, "\nThe module, signed: {} bytes.", l.size);
    }
    r.push_str(&server(&sh, &build, &work, args.runs, args.adu)?);
    Ok(r)
}

/// The times of the steps that make a loadable module of the object.
struct Linked {
    link: Duration,
    sign: Option<Duration>,
    size: u64,
}

/// Where `build` (whose `.config` is `config`) loads modules: links `obj`
/// into a module as kbuild does and signs it with the build's key (each
/// timed, the median of `runs`), and checks that the signature is there.
fn link_and_sign(
    sh: &Shell,
    build: &Path,
    config: &str,
    cc: &engine::CompileCommand,
    work: &Path,
    obj: &Path,
    runs: usize,
) -> anyhow::Result<Option<Linked>> {
    if !engine::loads_modules(config) {
        return Ok(None);
    }
    let ld = module_link(build, cc, config)?;
    let s = |p: &Path| p.display().to_string();
    let ko = work.join("gen.ko");
    let linker = &ld.linker;
    let a = ld.module_args(&s(obj), &s(&ko));
    let link = time(runs, || {
        let a = &a;
        cmd!(sh, "{linker} {a...}").quiet().run().map_err(Into::into)
    })
        .context("linking the generated module")
        .stage(Stage::Build)?;
    let unsigned = std::fs::read(&ko)?;
    let sign = match engine::module_sig(config).stage(Stage::Build)? {
        Some((hash, key)) => {
            let tool = build.join("scripts/sign-file");
            let a = engine::sign_args(&hash, &key, &s(&ko));
            let t = time(runs, || {
                std::fs::write(&ko, &unsigned)?;
                let a = &a;
                cmd!(sh, "{tool} {a...}").quiet().run().map_err(Into::into)
            })
            .context("signing the generated module")
            .stage(Stage::Build)?;
            let signed = std::fs::read(&ko)?;
            if !signed.ends_with(b"~Module signature appended~\n") {
                bail!(anyhow::anyhow!("sign-file left {} unsigned", ko.display()).context(Stage::Test));
            }
            Some(t)
        }
        None => None,
    };
    Ok(Some(Linked { link, sign, size: std::fs::metadata(&ko)?.len() }))
}

/// Kills the server when the measurement or boot ends, however it ends.
pub(crate) struct Server(std::process::Child);

/// Builds and starts `netspecd` for the kernel build `build`, listening on
/// `sock`, its log in `log` and its files under `work` (emptied first);
/// returns once it listens.
pub(crate) fn start_netspecd(
    sh: &Shell,
    build: &Path,
    sock: &Path,
    log: &Path,
    work: &Path,
) -> anyhow::Result<Server> {
    cmd!(sh, "cargo build --quiet -p netspecd")
        .run()
        .context("building netspecd")?;
    let bin = project::root().join("target/debug/netspecd");
    let _ = std::fs::remove_file(sock);
    let _ = std::fs::remove_dir_all(work);
    let variants = project::root().join("kernel-variants.toml");
    let child = std::process::Command::new(&bin)
        .arg("--listen")
        .arg(sock)
        .arg("--kernel")
        .arg(build)
        .arg("--variants")
        .arg(&variants)
        .arg("--work")
        .arg(work)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .context("starting netspecd")?;
    let mut server = Server(child);
    let start = Instant::now();
    while !sock.exists() {
        if let Some(status) = server.0.try_wait()? {
            bail!(
                "netspecd exited ({status}) before it listened; see {}",
                log.display()
            );
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("netspecd did not listen within 60 s; see {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(server)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One request's round trip over a fresh connection: the reply frame and
/// the time from connecting to the reply's last byte.
fn round_trip(sock: &Path, bytes: &[u8]) -> anyhow::Result<(proto::Frame, Duration)> {
    let t = Instant::now();
    let mut c =
        UnixStream::connect(sock).with_context(|| format!("connecting to {}", sock.display()))?;
    c.set_read_timeout(Some(Duration::from_secs(60)))?;
    c.write_all(bytes)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match proto::decode(&buf, proto::MAX_PAYLOAD) {
            proto::Decoded::Frame(f, _) => return Ok((f, t.elapsed())),
            proto::Decoded::Skip(_, why) => bail!("netspecd sent a bad frame: {why}"),
            proto::Decoded::NeedMore => {}
        }
        let n = c.read(&mut chunk).context("reading netspecd's reply")?;
        if n == 0 {
            bail!("netspecd closed the connection without a reply");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `netspecd` on this build: the latency of a request it must compile
/// (cold) and of one its cache answers (warm), over its Unix socket; and
/// the refusals a device's agent relies on, each checked.
fn server(
    sh: &Shell,
    build: &Path,
    work: &Path,
    runs: usize,
    adu: u32,
) -> anyhow::Result<String> {
    let sock = work.join("netspecd.sock");
    let _server = start_netspecd(
        sh,
        build,
        &sock,
        &work.join("netspecd.log"),
        &work.join("netspecd"),
    )?;
    let readelf = cmd!(sh, "readelf -n {build}/vmlinux").quiet().read()?;
    let build_id = engine::parse_build_id(&readelf).context("vmlinux has no build id")?;
    // A connection per request, so one nonce does; the device's suite
    // varies it.
    let request = |csum: &str| proto::Request {
        nonce: "1".into(),
        build_id: build_id.clone(),
        context: engine::Context {
            path: "udp4".into(),
            values: vec![
                ("csum".into(), csum.into()),
                (engine::ADU.into(), adu.to_string()),
            ],
        },
    };
    let fail = |what: &str, f: &proto::Frame| -> anyhow::Error {
        anyhow::anyhow!(
            "{what}: netspecd answered {:?} {:?}",
            f.kind,
            String::from_utf8_lossy(&f.payload)
        )
        .context(Stage::Test)
    };
    let artifact = |csum: &str, f: &proto::Frame| -> anyhow::Result<usize> {
        if f.kind != proto::Kind::Artifact {
            return Err(fail(&format!("csum={csum}"), f));
        }
        let canonical = format!("udp4 csum={csum} adu={adu}");
        let expect = proto::Binding {
            build_id: build_id.clone(),
            context_sha256: netspecd::context_sha256(&canonical),
            symbol: "netspec_gen_udp4_send".into(),
        };
        let object = proto::parse_artifact(&f.payload, "1", &expect)
            .map_err(|e| anyhow::anyhow!("{e}").context(Stage::Test))?;
        // The same artifact does not pass for another request or another
        // context: a reply cannot be replayed for either.
        if proto::parse_artifact(&f.payload, "2", &expect).is_ok() {
            bail!(anyhow::anyhow!("an artifact passed for another request").context(Stage::Test));
        }
        let other = proto::Binding {
            context_sha256: netspecd::context_sha256("udp4 csum=other"),
            ..expect
        };
        if proto::parse_artifact(&f.payload, "1", &other).is_ok() {
            bail!(anyhow::anyhow!("an artifact passed for another context").context(Stage::Test));
        }
        Ok(object.len())
    };
    let frame = |r: &proto::Request| proto::encode(proto::Kind::Request, &r.encode());

    let mut cold = Vec::new();
    let mut size = 0;
    for csum in ["partial", "software", "none"] {
        let (f, t) = round_trip(&sock, &frame(&request(csum)))?;
        size = artifact(csum, &f)?;
        cold.push(t);
    }
    let mut warm = Vec::new();
    for _ in 0..runs.max(5) {
        let (f, t) = round_trip(&sock, &frame(&request("partial")))?;
        artifact("partial", &f)?;
        warm.push(t);
    }
    cold.sort();
    warm.sort();

    // Refusals: each must come back as an error frame with its code and
    // the request's nonce where it had one, and the server must go on
    // serving.
    let refused = |what: &str, bytes: Vec<u8>, code: &str| -> anyhow::Result<()> {
        let (f, _) = round_trip(&sock, &bytes)?;
        let (nonce, text) = proto::parse_error(&f.payload);
        let payload = bytes
            .get(proto::HEADER_LEN..bytes.len().saturating_sub(4))
            .unwrap_or_default();
        if f.kind != proto::Kind::Error
            || !text.starts_with(&format!("{code} "))
            || nonce != proto::request_nonce(payload)
        {
            return Err(fail(what, &f));
        }
        Ok(())
    };
    let mut other_kernel = request("partial");
    other_kernel.build_id = "00".repeat(20);
    refused("another kernel", frame(&other_kernel), "ENOENT")?;
    refused("an unknown value", frame(&request("fast")), "EINVAL")?;
    let mut no_adu = request("partial");
    no_adu.context.values.retain(|(n, _)| n != engine::ADU);
    refused("a context without its message size", frame(&no_adu), "EINVAL")?;
    refused(
        "an address",
        proto::encode(
            proto::Kind::Request,
            format!("nonce=1\nbuild-id={build_id}\npath=udp4\ncsum=partial\nadu={adu}\ndaddr=10.0.0.1/8\n")
                .as_bytes(),
        ),
        "EINVAL",
    )?;
    refused(
        "a reply sent to the server",
        proto::encode(proto::Kind::Error, b"EIO x"),
        "EPROTO",
    )?;
    let mut garbage = b"\x00garbage\xff".to_vec();
    let bad = proto::encode(proto::Kind::Request, b"nonce=9\ncsum");
    refused("a bad request", bad.clone(), "EINVAL")?;
    garbage.extend(bad);
    let (f, _) = round_trip(&sock, &garbage)?;
    if proto::parse_error(&f.payload) != (Some("9".into()), "EINVAL not key=value: \"csum\"".into())
    {
        return Err(fail("garbage, then a bad request", &f));
    }
    {
        // A frame cut short, then the connection closed: the server must
        // still answer the next one.
        let mut c = UnixStream::connect(&sock)?;
        let f = frame(&request("partial"));
        c.write_all(&f[..f.len() / 2])?;
    }
    let (f, _) = round_trip(&sock, &frame(&request("partial")))?;
    artifact("partial", &f).context("the request after a truncated one")?;

    let mut r = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(r, "\nnetspecd over its Unix socket, a connection per request (debug build of the server; host wall time):\n");
    let _ = writeln!(
        r,
        "| request | n | median ms | min-max ms |\n|---|---:|---:|---:|"
    );
    let row = |t: &[Duration]| {
        format!(
            "{} | {:.1} | {:.1}-{:.1}",
            t.len(),
            ms_f(t[t.len() / 2]),
            ms_f(t[0]),
            ms_f(t[t.len() - 1])
        )
    };
    let _ = writeln!(r, "| cold: compiled (three contexts) | {} |", row(&cold));
    let _ = writeln!(r, "| warm: the server's cache | {} |", row(&warm));
    let _ = writeln!(r, "\nArtifact: {size} bytes (a signed module where the kernel loads modules, else the object). Refused as they must be: another kernel's build id (ENOENT), an unknown value, a context without its message size and an address-like value (EINVAL), a frame of the wrong kind (EPROTO), garbage before a request (skipped); a truncated request does not stop the server.");
    Ok(r)
}

fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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

/// Writes to `out` a module for the kernel build `build` (the context
/// `udp4 csum=none adu=64`, compiled and linked as `netspecd` does) signed
/// with a key that build does not trust: one made here, once, under
/// `target/keys/`. The remote suite checks that the kernel refuses it.
/// Nothing is written for a build that does not sign modules.
pub(crate) fn foreign_module(sh: &Shell, build: &Path, out: &Path) -> anyhow::Result<()> {
    let config = std::fs::read_to_string(build.join(".config"))?;
    let Some((hash, _)) = engine::module_sig(&config)? else {
        return Ok(());
    };
    let spec = crate::gen::load_variants()?;
    let path = spec.paths.iter().find(|p| p.name == "udp4").context("no udp4 path")?;
    let ctx = engine::Context {
        path: "udp4".into(),
        values: vec![("csum".into(), "none".into()), (engine::ADU.into(), "64".into())],
    };
    let module = module_info(build, &ctx.canonical(path)?)?;
    let source = engine::generate_module(path, &ctx, &module)?;
    let text = std::fs::read_to_string(build.join(engine::cmd_file(OBJECT)))?;
    let cc = engine::CompileCommand::from_cmd_file(&text, OBJECT)?.for_modules_of(&config);
    let ld = module_link(build, &cc, &config)?;

    let dir = out.parent().context("no directory")?;
    std::fs::create_dir_all(dir)?;
    let s = |p: &Path| p.display().to_string();
    let (c, o) = (dir.join("foreign.c"), dir.join("foreign.o"));
    std::fs::write(&c, source)?;
    let _cwd = sh.push_dir(build);
    let compiler = &cc.compiler;
    let a = cc.compile_args(&s(&c), &s(&o));
    cmd!(sh, "{compiler} {a...}").quiet().run().context("compiling the foreign module")?;
    if let Some(post) = cc.post_args(&s(&o)) {
        let (tool, rest) = post.split_first().context("empty post-compile command")?;
        cmd!(sh, "{tool} {rest...}").quiet().run()?;
    }
    let linker = &ld.linker;
    let a = ld.module_args(&s(&o), &s(out));
    cmd!(sh, "{linker} {a...}").quiet().run().context("linking the foreign module")?;
    std::fs::remove_file(&c)?;
    std::fs::remove_file(&o)?;

    // Key and certificate in one PEM file, as kbuild makes its own.
    let keys = project::target().join("keys");
    let key = keys.join("foreign.pem");
    if !key.exists() {
        std::fs::create_dir_all(&keys)?;
        cmd!(
            sh,
            "openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -subj /CN=netspec-foreign-key/ -outform PEM -out {key} -keyout {key}"
        )
        .quiet()
        .ignore_stderr()
        .run()
        .context("making the foreign key")?;
    }
    let tool = build.join("scripts/sign-file");
    cmd!(sh, "{tool} {hash} {key} {key} {out}").quiet().run().context("signing the foreign module")?;
    Ok(())
}

/// The module name and namespace spelling for the context `canonical` on
/// the kernel build `build`.
fn module_info(build: &Path, canonical: &str) -> anyhow::Result<engine::ModuleInfo> {
    let f = build.join("include/config/kernel.release");
    let release = std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
    Ok(engine::ModuleInfo {
        name: engine::module_name(&netspecd::context_sha256(canonical)),
        string_namespace: engine::string_namespace(&release).stage(Stage::Build)?,
    })
}

/// How `build` links a module: vmlinux.o's link, and what the source
/// tree's Makefile and `config` add for a module.
fn module_link(
    build: &Path,
    cc: &engine::CompileCommand,
    config: &str,
) -> anyhow::Result<engine::LinkCommand> {
    let f = build.join(engine::cmd_file(engine::VMLINUX_O));
    let text = std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
    let tree = engine::source_tree(cc).context("the object's source is not in a kernel tree")?;
    let makefile = std::fs::read_to_string(Path::new(tree).join("Makefile"))
        .with_context(|| format!("reading {tree}Makefile"))?;
    Ok(engine::LinkCommand::from_cmd_file(&text).stage(Stage::Build)?.for_modules_of(&makefile, config))
}
