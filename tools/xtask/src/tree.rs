//! `cargo xtask tree`: a base's source as a git tree under `target/trees/`,
//! with the series applied as commits.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::base::{self, Base};
use crate::project::{self, run_or_print};
use crate::{Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    /// The base: 6.12 or 6.1.
    #[arg(long, default_value = "6.12")]
    base: String,
    /// A kernel source tarball or directory (default: Debian's linux-source-<base>).
    #[arg(long)]
    source: Option<PathBuf>,
    /// Discard commits in the tree that differ from patches/<base>.
    #[arg(long)]
    reset: bool,
    /// Print the commands instead of running them.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let base = base::find(&args.base).stage(Stage::Usage)?;
    let tree = ensure(&sh, base, args.source.as_deref(), args.reset, args.dry_run)?;
    println!("{}", tree.display());
    Ok(())
}

/// The tag of the imported base commit in every tree.
pub const BASE_TAG: &str = "base";
/// The branch the series lives on.
pub const BRANCH: &str = "netspec";

/// Makes sure the tree of `base` exists and carries exactly `patches/<base>`.
/// Cheap when it already does: nothing is rewritten, so builds stay incremental.
pub fn ensure(
    sh: &Shell,
    base: &Base,
    source: Option<&Path>,
    reset: bool,
    dry_run: bool,
) -> anyhow::Result<PathBuf> {
    let tree = project::tree_dir(base.name);
    if !tree.join(".git").exists() {
        import(sh, base, source, &tree, dry_run)?;
        if dry_run {
            println!("would apply patches/{}/ with git am", base.name);
            return Ok(tree);
        }
    } else if source.is_some() {
        bail!(
            "{} exists; remove it to import another source (rm -rf {})",
            tree.display(),
            tree.display()
        );
    }
    let wanted = crate::series::listed_patches(base.name).stage(Stage::Patch)?;
    let have = crate::series::format_tree(sh, base.name)?;
    let same = have.len() == wanted.len()
        && have.iter().zip(&wanted).all(|((hn, ht), (wn, wt))| hn == wn && ht == wt);
    if same {
        return Ok(tree);
    }
    let head = git_rev(sh, &tree, "HEAD")?;
    let base_rev = git_rev(sh, &tree, BASE_TAG)?;
    if head != base_rev && !reset {
        bail!(
            "{} has commits that differ from patches/{}/.\n\
             Keep them:    cargo xtask series export --base {}\n\
             Discard them: cargo xtask tree --base {} --reset",
            tree.display(),
            base.name,
            base.name,
            base.name
        );
    }
    let _dir = sh.push_dir(&tree);
    if !dry_run && !cmd!(sh, "git status --porcelain --untracked-files=no").read()?.is_empty() {
        bail!("{} has uncommitted changes; commit or discard them first", tree.display());
    }
    run_or_print(dry_run, cmd!(sh, "git checkout -q -f -B {BRANCH} {BASE_TAG}"))?;
    apply(sh, base, &wanted.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), dry_run)?;
    Ok(tree)
}

fn git_rev(sh: &Shell, tree: &Path, rev: &str) -> anyhow::Result<String> {
    let _dir = sh.push_dir(tree);
    Ok(cmd!(sh, "git rev-parse {rev}").read()?)
}

/// Makes sure the tree of `base` exists, importing the default source if not;
/// leaves its commits alone.
pub fn ensure_imported(sh: &Shell, base: &Base, dry_run: bool) -> anyhow::Result<PathBuf> {
    let tree = project::tree_dir(base.name);
    if !tree.join(".git").exists() {
        import(sh, base, None, &tree, dry_run)?;
    }
    Ok(tree)
}

/// Applies the named patches of `patches/<base>/` on the tree's HEAD with `git am`
/// (no fuzz: git never fuzzes), naming the first that fails.
fn apply(sh: &Shell, base: &Base, names: &[String], dry_run: bool) -> anyhow::Result<()> {
    let dir = project::patches_dir(base.name);
    let (id_name, id_email) = (project::IDENTITY_NAME, project::IDENTITY_EMAIL);
    for name in names {
        let patch = dir.join(name);
        let am = cmd!(
            sh,
            "git -c user.name={id_name} -c user.email={id_email} am -q --committer-date-is-author-date {patch}"
        );
        if dry_run {
            println!("would run: {am}");
            continue;
        }
        if let Err(e) = am.quiet().ignore_stderr().run() {
            let stderr = cmd!(sh, "git apply --check {patch}").ignore_status().read_stderr()?;
            let _ = cmd!(sh, "git am --abort").quiet().ignore_stderr().ignore_status().run();
            return Err(anyhow::anyhow!("{e}"))
                .context(format!("patches/{}/{name} does not apply:\n{}", base.name, stderr.trim()))
                .stage(Stage::Patch);
        }
    }
    Ok(())
}

/// Turns a tarball or directory into a git repository with one base commit.
fn import(
    sh: &Shell,
    base: &Base,
    source: Option<&Path>,
    tree: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let source = match source {
        Some(s) => s.to_path_buf(),
        None => {
            let t = base.default_tarball();
            if !t.exists() {
                install_source(sh, base, dry_run)?;
            }
            t
        }
    };
    let partial = tree.with_extension("partial");
    if partial.exists() && !dry_run {
        sh.remove_path(&partial)?;
    }
    run_or_print(dry_run, cmd!(sh, "mkdir -p {partial}"))?;
    if source.is_dir() {
        run_or_print(dry_run, cmd!(sh, "cp -a {source}/. {partial}"))?;
        if !dry_run && partial.join(".git").exists() {
            sh.remove_path(partial.join(".git"))?;
        }
    } else if source.is_file() {
        run_or_print(dry_run, cmd!(sh, "tar -xf {source} --strip-components=1 -C {partial}"))?;
    } else if dry_run {
        println!("would extract {}", source.display());
    } else {
        bail!("kernel source {} is neither a directory nor a tarball", source.display());
    }
    if dry_run {
        println!("would import {} as a git tree at {}", source.display(), tree.display());
        return Ok(());
    }
    let version = base::tree_version(base, &partial).stage(Stage::Usage)?;
    {
        let _dir = sh.push_dir(&partial);
        let _env = [
            sh.push_env("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z"),
            sh.push_env("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z"),
        ];
        let msg = format!("base: {version} ({})", source.display());
        let (id_name, id_email) = (project::IDENTITY_NAME, project::IDENTITY_EMAIL);
        cmd!(sh, "git init -q -b {BRANCH}").run()?;
        cmd!(sh, "git config user.name {id_name}").run()?;
        cmd!(sh, "git config user.email {id_email}").run()?;
        // Debian's linux-source .gitignore ignores the whole top level: add with -f.
        cmd!(sh, "git add -A -f").quiet().run()?;
        cmd!(sh, "git commit -q -m {msg}").run()?;
        cmd!(sh, "git tag {BASE_TAG}").run()?;
    }
    std::fs::rename(&partial, tree).with_context(|| format!("moving into {}", tree.display()))?;
    println!("imported {version} into {}", tree.display());
    Ok(())
}

fn install_source(sh: &Shell, base: &Base, dry_run: bool) -> anyhow::Result<()> {
    let pkg = base.package;
    let is_root = cmd!(sh, "id -u").read().map(|u| u == "0").unwrap_or(false);
    if !is_root {
        bail!(
            "{} is missing. Install it with:\n  sudo apt-get install {pkg}\n\
             or pass --source with a kernel tarball or tree",
            base.default_tarball().display()
        );
    }
    run_or_print(dry_run, cmd!(sh, "apt-get install -y -q {pkg}").env("DEBIAN_FRONTEND", "noninteractive"))
        .context(format!("installing {pkg}"))
        .stage(Stage::Boot)
}
