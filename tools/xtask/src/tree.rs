//! `cargo xtask tree`: a base's source as a git tree under `target/trees/`,
//! with the series applied as commits.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::base::{self, Base};
use crate::debian;
use crate::project::{self, run_or_print};
use crate::{Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    /// The base: 6.12, 6.1 or 7.3.
    #[arg(long, default_value = "6.12")]
    base: String,
    /// A kernel source tarball or directory (default: the newest of Debian's
    /// linux-source-<base>, fetched into target/sources/).
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
    if let Some(op) = crate::series::replay::in_progress(base) {
        return Err(anyhow::anyhow!("{op}")).stage(Stage::Patch);
    }
    if tree.join(".git").exists() && !dry_run {
        crate::fixes::take_out(sh, base.name, &tree)?;
    }
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
    if !dry_run {
        no_background_gc(sh, &tree)?;
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

/// Turns off git's automatic maintenance in a tree.  A commit of a whole
/// kernel source leaves some 80,000 loose objects, and git then starts a
/// `gc` in the background: it takes a core for minutes and locks the refs
/// that the next `git checkout -B` must update (seen failing in CI, exit 128).
/// The trees are scratch repositories; nothing needs them packed.
fn no_background_gc(sh: &Shell, tree: &Path) -> anyhow::Result<()> {
    let _dir = sh.push_dir(tree);
    if cmd!(sh, "git config --get gc.auto").ignore_status().read()? != "0" {
        cmd!(sh, "git config gc.auto 0").quiet().run()?;
        cmd!(sh, "git config maintenance.auto false").quiet().run()?;
    }
    Ok(())
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
    if !dry_run {
        no_background_gc(sh, &tree)?;
        crate::fixes::take_out(sh, base.name, &tree)?;
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

/// The source to import: `source` as given, or else the newest of Debian's
/// package for the base, fetched into `target/sources/`; and how to name it
/// in the base commit's message.
pub fn resolve_source(
    sh: &Shell,
    base: &Base,
    source: Option<&Path>,
    dry_run: bool,
) -> anyhow::Result<(PathBuf, String)> {
    match source {
        Some(s) => Ok((s.to_path_buf(), s.display().to_string())),
        None => {
            let package = debian::newest(sh, base, dry_run)?;
            let tarball = debian::tarball(sh, base, &package, dry_run)?;
            Ok((tarball, package.describe()))
        }
    }
}

/// Extracts a tarball, or copies a directory (without its `.git`), into a fresh `dir`.
pub fn unpack(sh: &Shell, source: &Path, dir: &Path, dry_run: bool) -> anyhow::Result<()> {
    if dir.exists() && !dry_run {
        sh.remove_path(dir)?;
    }
    run_or_print(dry_run, cmd!(sh, "mkdir -p {dir}"))?;
    if source.is_dir() {
        run_or_print(dry_run, cmd!(sh, "cp -a {source}/. {dir}"))?;
        if !dry_run && dir.join(".git").exists() {
            sh.remove_path(dir.join(".git"))?;
        }
    } else if source.is_file() {
        run_or_print(dry_run, cmd!(sh, "tar -xf {source} --strip-components=1 -C {dir}"))?;
    } else if dry_run {
        println!("would extract {}", source.display());
    } else {
        bail!("kernel source {} is neither a directory nor a tarball", source.display());
    }
    Ok(())
}

/// The message of a base commit: the version, then where it came from.
fn base_message(version: &str, label: &str) -> String {
    format!("base: {version} ({label})")
}

/// Turns a tarball or directory into a git repository with one base commit.
fn import(
    sh: &Shell,
    base: &Base,
    source: Option<&Path>,
    tree: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let (source, label) = resolve_source(sh, base, source, dry_run)?;
    // Not with_extension: "6.1" and "6.12" would both become "6.partial".
    let partial = tree.with_file_name(format!("{}.partial", base.name));
    unpack(sh, &source, &partial, dry_run)?;
    if dry_run {
        println!("would import {} as a git tree at {}", source.display(), tree.display());
        return Ok(());
    }
    let version = base::tree_version(base, &partial).stage(Stage::Usage)?;
    {
        let _dir = sh.push_dir(&partial);
        let _env = [
            sh.push_env("GIT_AUTHOR_DATE", BASE_DATE),
            sh.push_env("GIT_COMMITTER_DATE", BASE_DATE),
        ];
        let msg = base_message(&version, &label);
        let (id_name, id_email) = (project::IDENTITY_NAME, project::IDENTITY_EMAIL);
        cmd!(sh, "git init -q -b {BRANCH}").run()?;
        cmd!(sh, "git config user.name {id_name}").run()?;
        cmd!(sh, "git config user.email {id_email}").run()?;
        no_background_gc(sh, &partial)?;
        // Debian's linux-source .gitignore ignores the whole top level: add with -f.
        cmd!(sh, "git add -A -f").quiet().run()?;
        cmd!(sh, "git commit -q -m {msg}").run()?;
        cmd!(sh, "git tag {BASE_TAG}").run()?;
    }
    std::fs::rename(&partial, tree).with_context(|| format!("moving into {}", tree.display()))?;
    println!("imported {version} ({label}) into {}", tree.display());
    if let Some(note) = series_base_note(base, &version) {
        println!("{note}");
    }
    Ok(())
}

/// The fixed date of every base commit, so that imports are byte-stable.
const BASE_DATE: &str = "2000-01-01T00:00:00Z";

/// Commits the contents of `dir` to the tree's repository as a base commit
/// with `parent` (a scratch index; the tree's work tree and index are not
/// touched); returns the commit.
pub fn commit_source(
    sh: &Shell,
    tree: &Path,
    dir: &Path,
    parent: &str,
    version: &str,
    label: &str,
) -> anyhow::Result<String> {
    let git_dir = tree.join(".git");
    let index = project::target().join("tmp").join(format!(
        "index-import-{}",
        tree.file_name().unwrap_or_default().to_string_lossy()
    ));
    sh.create_dir(index.parent().unwrap())?;
    if index.exists() {
        sh.remove_path(&index)?;
    }
    let _env = [
        sh.push_env("GIT_INDEX_FILE", &index),
        sh.push_env("GIT_AUTHOR_DATE", BASE_DATE),
        sh.push_env("GIT_COMMITTER_DATE", BASE_DATE),
        sh.push_env("GIT_AUTHOR_NAME", project::IDENTITY_NAME),
        sh.push_env("GIT_AUTHOR_EMAIL", project::IDENTITY_EMAIL),
        sh.push_env("GIT_COMMITTER_NAME", project::IDENTITY_NAME),
        sh.push_env("GIT_COMMITTER_EMAIL", project::IDENTITY_EMAIL),
    ];
    // -f: Debian's linux-source .gitignore ignores the whole top level.
    cmd!(sh, "git --git-dir={git_dir} --work-tree={dir} add -A -f")
        .quiet()
        .run()
        .with_context(|| format!("adding {} to {}", dir.display(), git_dir.display()))?;
    let object = cmd!(sh, "git --git-dir={git_dir} write-tree").read()?;
    let msg = base_message(version, label);
    let commit = cmd!(sh, "git --git-dir={git_dir} commit-tree {object} -p {parent} -m {msg}").read()?;
    sh.remove_path(&index)?;
    Ok(commit)
}

/// When the series of `base` says it is based on another release than
/// `version`, the sentence that says so and what to do.
pub fn series_base_note(base: &Base, version: &str) -> Option<String> {
    let text = std::fs::read_to_string(project::patches_dir(base.name).join("series")).ok()?;
    let (series, _) = ::series::parse_series(&text);
    let recorded = series.base?;
    (recorded != version).then(|| {
        format!(
            "note: patches/{b}/ is based on {recorded}; this tree holds {version}, so the series is \
             checked and built against {version}. To move the series onto it: cargo xtask series update --base {b}",
            b = base.name
        )
    })
}
