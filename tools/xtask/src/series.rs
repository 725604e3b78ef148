//! `cargo xtask series`: show, export, check and refresh the patch series.
//!
//! Each base has its own series in `patches/<base>/`, since the syscall wiring
//! differs between bases; every other patch is the same change, carried in the
//! same order (a tidy test checks the subjects line up).
//!
//! Submodules: `replay` moves the series onto a new base commit by commit
//! (`update`: a new point release; `refresh`: another base's series);
//! `verdict` judges the series against a tree of someone else's.

mod each;
pub use each::build_each;
pub mod replay;
mod update;
mod verdict;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use ::series::{PatchState, SeriesRow, SeriesView};
use xshell::{cmd, Shell};

use crate::base::{self, Base};
use crate::project;
use crate::tree::{self, BASE_TAG};
use crate::{Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The base whose series to show.
    #[arg(long, default_value = "6.12")]
    base: String,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Regenerate patches/<base>/ from the tree's commits (byte-stable).
    Export {
        #[arg(long, default_value = "6.12")]
        base: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply each base's series to a pristine base (no fuzz), run checkpatch
    /// --strict, check sign-offs, the series listing and the generated wiring.
    /// With --source: only a verdict per patch on that tree or tarball
    /// (applies cleanly, with fuzz, conflicts, absorbed), building nothing.
    Check {
        #[arg(long, default_value = "all")]
        base: String,
        /// A kernel tree or tarball of your own (the base is read from its Makefile).
        #[arg(long)]
        source: Option<PathBuf>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Move the series of --base to the newest point release Debian ships
    /// for it (or to --source), three-way, reporting per patch; export when
    /// every patch is resolved.
    Update {
        #[arg(long, default_value = "6.12")]
        base: String,
        /// A tarball or tree of the new release instead of Debian's package.
        #[arg(long, conflicts_with_all = ["cont", "abort"])]
        source: Option<PathBuf>,
        /// Go on after resolving a conflict.
        #[arg(long = "continue", conflicts_with = "abort")]
        cont: bool,
        /// Undo the update in progress.
        #[arg(long)]
        abort: bool,
        #[arg(long)]
        dry_run: bool,
    },
    /// Build the series after every patch (incrementally, the test profile
    /// without KASAN), so that no patch needs a later one to compile.
    BuildEach {
        #[arg(long, default_value = "6.12")]
        base: String,
        #[arg(long, default_value = "x86_64")]
        arch: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Rebase the series of --from onto --base; report per patch what applied.
    Refresh {
        #[arg(long)]
        base: String,
        #[arg(long, default_value = "6.12")]
        from: String,
        /// Go on after resolving a conflict.
        #[arg(long = "continue", conflicts_with = "abort")]
        cont: bool,
        /// Undo the refresh in progress.
        #[arg(long)]
        abort: bool,
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        None => status(&args.base),
        Some(Command::Export { base, dry_run }) => export(&base, dry_run),
        Some(Command::Check { base, source: Some(source), dry_run }) => verdict::check_source(&base, &source, dry_run),
        Some(Command::Check { base, source: None, dry_run }) => check_bases(&base, dry_run),
        Some(Command::Update { base, source, cont, abort, dry_run }) => {
            update::update(&base, source.as_deref(), cont, abort, dry_run)
        }
        Some(Command::Refresh { base, from, cont, abort, dry_run }) => update::refresh(&base, &from, cont, abort, dry_run),
        Some(Command::BuildEach { base, arch, dry_run }) => build_each(&base, &arch, dry_run),
    }
}

/// What to say about a base that has no series yet, and what makes one.
pub fn no_series(base: &str) -> String {
    format!("no series for {base} yet: cargo xtask series refresh --base {base}")
}

/// Fails with [`no_series`] when `patches/<base>/series` is missing.
pub fn require_series(base: &str) -> anyhow::Result<()> {
    if !project::patches_dir(base).join("series").exists() {
        return Err(anyhow::anyhow!("{}", no_series(base))).stage(Stage::Patch);
    }
    Ok(())
}

/// The series file and the text of each patch it lists, in order.
pub fn listed_patches(base: &str) -> anyhow::Result<Vec<(String, String)>> {
    let dir = project::patches_dir(base);
    let series_path = dir.join("series");
    let text = match std::fs::read_to_string(&series_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(format!("reading {}", series_path.display())),
    };
    let (parsed, _) = ::series::parse_series(&text);
    parsed
        .patches
        .iter()
        .map(|name| {
            let p = dir.join(name);
            let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            Ok((name.clone(), text))
        })
        .collect()
}

/// `git format-patch` of the tree's commits since the base, exactly as export writes them.
pub fn format_tree(sh: &Shell, base: &str) -> anyhow::Result<Vec<(String, String)>> {
    let tree = project::tree_dir(base);
    let out = project::target().join("tmp").join(format!("format-{base}"));
    if out.exists() {
        sh.remove_path(&out)?;
    }
    sh.create_dir(&out)?;
    {
        let _dir = sh.push_dir(&tree);
        // No version, date or numbering noise: the files change only when a patch does.
        cmd!(
            sh,
            "git -c diff.noprefix=false -c format.signature= format-patch -q --zero-commit --no-signature --no-numbered --abbrev=12 -o {out} {BASE_TAG}..HEAD"
        )
        .quiet()
        .run()
        .with_context(|| format!("exporting the commits of {}", tree.display()))?;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    files.sort();
    files
        .iter()
        .map(|p| Ok((p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(p)?)))
        .collect()
}

fn series_file_text(version: &str, names: &[String]) -> String {
    let mut s = format!("# base: {version}\n");
    for n in names {
        s.push_str(n);
        s.push('\n');
    }
    s
}

/// Writes patches/<base>/ from the tree, printing what changed, patch by patch.
fn export(base_name: &str, dry_run: bool) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let base = base::find(base_name).stage(Stage::Usage)?;
    let tree = project::tree_dir(base.name);
    if !tree.join(".git").exists() {
        bail!("no tree at {}: run cargo xtask tree --base {}", tree.display(), base.name);
    }
    let version = base::tree_version(base, &tree)?;
    let new = format_tree(&sh, base.name)?;
    let old = listed_patches(base.name)?;
    let dir = project::patches_dir(base.name);
    let mut changes = Vec::new();
    for (name, text) in &new {
        match old.iter().find(|(n, _)| n == name) {
            None => changes.push(::series::ExportChange::Added(name.clone())),
            Some((_, t)) if t != text => {
                let (added, removed) = ::series::diff_stat(t, text);
                changes.push(::series::ExportChange::Modified { name: name.clone(), added, removed });
            }
            Some(_) => {}
        }
    }
    for (name, _) in &old {
        if !new.iter().any(|(n, _)| n == name) {
            changes.push(::series::ExportChange::Removed(name.clone()));
        }
    }
    let names: Vec<String> = new.iter().map(|(n, _)| n.clone()).collect();
    let series_text = series_file_text(&version, &names);
    let series_changed = std::fs::read_to_string(dir.join("series")).ok().as_deref() != Some(series_text.as_str());
    print!("{}", ::series::render_export_changes(&changes));
    if series_changed && changes.is_empty() {
        println!("series file: updated");
    }
    if dry_run {
        return Ok(());
    }
    sh.create_dir(&dir)?;
    for (name, _) in &old {
        if !names.contains(name) {
            sh.remove_path(dir.join(name))?;
        }
    }
    for (name, text) in &new {
        sh.write_file(dir.join(name), text)?;
    }
    if series_changed {
        sh.write_file(dir.join("series"), series_text)?;
    }
    Ok(())
}

/// The index file `simulate` applies the series into.
pub fn scratch_index(base: &str) -> PathBuf {
    project::target().join("tmp").join(format!("index-{base}"))
}

/// Simulates applying the series to a pristine base in a scratch index (the
/// work tree is not touched): each patch applies, is already in the base, or conflicts.
pub fn simulate(
    sh: &Shell,
    base: &Base,
    dir: &Path,
    patches: &[(String, String)],
    dry_run: bool,
) -> anyhow::Result<Vec<SeriesRow>> {
    let tree = project::tree_dir(base.name);
    let index = scratch_index(base.name);
    sh.create_dir(index.parent().unwrap())?;
    let _dir = sh.push_dir(&tree);
    let _env = sh.push_env("GIT_INDEX_FILE", &index);
    if dry_run {
        println!("would run: git read-tree {BASE_TAG}, then git apply --cached (--check, --reverse) per patch");
        return Ok(Vec::new());
    }
    cmd!(sh, "git read-tree {BASE_TAG}").quiet().run()?;
    let mut rows = Vec::new();
    for (name, text) in patches {
        let path = dir.join(name);
        let (patch, _) = ::series::parse_patch(name, text);
        let fwd = cmd!(sh, "git apply --cached --check {path}").ignore_status().quiet().output()?;
        let state = if fwd.status.success() {
            cmd!(sh, "git apply --cached {path}").quiet().run()?;
            PatchState::Applied
        } else {
            let rev = cmd!(sh, "git apply --cached --check --reverse {path}").ignore_status().quiet().output()?;
            ::series::classify(false, rev.status.success(), &String::from_utf8_lossy(&fwd.stderr))
        };
        rows.push(SeriesRow { file: name.clone(), subject: patch.subject, state });
    }
    Ok(rows)
}

fn status(base_name: &str) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let base = base::find(base_name).stage(Stage::Usage)?;
    tree::ensure_imported(&sh, base, false)?;
    let tree = project::tree_dir(base.name);
    let patches = listed_patches(base.name)?;
    let rows = simulate(&sh, base, &project::patches_dir(base.name), &patches, false)?;
    let in_sync = format_tree(&sh, base.name)? == patches;
    let conflicts = rows.iter().any(|r| !matches!(r.state, PatchState::Applied));
    let next = if require_series(base.name).is_err() {
        no_series(base.name)
    } else if conflicts {
        format!("cargo xtask series update --base {}", base.name)
    } else if !in_sync {
        format!(
            "cargo xtask series export --base {b}   (the tree differs from patches/{b}/; or: cargo xtask tree --base {b} --reset)",
            b = base.name
        )
    } else {
        format!("cargo xtask kernel --arch armv4 --base {}", base.name)
    };
    let view = SeriesView {
        base_name: base.name.into(),
        base_version: base::tree_version(base, &tree).ok(),
        tree: Some(tree.strip_prefix(project::root()).unwrap_or(&tree).display().to_string()),
        patches: rows,
        next,
    };
    print!("{}", ::series::render_status(&view));
    Ok(())
}

/// `series check` on each selected base; every problem is printed before failing.
pub fn check_bases(spec: &str, dry_run: bool) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let mut problems = Vec::new();
    for base in base::select(spec).stage(Stage::Usage)? {
        let found = check(&sh, base, dry_run)?;
        println!(
            "series check {}: {}",
            base.name,
            if found.is_empty() { "ok".to_string() } else { format!("{} problem(s)", found.len()) }
        );
        for p in &found {
            println!("  {p}");
        }
        problems.extend(found.into_iter().map(|p| format!("{}: {p}", base.name)));
    }
    if !problems.is_empty() {
        return Err(anyhow::anyhow!("{}", problems.join("\n")))
            .context("series check failed")
            .stage(Stage::Patch);
    }
    Ok(())
}

fn check(sh: &Shell, base: &Base, dry_run: bool) -> anyhow::Result<Vec<String>> {
    if require_series(base.name).is_err() {
        return Ok(vec![no_series(base.name)]);
    }
    tree::ensure_imported(sh, base, dry_run)?;
    let dir = project::patches_dir(base.name);
    let mut problems: Vec<String> = Vec::new();
    if !dry_run {
        let tree = project::tree_dir(base.name);
        if let Some(note) = base::tree_version(base, &tree).ok().and_then(|v| tree::series_base_note(base, &v)) {
            println!("{note}");
        }
    }

    let series_text = std::fs::read_to_string(dir.join("series"))
        .with_context(|| format!("reading {}/series", dir.display()))
        .stage(Stage::Patch)?;
    let (parsed, diags) = ::series::parse_series(&series_text);
    problems.extend(diags.iter().map(|d| format!("patches/{}/series: {d}", base.name)));
    let files: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n != "series")
        .collect();
    problems.extend(::series::check_listing(&parsed, &files).iter().map(|p| p.to_string()));

    let patches = listed_patches(base.name)?;
    for (name, text) in &patches {
        let (patch, diags) = ::series::parse_patch(name, text);
        problems.extend(diags.iter().map(|d| format!("{name}: {d}")));
        problems.extend(::series::check_patch(&patch, project::IDENTITY).iter().map(|p| p.to_string()));
    }

    for row in simulate(sh, base, &dir, &patches, dry_run)? {
        match &row.state {
            PatchState::Applied => {}
            PatchState::Absorbed => problems.push(format!(
                "{}: already in the base (absorbed by a stable release?): drop it from patches/{}/",
                row.file, base.name
            )),
            PatchState::Conflict(errs) => {
                let at: Vec<String> = errs
                    .iter()
                    .map(|e| match e.line {
                        Some(l) => format!("{}:{l}", e.file),
                        None => e.file.clone(),
                    })
                    .collect();
                problems.push(format!(
                    "{}: does not apply to {} ({}): cargo xtask series refresh --base {}",
                    row.file,
                    base.name,
                    at.join(", "),
                    base.name
                ))
            }
            PatchState::NotTried => problems.push(format!("{}: not tried", row.file)),
        }
    }

    problems.extend(checkpatch(sh, base, &dir, &patches, dry_run)?);
    if !dry_run && problems.is_empty() {
        problems.extend(crate::gen::check_wiring(sh, base)?);
        problems.extend(crate::gen::check_variants(sh, base)?);
    }
    if !dry_run && problems.is_empty() {
        // The round trip: git am of the files, then export, gives the same bytes.
        match tree::ensure(sh, base, None, false, false) {
            Ok(_) => {
                let exported = format_tree(sh, base.name)?;
                for ((n, t), (_, want)) in exported.iter().zip(&patches) {
                    if t != want {
                        problems.push(format!("{n}: export after git am changes it (cargo xtask series export --base {})", base.name));
                    }
                }
                if exported.len() != patches.len() {
                    problems.push(format!("export after git am gives {} patches, not {}", exported.len(), patches.len()));
                }
            }
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    Ok(problems)
}

/// The kernel's own checkpatch, --strict, on each patch file.
fn checkpatch(
    sh: &Shell,
    base: &Base,
    dir: &Path,
    patches: &[(String, String)],
    dry_run: bool,
) -> anyhow::Result<Vec<String>> {
    let tree = project::tree_dir(base.name);
    let _dir = sh.push_dir(&tree);
    let mut problems = Vec::new();
    // checkpatch asks "does MAINTAINERS need updating?" of every patch that adds
    // a file, whether or not MAINTAINERS already covers it; we answer the
    // question itself instead: every added file must be covered after the series.
    let maintainers = if dry_run {
        String::new()
    } else {
        let _env = sh.push_env("GIT_INDEX_FILE", scratch_index(base.name));
        cmd!(sh, "git show :MAINTAINERS").quiet().read()?
    };
    for (name, text) in patches {
        for file in added_files(text) {
            if !dry_run && !maintained(&maintainers, &file) {
                problems.push(format!("{name}: adds {file}, which no MAINTAINERS F: entry covers"));
            }
        }
    }
    for (name, _) in patches {
        let path = dir.join(name);
        let c = cmd!(sh, "perl scripts/checkpatch.pl --strict --quiet --no-summary --show-types --ignore FILE_PATH_CHANGES {path}");
        if dry_run {
            println!("would run: {c}");
            continue;
        }
        let out = c.ignore_status().quiet().output()?;
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            let kept: Vec<String> = ::series::parse_checkpatch(&text)
                .into_iter()
                .filter(|f| !::series::is_sysctl_copy(f))
                .map(|f| f.text)
                .collect();
            if !kept.is_empty() || text.trim().is_empty() {
                problems.push(format!("{name}: checkpatch --strict:\n{}", kept.join("\n\n")));
            }
        }
    }
    Ok(problems)
}

/// Files a format-patch text creates.
fn added_files(patch: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = None;
    for line in patch.lines() {
        if let Some(rest) = line.strip_prefix("diff --git a/") {
            current = rest.split(" b/").next().map(str::to_string);
        } else if line.starts_with("new file mode") {
            out.extend(current.take());
        }
    }
    out
}

/// Whether an `F:` pattern of MAINTAINERS covers `file`: a directory pattern
/// (trailing `/`) covers everything below it, a `*` pattern one directory level.
fn maintained(maintainers: &str, file: &str) -> bool {
    maintainers.lines().filter_map(|l| l.strip_prefix("F:")).map(str::trim).any(|pat| {
        if let Some(dir) = pat.strip_suffix('/') {
            file.starts_with(&format!("{dir}/"))
        } else if let Some((prefix, suffix)) = pat.split_once('*') {
            file.starts_with(prefix)
                && file.ends_with(suffix)
                && !file[prefix.len()..file.len() - suffix.len()].contains('/')
        } else {
            file == pat
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(file: &str, expected: bool) {
        let m = "NETSPEC\nF:\tnet/netspec/\nF:\tinclude/uapi/linux/netspec.h\nF:\tDocumentation/net*.rst\n";
        assert_eq!(maintained(m, file), expected, "{file}");
    }

    #[test]
    fn maintainers_patterns() {
        check("net/netspec/core.c", true);
        check("net/netspec/sub/x.c", true);
        check("net/netspecx/core.c", false);
        check("include/uapi/linux/netspec.h", true);
        check("include/uapi/linux/netspec2.h", false);
        check("Documentation/netspec.rst", true);
        check("Documentation/a/netspec.rst", false);
    }

    #[test]
    fn added_files_are_new_files_only() {
        let p = "diff --git a/net/Makefile b/net/Makefile\nindex 1..2 100644\ndiff --git a/net/netspec/core.c b/net/netspec/core.c\nnew file mode 100644\n";
        assert_eq!(added_files(p), vec!["net/netspec/core.c".to_string()]);
    }
}
