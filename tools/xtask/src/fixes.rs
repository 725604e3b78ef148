//! Fixes for upstream bugs that keep a base from booting on an arch,
//! `kernel-fixes/<base>/<arch>/*.patch`: not part of the netspec series, and
//! never committed to a tree.  A kernel build of that base and arch applies
//! them to the work tree around its `make` and takes them out again, so the
//! tree's commits, `series` and `build-each` only ever see Debian's source
//! and the series.  Applying and taking out a fix touches its files, so each
//! build of that base and arch recompiles them (and anything that includes
//! them: a fix to a shared header would rebuild every arch of the base).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use xshell::{cmd, Shell};

use crate::project;
use crate::{Stage, StageExt};

fn base_dir(base: &str) -> PathBuf {
    project::root().join("kernel-fixes").join(base)
}

pub fn dir(base: &str, arch: &str) -> PathBuf {
    base_dir(base).join(arch)
}

/// The fixes of a base and arch, in name order.
pub fn list(base: &str, arch: &str) -> anyhow::Result<Vec<PathBuf>> {
    let dir = dir(base, arch);
    let mut found = Vec::new();
    if dir.is_dir() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|x| x == "patch") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Whether the fix is in the tree's work tree (or its commits).
fn is_applied(sh: &Shell, tree: &Path, patch: &Path) -> bool {
    cmd!(sh, "git -C {tree} apply --check -R {patch}").quiet().ignore_stderr().run().is_ok()
}

/// Whether the fix is in the tree's index, i.e. its commits.
fn in_commits(sh: &Shell, tree: &Path, patch: &Path) -> bool {
    cmd!(sh, "git -C {tree} apply --cached --check -R {patch}").quiet().ignore_stderr().run().is_ok()
}

/// The fixes in the work tree while this lives: [`Applied::finish`] takes
/// them out, and so does dropping it (after a failed build).
pub struct Applied<'a> {
    sh: &'a Shell,
    tree: PathBuf,
    patches: Vec<PathBuf>,
}

/// Applies the fixes of `base` and `arch` to `tree` (keeping those an
/// interrupted build left in), failing on one that does not apply or that
/// the tree's commits already hold.
pub fn apply<'a>(sh: &'a Shell, base: &str, arch: &str, tree: &Path, dry_run: bool) -> anyhow::Result<Applied<'a>> {
    let mut applied = Applied { sh, tree: tree.to_path_buf(), patches: Vec::new() };
    for patch in list(base, arch)? {
        if dry_run {
            println!("would run: git -C {} apply {} (and apply -R after the build)", tree.display(), patch.display());
            continue;
        }
        if in_commits(sh, tree, &patch) {
            return Err(anyhow::anyhow!(
                "{} is already in {}'s commits (did an upstream release take it?): remove it from kernel-fixes/",
                patch.display(),
                tree.display()
            ))
            .stage(Stage::Patch);
        }
        if !is_applied(sh, tree, &patch) {
            let out = cmd!(sh, "git -C {tree} apply {patch}").quiet().ignore_status().output()?;
            if !out.status.success() {
                return Err(anyhow::anyhow!("{}", String::from_utf8_lossy(&out.stderr).trim()))
                    .with_context(|| format!("{} does not apply to {}", patch.display(), tree.display()))
                    .stage(Stage::Patch);
            }
            let shown = patch.strip_prefix(project::root()).unwrap_or(&patch);
            eprintln!("kernel: applied {} for this build", shown.display());
        }
        applied.patches.push(patch);
    }
    Ok(applied)
}

impl Applied<'_> {
    /// Takes the fixes out, failing if one cannot be.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.take_out()
    }

    fn take_out(&mut self) -> anyhow::Result<()> {
        let (sh, tree) = (self.sh, self.tree.clone());
        while let Some(patch) = self.patches.pop() {
            cmd!(sh, "git -C {tree} apply -R {patch}")
                .quiet()
                .run()
                .with_context(|| format!("taking {} out of {}", patch.display(), tree.display()))
                .stage(Stage::Patch)?;
        }
        Ok(())
    }
}

impl Drop for Applied<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.take_out() {
            eprintln!("kernel: {e:#}");
        }
    }
}

/// Takes out of `tree` every fix of `base` that an interrupted build (a
/// kill runs no destructor) left in its work tree, unless a build is
/// running now.
pub fn take_out(sh: &Shell, base: &str, tree: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(base_dir(base)) else {
        return Ok(());
    };
    let mut arches: Vec<String> = entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into()).collect();
    arches.sort();
    let Some(_lock) = crate::kernel::build_lock_if_free()? else { return Ok(()) };
    for arch in arches {
        for patch in list(base, &arch)?.iter().rev() {
            if is_applied(sh, tree, patch) && !in_commits(sh, tree, patch) {
                cmd!(sh, "git -C {tree} apply -R {patch}").quiet().run()?;
                eprintln!("tree: took {} out of {} (an interrupted build left it)", patch.display(), tree.display());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each fix is a mail-style patch with a subject and a sign-off, for a
    /// base and an arch the tool knows.
    #[test]
    fn every_fix_is_for_a_known_base_and_arch_and_says_why() {
        let root = project::root().join("kernel-fixes");
        let Ok(bases) = std::fs::read_dir(&root) else { return };
        for base in bases {
            let base = base.unwrap().file_name().to_string_lossy().to_string();
            assert!(crate::base::find(&base).is_ok(), "kernel-fixes/{base}: no such base");
            for arch in std::fs::read_dir(root.join(&base)).unwrap() {
                let arch = arch.unwrap().file_name().to_string_lossy().to_string();
                assert!(crate::arch::ARCHES.iter().any(|a| a.name == arch), "kernel-fixes/{base}/{arch}: no such arch");
                let patches = list(&base, &arch).unwrap();
                assert!(!patches.is_empty(), "kernel-fixes/{base}/{arch} holds no patch");
                for p in patches {
                    let text = std::fs::read_to_string(&p).unwrap();
                    assert!(text.contains("\nSubject: [PATCH"), "{}: no Subject", p.display());
                    assert!(text.contains("\nSigned-off-by: "), "{}: no Signed-off-by", p.display());
                }
            }
        }
    }

    /// Apply, finish, and a fix already committed: in a scratch git tree.
    #[test]
    fn a_fix_comes_out_after_the_build_and_a_committed_one_is_refused() {
        let sh = Shell::new().unwrap();
        let dir = std::env::temp_dir().join(format!("netspec-fixes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f.c");
        std::fs::write(&file, "a\nb\n").unwrap();
        let git = |args: &[&str]| {
            cmd!(sh, "git -C {dir} -c user.name=t -c user.email=t@t {args...}").quiet().ignore_stdout().run().unwrap()
        };
        git(&["init", "-q"]);
        git(&["add", "f.c"]);
        git(&["commit", "-q", "-m", "base"]);
        std::fs::write(&file, "a\nfixed\n").unwrap();
        let patch = dir.join("fix.patch");
        std::fs::write(&patch, cmd!(sh, "git -C {dir} diff").read().unwrap() + "\n").unwrap();
        git(&["checkout", "-q", "f.c"]);

        let mut applied = Applied { sh: &sh, tree: dir.clone(), patches: Vec::new() };
        assert!(!is_applied(&sh, &dir, &patch));
        cmd!(sh, "git -C {dir} apply {patch}").run().unwrap();
        applied.patches.push(patch.clone());
        assert!(is_applied(&sh, &dir, &patch) && !in_commits(&sh, &dir, &patch));
        applied.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "a\nb\n");

        cmd!(sh, "git -C {dir} apply {patch}").run().unwrap();
        git(&["commit", "-q", "-a", "-m", "upstream took it"]);
        assert!(in_commits(&sh, &dir, &patch));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
