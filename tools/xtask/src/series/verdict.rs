//! `cargo xtask series check --source TREE_OR_TARBALL`: a quick verdict on
//! a maintainer's own tree, without building and without touching
//! `target/trees/`: only the files the series touches are copied (or
//! extracted) into a scratch directory, and each patch is tried there in
//! order: `git apply --check` (exact), else `git apply --check -R` (already
//! there), else `patch -p1 --dry-run -F 2` (with fuzz, or where it fails).
//! Each patch is then applied as far as it goes, so the next one is tried on
//! top of it.

use std::path::Path;

use ::series::{Verdict, VerdictRow, VerdictView};
use anyhow::{bail, Context};
use xshell::cmd;

use super::listed_patches;
use crate::base::{self, BASES};
use crate::project;
use crate::{Stage, StageExt};

/// GNU patch's own default: what `patch -p1 < x.patch` would do.
const MAX_FUZZ: &str = "2";

pub fn check_source(base_spec: &str, source: &Path, dry_run: bool) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let source = std::fs::canonicalize(source)
        .with_context(|| format!("{}: no such tarball or directory", source.display()))
        .stage(Stage::Usage)?;
    let scratch = project::target().join("tmp").join("check-source");
    // Every file any series touches, so one pass over a tarball serves whichever base it is.
    let mut files: Vec<String> = vec!["Makefile".into()];
    for b in BASES {
        for (name, text) in listed_patches(b.name)? {
            for f in ::series::parse_patch(&name, &text).0.files {
                if !files.contains(&f) {
                    files.push(f);
                }
            }
        }
    }
    if dry_run {
        println!("would copy or extract {} files of {} into {}", files.len(), source.display(), scratch.display());
        println!("would run per patch: git apply --check, git apply --check -R, patch -p1 --dry-run --force -F {MAX_FUZZ}");
        return Ok(());
    }
    if scratch.exists() {
        sh.remove_path(&scratch)?;
    }
    sh.create_dir(&scratch)?;
    if source.is_dir() {
        let present: Vec<&String> = files.iter().filter(|f| source.join(f).is_file()).collect();
        let _dir = sh.push_dir(&source);
        cmd!(sh, "cp --parents -t {scratch} {present...}").quiet().run().context("copying the files the series touches")?;
    } else {
        // One path component for the tarball's top directory, whatever its name.
        let patterns: Vec<String> = files.iter().map(|f| format!("*/{f}")).collect();
        cmd!(sh, "tar -xf {source} --strip-components=1 -C {scratch} --wildcards --no-wildcards-match-slash {patterns...}")
            .quiet()
            .ignore_status()
            .ignore_stderr()
            .run()?;
    }
    let makefile = std::fs::read_to_string(scratch.join("Makefile"))
        .with_context(|| format!("{} has no top-level Makefile: is it a kernel tree or tarball?", source.display()))
        .stage(Stage::Usage)?;
    let version = base::makefile_version(&makefile);
    let base = if base_spec == "all" {
        let name = base::series_of(&version);
        base::find(&name)
            .with_context(|| format!("{} holds {version}, and there is no series for {name}; pass --base", source.display()))
            .stage(Stage::Usage)?
    } else {
        base::find(base_spec).stage(Stage::Usage)?
    };
    let patches = listed_patches(base.name)?;
    if patches.is_empty() {
        bail!("no series for {} yet: cargo xtask series refresh --base {}", base.name, base.name);
    }
    let dir = project::patches_dir(base.name);
    let _dir = sh.push_dir(&scratch);
    // A repository of its own, so git does not take the project's for it.
    cmd!(sh, "git init -q").quiet().run()?;
    let wiring_subject = crate::gen::load_spec()?.commit.subject;
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    for (name, text) in &patches {
        let patch = dir.join(name);
        let parsed = ::series::parse_patch(name, text).0;
        let verdict = if cmd!(sh, "git apply --check {patch}").quiet().ignore_stderr().run().is_ok() {
            cmd!(sh, "git apply {patch}").quiet().run()?;
            Verdict::Clean
        } else if cmd!(sh, "git apply --check -R {patch}").quiet().ignore_stderr().run().is_ok() {
            Verdict::Absorbed
        } else {
            let out = cmd!(sh, "patch -p1 --dry-run --force -F {MAX_FUZZ} -i {patch}").quiet().ignore_status().output()?;
            let run = ::series::parse_patch_run(&String::from_utf8_lossy(&out.stdout));
            let verdict = ::series::verdict_from_patch_run(&run);
            // As far as it goes: the hunks that apply, rejects discarded.
            cmd!(sh, "patch -p1 --force -F {MAX_FUZZ} --no-backup-if-mismatch -r - -i {patch}")
                .quiet()
                .ignore_status()
                .ignore_stdout()
                .ignore_stderr()
                .run()?;
            verdict
        };
        let number = name.split('-').next().unwrap_or(name).to_string();
        if parsed.subject == wiring_subject && matches!(verdict, Verdict::Conflict { .. }) {
            notes.push(format!(
                "{number} is the syscall wiring, generated per tree: series update and series refresh make it anew, so its conflicts need no one"
            ));
        }
        rows.push(VerdictRow { number, subject: parsed.subject, verdict });
    }
    drop(_dir);
    sh.remove_path(&scratch)?;
    let conflicts = rows.iter().filter(|r| matches!(r.verdict, Verdict::Conflict { .. })).count();
    let recorded = ::series::parse_series(&std::fs::read_to_string(dir.join("series")).unwrap_or_default()).0.base;
    let next = if conflicts > 0 {
        format!("cargo xtask series update --base {} --source {}   (moves the series onto this tree, with a three-way merge per patch)", base.name, source.display())
    } else {
        format!("cd {} && git am {}/*.patch", source.display(), dir.display())
    };
    let next = if source.is_dir() { next } else { next.replace(&format!("cd {} && ", source.display()), "in the unpacked tree: ") };
    let view = VerdictView {
        title: format!(
            "{} ({}) against {version} ({})",
            dir.strip_prefix(project::root()).unwrap_or(&dir).display(),
            recorded.as_deref().unwrap_or("no base recorded"),
            source.display()
        ),
        source_version: version,
        rows,
        notes,
        next,
    };
    print!("{}", ::series::render_verdicts(&view));
    if conflicts > 0 {
        return Err(anyhow::anyhow!("{conflicts} patch(es) of patches/{} conflict with {}", base.name, source.display())).stage(Stage::Patch);
    }
    Ok(())
}
