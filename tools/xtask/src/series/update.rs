//! `cargo xtask series update` and `series refresh`: the series moved onto
//! a new base, patch by patch (see `replay`).
//!
//! update: the newest point release Debian ships for the base (or
//! `--source`) is imported as a commit on top of the old base in the same
//! tree, so git has the old base, the new one and each patch for a real
//! three-way merge; the `base` tag moves there and `base-<old version>` keeps
//! the old one. refresh: another base's series onto this base.

use std::path::Path;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use super::replay::{self, State};
use super::{format_tree, listed_patches};
use crate::base::{self, Base};
use crate::debian;
use crate::project;
use crate::tree::{self, BASE_TAG, BRANCH};
use crate::{Stage, StageExt};

/// The label in a base commit's subject, `base: Linux 6.12.118 (LABEL)`.
fn label_of(subject: &str) -> Option<&str> {
    subject.split_once(" (").map(|(_, l)| l.strip_suffix(')').unwrap_or(l))
}

/// The Debian version a base commit's label names, if it came from Debian:
/// `linux-source-6.12 6.12.118-1, trixie-security` -> `6.12.118-1`.
fn debian_version<'a>(label: &'a str, package: &str) -> Option<&'a str> {
    let rest = label.strip_prefix(package)?.strip_prefix(' ')?;
    rest.split([',', ' ']).next().filter(|v| !v.is_empty())
}

/// The base commit of a tree: its commit, version and label.
fn tree_base(sh: &Shell, base: &Base) -> anyhow::Result<(String, String, String)> {
    let _dir = sh.push_dir(project::tree_dir(base.name));
    let commit = cmd!(sh, "git rev-parse {BASE_TAG}").quiet().read()?;
    let makefile = cmd!(sh, "git show {BASE_TAG}:Makefile").quiet().read()?;
    let subject = cmd!(sh, "git log -1 --format=%s {BASE_TAG}").quiet().read()?;
    let label = label_of(&subject).unwrap_or("").to_string();
    Ok((commit, base::makefile_version(&makefile), label))
}

/// The tree must carry exactly patches/<base>/ and nothing uncommitted.
fn check_in_sync(sh: &Shell, base: &Base) -> anyhow::Result<()> {
    let tree = project::tree_dir(base.name);
    {
        let _dir = sh.push_dir(&tree);
        if !cmd!(sh, "git status --porcelain --untracked-files=no").quiet().read()?.is_empty() {
            bail!("{} has uncommitted changes; commit or discard them first", tree.display());
        }
    }
    if format_tree(sh, base.name)? != listed_patches(base.name)? {
        bail!(
            "{} has commits that differ from patches/{b}/.\nKeep them:    cargo xtask series export --base {b}\n\
             Discard them: cargo xtask tree --base {b} --reset",
            tree.display(),
            b = base.name
        );
    }
    Ok(())
}

pub fn update(base_name: &str, source: Option<&Path>, cont: bool, abort: bool, dry_run: bool) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let base = base::find(base_name).stage(Stage::Usage)?;
    if cont {
        return replay::resume(&sh, base);
    }
    if abort {
        return replay::abort(&sh, base);
    }
    if let Some(op) = replay::in_progress(base) {
        return Err(anyhow::anyhow!("{op}")).stage(Stage::Patch);
    }
    let tree = project::tree_dir(base.name);
    let series_text = std::fs::read_to_string(project::patches_dir(base.name).join("series")).unwrap_or_default();
    let series_base = ::series::parse_series(&series_text).0.base;
    if dry_run {
        match source {
            Some(s) => println!("would import {} as a commit on top of the base of {}", s.display(), tree.display()),
            None => {
                let package = debian::newest(&sh, base, true)?;
                debian::tarball(&sh, base, &package, true)?;
                println!("would import it as a commit on top of the base of {}", tree.display());
            }
        }
        println!(
            "would tag the old base base-<version>, move the {BASE_TAG} tag, replay each commit of the series \
             (git apply --cached [--3way] in a scratch index, git commit-tree), regenerate the wiring, \
             and export patches/{}/ if no patch conflicts",
            base.name
        );
        return Ok(());
    }
    let have_tree = tree.join(".git").exists();
    let (old_commit, old_version, old_label) = if have_tree {
        tree_base(&sh, base)?
    } else {
        (String::new(), series_base.clone().unwrap_or_else(|| "no release".into()), String::new())
    };
    let old_debian = debian_version(&old_label, base.package);

    // What the series moves to.
    let unpacked = project::target().join("tmp").join(format!("import-{}", base.name));
    let (new_version, label, package) = match source {
        Some(s) => {
            tree::unpack(&sh, s, &unpacked, false)?;
            (base::tree_version(base, &unpacked).stage(Stage::Usage)?, s.display().to_string(), None)
        }
        None => {
            let p = debian::newest(&sh, base, false)?;
            (p.linux(), p.describe(), Some(p))
        }
    };
    let newest = match (&package, source) {
        (Some(p), _) => format!("the newest {} in {} is {} ({})", p.name, base.suites.join(", "), p.version, p.suite),
        (None, Some(s)) => format!("{} holds {new_version}", s.display()),
        (None, None) => unreachable!(),
    };
    let same = match (&package, old_debian) {
        (Some(p), Some(old)) => p.version == old,
        _ => new_version == old_version,
    };
    if same {
        let against = if have_tree { format!("{} ({old_label})", tree.display()) } else { format!("patches/{}/series", base.name) };
        println!("{} is current: {against} is based on {old_version}; {newest}, the same release.", base.name);
        if let Some(note) = series_base.filter(|b| *b != old_version) {
            println!("note: patches/{}/series still says {note}: cargo xtask series export --base {}", base.name, base.name);
        }
        if source.is_some() {
            sh.remove_path(&unpacked)?;
        }
        return Ok(());
    }
    if base::version_key(&new_version) < base::version_key(&old_version) {
        bail!("{label} is older than {old_version}, the base of {}; nothing to update to", if have_tree { tree.display().to_string() } else { format!("patches/{}/", base.name) });
    }
    if !have_tree {
        bail!(
            "{} does not exist, and moving the series to {new_version} needs its base, {old_version}, in the tree for the three-way merge:\n  \
             cargo xtask tree --base {b} --source <a {old_version} tarball or tree>\nthen run this again",
            tree.display(),
            b = base.name
        );
    }
    {
        let _dir = sh.push_dir(&tree);
        if cmd!(sh, "git rev-parse HEAD").quiet().read()? == old_commit && !listed_patches(base.name)?.is_empty() {
            bail!(
                "{} holds {old_version} without the series (patches/{b}/ is based on {}), so there are no commits to move.\n\
                 Import the series' base first: rm -rf {} && cargo xtask tree --base {b} --source <that release's tarball or tree>",
                tree.display(),
                series_base.as_deref().unwrap_or("another release"),
                tree.display(),
                b = base.name
            );
        }
    }
    check_in_sync(&sh, base)?;

    let started = std::time::Instant::now();
    if let Some(p) = &package {
        let tarball = debian::tarball(&sh, base, p, false)?;
        tree::unpack(&sh, &tarball, &unpacked, false)?;
        base::tree_version(base, &unpacked).stage(Stage::Usage)?;
    }
    let new_commit = tree::commit_source(&sh, &tree, &unpacked, &old_commit, &new_version, &label)?;
    sh.remove_path(&unpacked)?;
    eprintln!("series update: imported {new_version} on top of {old_version} ({:.0?})", started.elapsed());

    let _dir = sh.push_dir(&tree);
    let old_head = cmd!(sh, "git rev-parse HEAD").quiet().read()?;
    let kept = format!("base-{}", old_version.strip_prefix("Linux ").unwrap_or(&old_version));
    let created_tag = if cmd!(sh, "git rev-parse -q --verify refs/tags/{kept}").quiet().ignore_stdout().run().is_ok() {
        None
    } else {
        cmd!(sh, "git tag {kept} {old_commit}").quiet().run()?;
        Some(kept)
    };
    cmd!(sh, "git tag -f {BASE_TAG} {new_commit}").quiet().ignore_stdout().run()?;
    drop(_dir);
    let state = State {
        verb: "update".into(),
        base: base.name.into(),
        title: format!("update {}: {old_version} -> {new_version} ({label})", base.name),
        base_version: new_version,
        old_head: old_head.clone(),
        old_base: Some(old_commit.clone()),
        created_tag,
        commits: replay::sources(&sh, &tree, &old_commit, &old_head)?,
        rows: Vec::new(),
        next: 0,
        stopped: None,
    };
    replay::run(&sh, base, state, new_commit)
}

/// Rebases the series of `from` onto `base` (see `replay`).
pub fn refresh(base_name: &str, from_name: &str, cont: bool, abort: bool, dry_run: bool) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let base = base::find(base_name).stage(Stage::Usage)?;
    if cont {
        return replay::resume(&sh, base);
    }
    if abort {
        return replay::abort(&sh, base);
    }
    let from = base::find(from_name).stage(Stage::Usage)?;
    if base.name == from.name {
        bail!("--base and --from are both {}", base.name);
    }
    if let Some(op) = replay::in_progress(base) {
        return Err(anyhow::anyhow!("{op}")).stage(Stage::Patch);
    }
    tree::ensure(&sh, from, None, false, dry_run)?;
    tree::ensure_imported(&sh, base, dry_run)?;
    let from_tree = project::tree_dir(from.name);
    let tree = project::tree_dir(base.name);
    if dry_run {
        println!("would run: git -C {} fetch -q --no-tags {} +{BRANCH}:refs/netspec/from", tree.display(), from_tree.display());
        println!("would replay each commit of {} onto the base of {}, regenerate the wiring, and export patches/{}/ if no patch conflicts", from.name, base.name, base.name);
        return Ok(());
    }
    let (base_commit, version, label) = tree_base(&sh, base)?;
    let old_head = {
        let _dir = sh.push_dir(&tree);
        cmd!(sh, "git rev-parse HEAD").quiet().read()?
    };
    if old_head != base_commit {
        check_in_sync(&sh, base).context("the tree must be in sync with its series before a refresh replaces it")?;
    }
    let from_base = {
        let _dir = sh.push_dir(&from_tree);
        cmd!(sh, "git rev-parse {BASE_TAG}").quiet().read()?
    };
    {
        let _dir = sh.push_dir(&tree);
        cmd!(sh, "git fetch -q --no-tags {from_tree} +{BRANCH}:refs/netspec/from").run()?;
    }
    let state = State {
        verb: "refresh".into(),
        base: base.name.into(),
        title: format!("refresh {} from {}: {version} ({label})", base.name, from.name),
        base_version: version,
        old_head,
        old_base: None,
        created_tag: None,
        commits: replay::sources(&sh, &tree, &from_base, "refs/netspec/from")?,
        rows: Vec::new(),
        next: 0,
        stopped: None,
    };
    replay::run(&sh, base, state, base_commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(subject: &str, expected: Option<&str>) {
        let got = label_of(subject).and_then(|l| debian_version(l, "linux-source-6.12"));
        assert_eq!(got, expected, "{subject}");
    }

    #[test]
    fn base_labels() {
        check("base: Linux 6.12.118 (linux-source-6.12 6.12.118-1, trixie-security)", Some("6.12.118-1"));
        check("base: Linux 6.12.95 (/usr/src/linux-source-6.12.tar.xz)", None);
        check("base: Linux 6.12.95", None);
        check("base: Linux 6.12.95 (linux-source-6.12)", None);
    }
}
