//! Generates the bindings from the series itself, so they cannot drift from it.
//!
//! Three UAPI sources, all taken from the patches in `patches/6.12/`, in
//! series order:
//!
//! - `<linux/netspec.h>` (the system calls) and `<linux/netspec_nl.h>` (the
//!   generic netlink family), files the series creates: rebuilt whole by
//!   applying every hunk of the series for them, starting from nothing;
//! - the `#define`s the series adds to the `<asm/socket.h>` the target reads
//!   (`SO_ADU`): the series only adds lines to a file of the base, so those
//!   lines are all there is to take, and they are written to a header of
//!   their own.
//!
//! All three go through one bindgen run against the system's
//! `<linux/types.h>`. The syscall numbers for the target come from
//! `kernel-syscalls.toml`, read with the same rules `cargo xtask gen syscalls`
//! uses to write the tables.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The base whose series carries the headers; they are the same on the others.
const BASE: &str = "6.12";
/// The headers the series creates, in the kernel tree, and where the
/// bindings' include directory gets them.
const CREATED: &[(&str, &str)] = &[
    ("include/uapi/linux/netspec.h", "linux/netspec.h"),
    ("include/uapi/linux/netspec_nl.h", "linux/netspec_nl.h"),
];
/// Where the series' additions to `<asm/socket.h>` are written.
const SOCKET_DEFINES: &str = "netspec_asm_socket.h";

/// What `build.rs` knows of a Rust `target_arch`: the syscall table its
/// number comes from, and the UAPI header its `<asm/socket.h>` is.
struct Target {
    arch: &'static str,
    table: &'static str,
    socket_h: &'static str,
}

/// arm64 on 6.1 keeps its table in `asm-generic/unistd.h`; the number is the
/// same on both bases, which `cargo xtask gen syscalls` enforces. Every one
/// of these arches takes `<asm/socket.h>` from asm-generic.
const TARGETS: &[Target] = &[
    Target { arch: "x86_64", table: "arch/x86/entry/syscalls/syscall_64.tbl", socket_h: GENERIC_SOCKET_H },
    Target { arch: "x86", table: "arch/x86/entry/syscalls/syscall_32.tbl", socket_h: GENERIC_SOCKET_H },
    Target { arch: "arm", table: "arch/arm/tools/syscall.tbl", socket_h: GENERIC_SOCKET_H },
    Target { arch: "aarch64", table: "scripts/syscall.tbl", socket_h: GENERIC_SOCKET_H },
    Target { arch: "riscv64", table: "scripts/syscall.tbl", socket_h: GENERIC_SOCKET_H },
];
const GENERIC_SOCKET_H: &str = "include/uapi/asm-generic/socket.h";

/// x32 reaches the 64-bit table's `common` entries with this bit set
/// (`__X32_SYSCALL_BIT` in the kernel).
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

fn main() {
    if let Err(message) = run() {
        // A panic would bury the message under a backtrace hint; this keeps
        // it as the one line cargo shows.
        eprintln!("error: netspec-sys: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("../..");
    let out = PathBuf::from(env("OUT_DIR")?);
    let target = target()?;

    let patches = series_patches(&root.join("patches").join(BASE))?;
    let mut headers = Vec::new();
    for (path, include) in CREATED {
        write_if_changed(&out.join(include), &created_file(&patches, path)?)?;
        headers.push(include.to_string());
    }
    write_if_changed(&out.join(SOCKET_DEFINES), &added_defines(&patches, target.socket_h)?)?;
    headers.push(SOCKET_DEFINES.to_string());
    bindings(&out, &headers, &out.join("bindings.rs"))?;

    let toml = root.join("kernel-syscalls.toml");
    println!("cargo:rerun-if-changed={}", toml.display());
    let spec_text = read(&toml)?;
    let mut consts = String::new();
    for name in ["netspec", "customized_send"] {
        let number = syscall_number(&spec_text, name, target)?;
        let _ = write!(
            consts,
            "/// The `{name}` system call number on this target, from `kernel-syscalls.toml`.\n\
             #[allow(non_upper_case_globals)] // named like libc's SYS_* constants\n\
             pub const SYS_{name}: core::ffi::c_long = {number};\n"
        );
    }
    write_if_changed(&out.join("sys_netspec.rs"), &consts)?;
    Ok(())
}

/// The series' patches, in order: (file name, text).
fn series_patches(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let series_path = dir.join("series");
    println!("cargo:rerun-if-changed={}", series_path.display());
    let (series, diags) = series::parse_series(&read(&series_path)?);
    for d in diags {
        println!(
            "cargo:warning={}:{}: {}",
            series_path.display(),
            d.line,
            d.message
        );
    }
    let mut patches = Vec::new();
    for name in series.patches {
        let path = dir.join(&name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = read(&path)?;
        patches.push((name, text));
    }
    Ok(patches)
}

/// Rebuilds a file the series creates by applying, in series order, every
/// patch's hunks for it, starting from nothing (the first of them creates it).
fn created_file(patches: &[(String, String)], file: &str) -> Result<String, String> {
    let mut text = String::new();
    for (name, patch_text) in patches {
        let (patch, _) = series::parse_patch(name, patch_text);
        if !patch.files.iter().any(|f| f == file) {
            continue;
        }
        text = series::apply_file_hunks(&text, patch_text, file).map_err(|e| format!("{name}: {e}"))?;
    }
    if text.is_empty() {
        return Err(format!("no patch in patches/{BASE}/series creates {file}"));
    }
    Ok(text)
}

/// The `#define`s the series adds to `file`, a header of the base, as a
/// header of their own: the last definition of each name wins, as a patch
/// that changes one removes the old line and adds the new.
fn added_defines(patches: &[(String, String)], file: &str) -> Result<String, String> {
    let mut defines: Vec<(String, String)> = Vec::new();
    for (name, patch_text) in patches {
        let (patch, _) = series::parse_patch(name, patch_text);
        let mut lines = patch.added.iter().filter(|a| a.file == file).map(|a| a.text.as_str());
        while let Some(line) = lines.next() {
            let Some(rest) = line.trim_start().strip_prefix('#').map(str::trim_start) else {
                continue;
            };
            let Some(rest) = rest.strip_prefix("define") else {
                continue;
            };
            let mut directive = format!("#define{rest}");
            while directive.ends_with('\\') {
                directive.push('\n');
                directive.push_str(lines.next().unwrap_or(""));
            }
            let macro_name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            defines.retain(|(n, _)| *n != macro_name);
            defines.push((macro_name, directive));
        }
    }
    if defines.is_empty() {
        return Err(format!("no patch in patches/{BASE}/series adds a #define to {file}"));
    }
    let mut text = format!(
        "/* The #defines the netspec series adds to {file}, taken from its patches by netspec-sys's build.rs. */\n"
    );
    for (_, directive) in defines {
        text.push_str(&directive);
        text.push('\n');
    }
    Ok(text)
}

/// Runs bindgen on `headers` (relative to `include`), keeping only their own items.
fn bindings(include: &Path, headers: &[String], out: &Path) -> Result<(), String> {
    let mut builder = bindgen::Builder::default()
        .clang_arg(format!("-I{}", include.display()))
        .use_core()
        // Keep the C names: NETSPEC_OP_QUERY, not netspec_op_NETSPEC_OP_QUERY.
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        // No rustfmt process; the output is only ever include!d.
        .formatter(bindgen::Formatter::None);
    for h in headers {
        builder = builder
            .header(include.join(h).to_string_lossy())
            .allowlist_file(format!(".*/{}", regex_escape(h)));
    }
    let bindings = builder.generate().map_err(|e| {
        format!(
            "bindgen failed on {headers:?} in {}: {e}; it needs libclang (Debian: apt-get install \
             libclang-dev) and the kernel's UAPI <linux/types.h> (linux-libc-dev)",
            include.display()
        )
    })?;
    write_if_changed(out, &bindings.to_string())
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| if c.is_ascii_alphanumeric() || c == '/' || c == '_' { vec![c] } else { vec!['\\', c] })
        .collect()
}

/// The target's entry in [`TARGETS`], or why there is none.
fn target() -> Result<&'static Target, String> {
    let arch = env("CARGO_CFG_TARGET_ARCH")?;
    TARGETS.iter().find(|t| t.arch == arch).ok_or_else(|| {
        let mut known = String::new();
        for t in TARGETS {
            let _ = write!(known, " {}", t.arch);
        }
        format!(
            "no netspec facts for target_arch {arch:?}; known:{known}. Add the arch, its \
             table from kernel-syscalls.toml and its <asm/socket.h> to TARGETS in \
             tools/netspec-sys/build.rs"
        )
    })
}

/// The number of system call `name` on the target architecture.
fn syscall_number(toml: &str, name: &str, target: &Target) -> Result<u32, String> {
    let spec = syscalls::parse_spec(toml)
        .map_err(|e| format!("kernel-syscalls.toml:{}: {}: {}", e.line, e.key, e.message))?;
    let syscall = spec
        .syscalls
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("kernel-syscalls.toml has no [[syscall]] named {name}"))?;
    let table = spec
        .tables
        .iter()
        .find(|t| t.path == target.table)
        .ok_or_else(|| format!("kernel-syscalls.toml has no [[table]] with path {:?}", target.table))?;
    let mut number = spec.number(syscall, table);
    if target.arch == "x86_64" && env("CARGO_CFG_TARGET_POINTER_WIDTH")? == "32" {
        number |= X32_SYSCALL_BIT;
    }
    Ok(number)
}

fn env(key: &str) -> Result<String, String> {
    std::env::var(key).map_err(|_| format!("cargo did not set {key}"))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// Leaves an unchanged file alone, so that nothing downstream rebuilds for it.
fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
