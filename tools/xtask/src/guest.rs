//! Guest programs: C with the kernel's nolibc, static, per arch, packed with
//! `/init` into an initramfs by the kernel's own `usr/gen_init_cpio`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::arch::Arch;
use crate::project;
use crate::{Stage, StageExt};

/// The suite that runs the Rust API's guest program
/// (tools/netspec/examples/guest_ktap.rs), on arches with a Rust target.
pub const RUST_SUITE: &str = "rust-api";

/// Builds the Rust API's guest program, statically linked, for `arch`.
fn build_rust_suite(sh: &Shell, arch: &Arch, exe: &Path, dry_run: bool) -> anyhow::Result<()> {
    let Some(target) = arch.rust_target else {
        bail!("{} has no Rust target for the {RUST_SUITE} suite", arch.name);
    };
    let _flags = sh.push_env("RUSTFLAGS", "-C target-feature=+crt-static");
    // The caller works in the kernel tree, which need not be inside the
    // workspace (--kernel-build).
    let _dir = sh.push_dir(project::root());
    let c = cmd!(sh, "cargo build --quiet --example guest_ktap --package netspec --target {target}");
    if dry_run {
        println!("would run: RUSTFLAGS='-C target-feature=+crt-static' {c}");
        return Ok(());
    }
    c.run().context("building the rust-api guest program").stage(Stage::Build)?;
    let built = project::target().join(target).join("debug/examples/guest_ktap");
    sh.copy_file(&built, exe)?;
    Ok(())
}

/// The suites under `vm-tests/suites/`, by name (file stem), sorted.
pub fn suites() -> anyhow::Result<Vec<String>> {
    let dir = project::root().join("vm-tests/suites");
    let mut names: Vec<String> = walkdir::WalkDir::new(&dir)
        .max_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "c"))
        .filter_map(|e| e.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

/// The device's customization agent, `vm-tests/agent.c`, which an
/// initramfs with the suite that starts it ([`AGENT_SUITE`]) carries as
/// `/sbin/netspec-agent`.
pub const AGENT: &str = "netspec-agent";
/// The suite that starts [`AGENT`].
pub const AGENT_SUITE: &str = "remote";

/// The directory of a guest build whose files the initramfs carries under
/// `/extra`; the harness empties it for a boot that needs none.
pub const EXTRA_DIR: &str = "extra";

/// Builds init and the selected suites for `arch` against the headers of the
/// kernel in `build`, and packs them; returns the initramfs path.
pub fn build(
    sh: &Shell,
    base: &str,
    arch: &Arch,
    build: &Path,
    selected: &[String],
    dry_run: bool,
) -> anyhow::Result<PathBuf> {
    let programs: Vec<(String, PathBuf)> = selected
        .iter()
        .map(|s| (s.clone(), project::root().join(format!("vm-tests/suites/{s}.c"))))
        .collect();
    build_programs(sh, base, arch, build, &project::guest_dir(base, arch.name), &programs, dry_run)
}

/// [`build`] for any programs, each (name, C source) run by init as a suite
/// named name, with everything under `out`.
pub fn build_programs(
    sh: &Shell,
    base: &str,
    arch: &Arch,
    build: &Path,
    out: &Path,
    selected: &[(String, PathBuf)],
    dry_run: bool,
) -> anyhow::Result<PathBuf> {
    // An O= directory names its tree; ours are target/trees/<base>.
    let tree = std::fs::canonicalize(build.join("source")).unwrap_or_else(|_| project::tree_dir(base));
    let out = out.to_path_buf();
    let headers = out.join("headers");
    let bin = out.join("bin");
    let (a, cross) = (arch.linux_arch, arch.cross_compile);
    let _dir = sh.push_dir(&tree);
    let install = cmd!(sh, "make -s O={build} ARCH={a} CROSS_COMPILE={cross} headers_install INSTALL_HDR_PATH={headers}");
    if dry_run {
        println!("would run: {install}");
    } else {
        sh.create_dir(&bin)?;
        install.run().context("installing the kernel's UAPI headers").stage(Stage::Build)?;
    }

    let nolibc = tree.join("tools/include/nolibc/nolibc.h");
    let inc = project::root().join("vm-tests/include");
    let compat = inc.join("nolibc_compat.h");
    let tools_inc = project::root().join("tools/include");
    let hdr_inc = headers.join("include");
    let cc = arch.guest_cc;
    let flags: Vec<&str> = arch.guest_flags().collect();
    let mut programs = vec![("init".to_string(), project::root().join("vm-tests/init.c"))];
    programs.extend(selected.iter().cloned());
    let selected: Vec<String> = selected.iter().map(|(name, _)| name.clone()).collect();
    let agent = selected.iter().any(|s| s == AGENT_SUITE);
    if agent {
        programs.push((AGENT.to_string(), project::root().join("vm-tests/agent.c")));
    }
    if selected.iter().any(|s| s == RUST_SUITE) {
        build_rust_suite(sh, arch, &bin.join(RUST_SUITE), dry_run)?;
    }
    programs.retain(|(name, _)| name != RUST_SUITE);
    for (name, src) in &programs {
        let exe = bin.join(name);
        let flags = flags.clone();
        let c = cmd!(
            sh,
            "{cc} {flags...} -Wall -Werror -include {nolibc} -include {compat} -I {inc} -I {tools_inc} -I {hdr_inc} -o {exe} {src}"
        );
        if dry_run {
            println!("would run: {c}");
        } else {
            c.run().with_context(|| format!("compiling {} for {}", src.display(), arch.name)).stage(Stage::Build)?;
        }
    }

    let list = out.join("initramfs.list");
    let suites_file = out.join("netspec-suites");
    let mut text = String::from(
        "dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\ndir /proc 0755 0 0\n\
         dir /sys 0755 0 0\ndir /etc 0755 0 0\ndir /tests 0755 0 0\ndir /tmp 1777 0 0\n",
    );
    text.push_str(&format!("file /init {} 0755 0 0\n", bin.join("init").display()));
    if agent {
        text.push_str(&format!("dir /sbin 0755 0 0\nfile /sbin/{AGENT} {} 0755 0 0\n", bin.join(AGENT).display()));
    }
    text.push_str(&format!("file /etc/netspec-suites {} 0644 0 0\n", suites_file.display()));
    for s in &selected {
        text.push_str(&format!("file /tests/{s} {} 0755 0 0\n", bin.join(s).display()));
    }
    // Files a suite reads, which the harness put in `out/extra` for this
    // boot (the remote suite's module signed with a foreign key).
    let extra = out.join(EXTRA_DIR);
    if let Ok(dir) = std::fs::read_dir(&extra) {
        text.push_str(&format!("dir /{EXTRA_DIR} 0755 0 0\n"));
        let mut names: Vec<String> =
            dir.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        for n in names {
            text.push_str(&format!("file /{EXTRA_DIR}/{n} {} 0644 0 0\n", extra.join(&n).display()));
        }
    }
    let cpio = out.join("initramfs.cpio");
    let gen = build.join("usr/gen_init_cpio");
    if dry_run {
        println!("would run: {} {} > {}", gen.display(), list.display(), cpio.display());
        return Ok(cpio);
    }
    sh.write_file(&list, text)?;
    sh.write_file(&suites_file, selected.iter().map(|s| format!("{s}\n")).collect::<String>())?;
    if !gen.exists() {
        bail!("{} is missing: build the kernel first", gen.display());
    }
    let file = std::fs::File::create(&cpio)?;
    let mut c: std::process::Command = cmd!(sh, "{gen} -t 0 {list}").into();
    let status = c.stdout(file).status().context("running gen_init_cpio")?;
    if !status.success() {
        bail!("gen_init_cpio failed on {}", list.display());
    }
    Ok(cpio)
}
