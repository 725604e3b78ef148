//! `netspecd`: listens on a Unix socket (the host end of a QEMU character
//! device) and answers customization requests for the kernel builds it was
//! given. See the library for the protocol.
//!
//! Per kernel build, at start: its build id (`readelf -n vmlinux`), the
//! command kbuild compiled `net/netspec/udp4.o` with, and a precompiled
//! header of the template's includes. Per request: the cache, else the
//! generated module compiled with that command and the header, then
//! objtool where kbuild ran it, linked as kbuild links a module and signed
//! with the build's key where the kernel loads modules (else the artifact
//! is the object). One connection at a time: a device has one agent.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Parser;
use engine::OBJECT;
use netspecd::cache::Cache;
use netspecd::proto::{self, Binding, Decoded, Kind, Refusal, Request};

#[derive(Parser)]
#[command(name = "netspecd", about = "netspec's remote customization server")]
struct Args {
    /// The Unix socket to listen on.
    #[arg(long)]
    listen: PathBuf,
    /// A kernel's out-of-tree build directory (`O=`), built with
    /// CONFIG_NET_SPECIALIZE; repeat for several.
    #[arg(long = "kernel", required = true)]
    kernels: Vec<PathBuf>,
    /// kernel-variants.toml, which names the paths and their parameters.
    #[arg(long)]
    variants: PathBuf,
    /// Where generated sources, objects and precompiled headers go.
    #[arg(long)]
    work: PathBuf,
    /// Artifacts kept, least recently used evicted first.
    #[arg(long, default_value_t = 64)]
    cache_entries: usize,
    /// Seconds a connection may stay silent part way through a frame
    /// before the part is dropped.
    #[arg(long, default_value_t = 10)]
    read_timeout: u64,
}

struct Kernel {
    build_id: String,
    dir: PathBuf,
    cc: engine::CompileCommand,
    work: PathBuf,
    pch_h: PathBuf,
    /// How a module is linked, where the kernel loads modules; else the
    /// artifact is the compiled object.
    link: Option<engine::LinkCommand>,
    /// The hash and key modules are signed with, where the kernel checks
    /// signatures.
    sig: Option<(String, String)>,
    string_namespace: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.variants)
        .with_context(|| format!("reading {}", args.variants.display()))?;
    let spec = variants::parse_spec(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut kernels = Vec::new();
    for dir in &args.kernels {
        kernels.push(prepare(dir, &args.work, &spec)?);
    }
    let _ = std::fs::remove_file(&args.listen);
    let listener = UnixListener::bind(&args.listen)
        .with_context(|| format!("binding {}", args.listen.display()))?;
    eprintln!("netspecd: listening on {}", args.listen.display());
    let mut cache = Cache::new(args.cache_entries);
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        conn.set_read_timeout(Some(Duration::from_secs(args.read_timeout)))?;
        // A device that stops reading must not hold the server.
        conn.set_write_timeout(Some(Duration::from_secs(args.read_timeout)))?;
        if let Err(e) = serve(&mut conn, &kernels, &spec, &mut cache) {
            eprintln!("netspecd: connection: {e:#}");
        }
    }
    Ok(())
}

/// Reads a kernel build's facts and precompiles the template's includes.
fn prepare(dir: &Path, work: &Path, spec: &variants::Spec) -> anyhow::Result<Kernel> {
    let out = Command::new("readelf")
        .arg("-n")
        .arg(dir.join("vmlinux"))
        .output()
        .context("running readelf")?;
    let build_id = engine::parse_build_id(&String::from_utf8_lossy(&out.stdout))
        .with_context(|| format!("{}/vmlinux has no GNU build id", dir.display()))?;
    let cmd_file = dir.join(engine::cmd_file(OBJECT));
    let text = std::fs::read_to_string(&cmd_file)
        .with_context(|| format!("reading {}", cmd_file.display()))?;
    let config = std::fs::read_to_string(dir.join(".config"))
        .with_context(|| format!("reading {}/.config", dir.display()))?;
    let cc = engine::CompileCommand::from_cmd_file(&text, OBJECT)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .for_modules_of(&config);
    let work = work.join(&build_id);
    std::fs::create_dir_all(&work)?;
    let headers: Vec<String> = spec.paths.iter().map(engine::template_header).collect();
    let pch_h = work.join("pch.h");
    std::fs::write(&pch_h, cc.pch_header(&headers))?;
    let gch = work.join("pch.h.gch");
    let t = Instant::now();
    let args = cc.pch_build_args(&s(&pch_h), &s(&gch));
    run(Command::new(&cc.compiler).args(&args).current_dir(dir))
        .context("precompiling the template's includes")?;
    eprintln!(
        "netspecd: kernel {build_id} ({}): precompiled header in {} ms",
        dir.display(),
        t.elapsed().as_millis()
    );
    let e = |e: engine::EngineError| anyhow::anyhow!("{}: {e}", dir.display());
    let link = if engine::loads_modules(&config) {
        if let Some(why) = engine::modules_unsupported(&config) {
            bail!("{}: cannot make modules this kernel loads: {why}", dir.display());
        }
        for f in ["scripts/module.lds", "scripts/sign-file"] {
            if !dir.join(f).exists() {
                bail!("{} has no {f}: build it with `make modules_prepare`", dir.display());
            }
        }
        let f = dir.join(engine::cmd_file(engine::VMLINUX_O));
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let tree = engine::source_tree(&cc).context("the object's source is not in a kernel tree")?;
        let makefile = std::fs::read_to_string(Path::new(tree).join("Makefile"))
            .with_context(|| format!("reading {tree}Makefile"))?;
        Some(engine::LinkCommand::from_cmd_file(&text).map_err(e)?.for_modules_of(&makefile, &config))
    } else {
        None
    };
    let release = std::fs::read_to_string(dir.join("include/config/kernel.release"))
        .context("reading the kernel's release")?;
    Ok(Kernel {
        build_id,
        dir: dir.to_path_buf(),
        cc,
        work,
        pch_h,
        sig: engine::module_sig(&config).map_err(e)?,
        link,
        string_namespace: engine::string_namespace(&release).map_err(e)?,
    })
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        bail!(
            "{:?} failed ({}): {}",
            cmd.get_program(),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        );
    }
    Ok(())
}

/// Answers the requests of one connection until it closes. Garbage is
/// skipped to the next frame, and so is a frame cut short by the peer going
/// silent; one cut short by the peer closing ends the connection, not the
/// server.
fn serve(
    conn: &mut UnixStream,
    kernels: &[Kernel],
    spec: &variants::Spec,
    cache: &mut Cache<(Binding, Vec<u8>)>,
) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Garbage is counted and logged once before the next frame: a UART
    // delivers it a byte at a time.
    let mut skipped = (0usize, "");
    loop {
        match proto::decode(&buf, proto::MAX_REQUEST) {
            Decoded::Frame(frame, used) => {
                buf.drain(..used);
                if skipped.0 > 0 {
                    eprintln!("netspecd: skipped {} bytes ({})", skipped.0, skipped.1);
                    skipped = (0, "");
                }
                let nonce = proto::request_nonce(&frame.payload);
                let reply = match frame.kind {
                    Kind::Request => answer(&frame.payload, kernels, spec, cache),
                    _ => Err(Refusal {
                        code: "EPROTO",
                        msg: "the server takes only requests".into(),
                    }),
                };
                let bytes = match (reply, &nonce) {
                    (Ok((binding, object)), Some(n)) => proto::encode(
                        Kind::Artifact,
                        &proto::encode_artifact(n, &binding, &object),
                    ),
                    (Ok(_), None) => unreachable!("a request that parsed has a nonce"),
                    (Err(r), _) => {
                        eprintln!("netspecd: refused: {r}");
                        proto::encode(Kind::Error, &proto::encode_error(nonce.as_deref(), &r))
                    }
                };
                conn.write_all(&bytes)?;
                continue;
            }
            Decoded::Skip(n, why) if !buf.is_empty() => {
                skipped = (skipped.0 + n, why);
                buf.drain(..n);
                continue;
            }
            _ => {}
        }
        let n = match conn.read(&mut chunk) {
            Ok(n) => n,
            // Silence between frames is a device with nothing to ask (a
            // QEMU character device stays connected for the whole boot).
            // Silence part way through one: the rest was lost on the line,
            // so its first byte is dropped and the rest searched again for
            // a frame, which may follow the lost one's beginning.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if !buf.is_empty() {
                    eprintln!(
                        "netspecd: {} bytes of a frame left unfinished; looking past its start",
                        buf.len()
                    );
                    buf.drain(..1);
                }
                continue;
            }
            Err(e) => return Err(e).context("reading"),
        };
        if n == 0 {
            if skipped.0 > 0 {
                eprintln!("netspecd: skipped {} bytes ({})", skipped.0, skipped.1);
            }
            if !buf.is_empty() {
                eprintln!(
                    "netspecd: connection closed with {} bytes of an unfinished frame",
                    buf.len()
                );
            }
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn answer(
    payload: &[u8],
    kernels: &[Kernel],
    spec: &variants::Spec,
    cache: &mut Cache<(Binding, Vec<u8>)>,
) -> Result<(Binding, Vec<u8>), Refusal> {
    let t = Instant::now();
    let req = Request::parse(payload)?;
    let Some(k) = kernels.iter().find(|k| k.build_id == req.build_id) else {
        return Err(Refusal {
            code: "ENOENT",
            msg: format!("no kernel build {} here", req.build_id),
        });
    };
    let Some(path) = spec.paths.iter().find(|p| p.name == req.context.path) else {
        return Err(Refusal {
            code: "EINVAL",
            msg: format!("no path {:?}", req.context.path),
        });
    };
    let einval = |e: engine::EngineError| Refusal {
        code: "EINVAL",
        msg: e.0,
    };
    let canonical = req.context.canonical(path).map_err(einval)?;
    let hash = netspecd::context_sha256(&canonical);
    if let Some(hit) = cache.get(&k.build_id, &hash) {
        eprintln!(
            "netspecd: {canonical}: cache hit, {} us",
            t.elapsed().as_micros()
        );
        return Ok(hit);
    }
    let module = engine::ModuleInfo {
        name: engine::module_name(&hash),
        string_namespace: k.string_namespace,
    };
    let source = engine::generate_module(path, &req.context, &module).map_err(einval)?;
    // The compiler's messages name the host's paths: they stay in the log.
    let object = compile(k, &hash, &source).map_err(|e| {
        eprintln!("netspecd: {canonical}: {e:#}");
        Refusal {
            code: "EIO",
            msg: "the build (compile, link or signature) failed; see the server's log".into(),
        }
    })?;
    // With its binding (under 300 bytes), what a device takes.
    if object.len() + 512 > proto::MAX_PAYLOAD as usize {
        return Err(Refusal {
            code: "E2BIG",
            msg: format!(
                "an artifact of {} bytes, over the channel's limit",
                object.len()
            ),
        });
    }
    let binding = Binding {
        build_id: k.build_id.clone(),
        context_sha256: hash.clone(),
        symbol: engine::function_name(path),
    };
    cache.insert(&k.build_id, &hash, (binding.clone(), object.clone()));
    eprintln!(
        "netspecd: {canonical}: compiled, {} ms",
        t.elapsed().as_millis()
    );
    Ok((binding, object))
}

/// The artifact for the unit `source`: built in files under the kernel's
/// work directory, which are removed, whatever happened, once it is read
/// (the cache keeps the artifact; a device must not fill the disk).
fn compile(k: &Kernel, hash: &str, source: &str) -> anyhow::Result<Vec<u8>> {
    let files = ["c", "o", "ko"].map(|x| k.work.join(format!("{hash}.{x}")));
    let r = build(k, &files, source);
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
    r
}

fn build(k: &Kernel, [c, o, ko]: &[PathBuf; 3], source: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::write(c, source)?;
    let args = k.cc.pch_compile_args(&s(&k.pch_h), &s(c), &s(o));
    run(Command::new(&k.cc.compiler).args(&args).current_dir(&k.dir))?;
    if let Some(post) = k.cc.post_args(&s(o)) {
        let (tool, rest) = post.split_first().context("empty post-compile command")?;
        run(Command::new(tool).args(rest).current_dir(&k.dir))?;
    }
    let Some(link) = &k.link else {
        return Ok(std::fs::read(o)?);
    };
    run(Command::new(&link.linker)
        .args(link.module_args(&s(o), &s(ko)))
        .current_dir(&k.dir))?;
    if let Some((hash, key)) = &k.sig {
        run(Command::new(k.dir.join("scripts/sign-file"))
            .args(engine::sign_args(hash, key, &s(ko)))
            .current_dir(&k.dir))?;
    }
    Ok(std::fs::read(ko)?)
}
