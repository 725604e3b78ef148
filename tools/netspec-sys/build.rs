//! Generates the bindings from the series itself, so they cannot drift from it.
//!
//! The UAPI header is rebuilt by applying the hunks of every patch in
//! `patches/6.12/` that touches it, in order, written to
//! `$OUT_DIR/linux/netspec.h` and run through bindgen against the system's
//! `<linux/types.h>`. The syscall numbers for the target come from
//! `kernel-syscalls.toml`, read with the same rules `cargo xtask gen syscalls`
//! uses to write the tables.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The base whose series carries the header; the header is the same on 6.1.
const BASE: &str = "6.12";
/// Where the series puts the header in the kernel tree.
const HEADER: &str = "include/uapi/linux/netspec.h";

/// The table whose number a Rust target uses, by `CARGO_CFG_TARGET_ARCH`.
/// arm64 on 6.1 keeps that table in `asm-generic/unistd.h`; the number is the
/// same on both bases, which `cargo xtask gen syscalls` enforces.
const TABLES: &[(&str, &str)] = &[
    ("x86_64", "arch/x86/entry/syscalls/syscall_64.tbl"),
    ("x86", "arch/x86/entry/syscalls/syscall_32.tbl"),
    ("arm", "arch/arm/tools/syscall.tbl"),
    ("aarch64", "scripts/syscall.tbl"),
    ("riscv64", "scripts/syscall.tbl"),
];

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

    let header = header_from_series(&root.join("patches").join(BASE))?;
    write_if_changed(&out.join("linux/netspec.h"), &header)?;
    bindings(&out, &out.join("bindings.rs"))?;

    let toml = root.join("kernel-syscalls.toml");
    println!("cargo:rerun-if-changed={}", toml.display());
    let spec_text = read(&toml)?;
    let mut consts = String::new();
    for name in ["netspec", "customized_send"] {
        let number = syscall_number(&spec_text, name)?;
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

/// Rebuilds the header by applying, in series order, every patch's hunks
/// for it, starting from nothing (the first of them creates it).
fn header_from_series(dir: &Path) -> Result<String, String> {
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

    let mut text = String::new();
    let mut touched = false;
    for name in &series.patches {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let patch_text = read(&path)?;
        let (patch, _) = series::parse_patch(name, &patch_text);
        if !patch.files.iter().any(|f| f == HEADER) {
            continue;
        }
        text = series::apply_file_hunks(&text, &patch_text, HEADER)
            .map_err(|e| format!("{name}: {e}"))?;
        touched = true;
    }
    if !touched || text.is_empty() {
        return Err(format!(
            "no patch in {} creates {HEADER}",
            series_path.display()
        ));
    }
    Ok(text)
}

/// Runs bindgen on `<include>/linux/netspec.h`, with only the header's own items.
fn bindings(include: &Path, out: &Path) -> Result<(), String> {
    let header = include.join("linux/netspec.h");
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .clang_arg(format!("-I{}", include.display()))
        .allowlist_file(".*/linux/netspec\\.h")
        .use_core()
        // Keep the C names: NETSPEC_OP_QUERY, not netspec_op_NETSPEC_OP_QUERY.
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        // No rustfmt process; the output is only ever include!d.
        .formatter(bindgen::Formatter::None)
        .generate()
        .map_err(|e| {
            format!(
                "bindgen failed on {}: {e}; it needs libclang (Debian: apt-get install \
                 libclang-dev) and the kernel's UAPI <linux/types.h> (linux-libc-dev)",
                header.display()
            )
        })?;
    write_if_changed(out, &bindings.to_string())
}

/// The number of system call `name` on the target architecture, or why
/// there is none.
fn syscall_number(toml: &str, name: &str) -> Result<u32, String> {
    let spec = syscalls::parse_spec(toml)
        .map_err(|e| format!("kernel-syscalls.toml:{}: {}: {}", e.line, e.key, e.message))?;
    let arch = env("CARGO_CFG_TARGET_ARCH")?;
    let Some(&(_, path)) = TABLES.iter().find(|(a, _)| *a == arch) else {
        let mut known = String::new();
        for (a, _) in TABLES {
            let _ = write!(known, " {a}");
        }
        return Err(format!(
            "no netspec syscall number for target_arch {arch:?}; known:{known}. \
             Add the arch and its table from kernel-syscalls.toml to TABLES in \
             tools/netspec-sys/build.rs"
        ));
    };
    let syscall = spec
        .syscalls
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("kernel-syscalls.toml has no [[syscall]] named {name}"))?;
    let table = spec
        .tables
        .iter()
        .find(|t| t.path == path)
        .ok_or_else(|| format!("kernel-syscalls.toml has no [[table]] with path {path:?}"))?;
    let mut number = spec.number(syscall, table);
    if arch == "x86_64" && env("CARGO_CFG_TARGET_POINTER_WIDTH")? == "32" {
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
