//! `cargo xtask gen`: files derived from one description: the syscall wiring
//! of every architecture's table, from `kernel-syscalls.toml`, and the
//! build-time instantiations of the specialized send paths, from
//! `kernel-variants.toml`.

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::base::{self, Base};
use crate::project;
use crate::tree::BASE_TAG;
use crate::{Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Wire the syscalls of kernel-syscalls.toml into each table of the tree
    /// (rewriting the wiring commit in place), or check that the series' wiring is current.
    Syscalls {
        #[arg(long, default_value = "all")]
        base: String,
        /// Only check that patches/<base>/ carries exactly the generated wiring.
        #[arg(long)]
        check: bool,
        /// Print the table edits instead of committing them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the instantiation headers of kernel-variants.toml into the
    /// tree (uncommitted: commit them into the patch that owns them), or
    /// check that the series carries the generated ones.
    Variants {
        #[arg(long, default_value = "all")]
        base: String,
        /// Only check that patches/<base>/ carries exactly the generated headers.
        #[arg(long)]
        check: bool,
    },
}

/// The wiring commit's author date is fixed, so regenerating it is byte-stable.
const WIRING_DATE: &str = "2026-11-23T12:00:02Z";

pub fn run(args: Args) -> anyhow::Result<()> {
    let (base, check, dry_run) = match args.what {
        What::Syscalls { base, check, dry_run } => (base, check, dry_run),
        What::Variants { base, check } => return run_variants(&base, check),
    };
    let sh = project::shell()?;
    let spec = load_spec()?;
    let mut problems = Vec::new();
    for base in base::select(&base).stage(Stage::Usage)? {
        if check {
            crate::series::require_series(base.name)?;
            let patches = crate::series::listed_patches(base.name)?;
            crate::tree::ensure_imported(&sh, base, false)?;
            crate::series::simulate(&sh, base, &project::patches_dir(base.name), &patches, false)?;
            let found = check_wiring(&sh, base)?;
            println!("gen syscalls --check {}: {}", base.name, if found.is_empty() { "current" } else { "STALE" });
            problems.extend(found);
        } else if dry_run {
            let tree = crate::tree::ensure(&sh, base, None, false, false)?;
            for (path, orig, new) in generated(&spec, base, |p| Ok(sh.read_file(tree.join(p))?))? {
                let diff = similar::TextDiff::from_lines(&orig, &new);
                print!("{}", diff.unified_diff().context_radius(2).header(&path, &path));
            }
        } else {
            crate::tree::ensure(&sh, base, None, false, false)?;
            write_wiring(&sh, base, &spec)?;
            println!("next: cargo xtask series export --base {}", base.name);
        }
    }
    if !problems.is_empty() {
        return Err(anyhow::anyhow!("{}", problems.join("\n"))).stage(Stage::Patch);
    }
    Ok(())
}

pub fn load_spec() -> anyhow::Result<syscalls::Spec> {
    let path = project::root().join("kernel-syscalls.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    syscalls::parse_spec(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())).stage(Stage::Usage)
}

/// The new contents of every table file of `base`, given a reader of the original.
fn generated(
    spec: &syscalls::Spec,
    base: &Base,
    mut original: impl FnMut(&str) -> anyhow::Result<String>,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for table in spec.tables_for(base.name) {
        let path = table.path.clone();
        let orig = original(&path)?;
        let new = syscalls::generate(spec, table, &orig)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("generating {path} for {}", base.name))?;
        out.push((path, orig, new));
    }
    Ok(out)
}

/// Writes the wiring into the tree as the last commit of the series: an
/// existing wiring commit is dropped (nothing else touches the tables, so the
/// commits after it replay cleanly) and the wiring committed on top, so that
/// no table names a system call before the patch that defines it.
pub fn write_wiring(sh: &Shell, base: &Base, spec: &syscalls::Spec) -> anyhow::Result<()> {
    let tree = project::tree_dir(base.name);
    let _dir = sh.push_dir(&tree);
    if !cmd!(sh, "git status --porcelain --untracked-files=no").read()?.is_empty() {
        bail!("{} has uncommitted changes; commit or discard them first", tree.display());
    }
    let subject = &spec.commit.subject;
    let log = cmd!(sh, "git log --format=%H%x09%s {BASE_TAG}..HEAD").read()?;
    let existing = log.lines().find_map(|l| l.split_once('\t').filter(|(_, s)| s == subject).map(|(h, _)| h.to_string()));
    let branch = crate::tree::BRANCH;
    if let Some(w) = &existing {
        cmd!(sh, "git rebase -q --onto {w}^ {w} {branch}").run().context("dropping the old wiring commit")?;
    }
    let files = generated(spec, base, |p| Ok(sh.read_file(tree.join(p))?))?;
    let mut changed = false;
    for (path, orig, new) in &files {
        if orig != new {
            sh.write_file(tree.join(path), new)?;
            changed = true;
        }
    }
    if !changed {
        println!("{}: the tables already carry the wiring", base.name);
        return Ok(());
    }
    let message = format!("{}\n\n{}\n\nSigned-off-by: {}\n", subject, spec.commit.body.trim(), project::IDENTITY);
    let _date = [sh.push_env("GIT_AUTHOR_DATE", WIRING_DATE), sh.push_env("GIT_COMMITTER_DATE", WIRING_DATE)];
    cmd!(sh, "git commit -q -a -m {message}").quiet().run()?;
    let verb = if existing.is_some() { "rewrote" } else { "committed" };
    println!("{verb} the wiring for {} as the last commit ({} table file(s))", base.name, files.len());
    Ok(())
}

/// After `series::simulate` filled the scratch index with the whole series:
/// every table file must be exactly what the generator makes of the base's.
pub fn check_wiring(sh: &Shell, base: &Base) -> anyhow::Result<Vec<String>> {
    let spec = load_spec()?;
    let tree = project::tree_dir(base.name);
    let index = crate::series::scratch_index(base.name);
    let _dir = sh.push_dir(&tree);
    let files = generated(&spec, base, |p| Ok(cmd!(sh, "git show {BASE_TAG}:{p}").quiet().read()?))?;
    let _env = sh.push_env("GIT_INDEX_FILE", &index);
    let mut problems = Vec::new();
    for (path, _, want) in files {
        let have = cmd!(sh, "git show :{path}").quiet().read()?;
        if let Some(diff) = stale_diff(&have, &want) {
            problems.push(format!(
                "{path}: the series' syscall wiring is stale for {}; run cargo xtask gen syscalls --base {} and export\n{diff}",
                base.name, base.name
            ));
        }
    }
    Ok(problems)
}

/// The diff from the series' copy of a generated file to the generator's
/// output, or None if they agree. `read` trims the trailing newline, so both
/// are compared trimmed.
fn stale_diff(have: &str, want: &str) -> Option<String> {
    if have.trim_end() == want.trim_end() {
        return None;
    }
    Some(
        similar::TextDiff::from_lines(have.trim_end(), want.trim_end())
            .unified_diff()
            .header("series", "generated")
            .to_string(),
    )
}

pub fn load_variants() -> anyhow::Result<variants::Spec> {
    let path = project::root().join("kernel-variants.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    variants::parse_spec(&text).map_err(|e| anyhow::anyhow!("{e}")).stage(Stage::Usage)
}

fn run_variants(base: &str, check: bool) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let spec = load_variants()?;
    let mut problems = Vec::new();
    for base in base::select(base).stage(Stage::Usage)? {
        if check {
            crate::series::require_series(base.name)?;
            let patches = crate::series::listed_patches(base.name)?;
            crate::tree::ensure_imported(&sh, base, false)?;
            crate::series::simulate(&sh, base, &project::patches_dir(base.name), &patches, false)?;
            let found = check_variants(&sh, base)?;
            println!("gen variants --check {}: {}", base.name, if found.is_empty() { "current" } else { "STALE" });
            problems.extend(found);
            continue;
        }
        let tree = crate::tree::ensure(&sh, base, None, false, false)?;
        for path in &spec.paths {
            let file = tree.join(&path.header);
            let text = variants::generate(path);
            if sh.read_file(&file).ok().as_deref() == Some(text.as_str()) {
                println!("{}: {} is current", base.name, path.header);
            } else {
                sh.write_file(&file, text)?;
                println!("{}: wrote {}; commit it into the patch that owns it", base.name, path.header);
            }
        }
    }
    if !problems.is_empty() {
        return Err(anyhow::anyhow!("{}", problems.join("\n"))).stage(Stage::Patch);
    }
    Ok(())
}

/// After `series::simulate` filled the scratch index with the whole series:
/// every generated header must be exactly the generator's output.
pub fn check_variants(sh: &Shell, base: &Base) -> anyhow::Result<Vec<String>> {
    let spec = load_variants()?;
    let tree = project::tree_dir(base.name);
    let index = crate::series::scratch_index(base.name);
    let _dir = sh.push_dir(&tree);
    let _env = sh.push_env("GIT_INDEX_FILE", &index);
    let mut problems = Vec::new();
    for path in &spec.paths {
        let header = &path.header;
        let want = variants::generate(path);
        match cmd!(sh, "git show :{header}").quiet().ignore_stderr().read() {
            Ok(have) => {
                if let Some(diff) = stale_diff(&have, &want) {
                    problems.push(format!(
                        "{header}: the series' copy is stale for {}; run cargo xtask gen variants --base {} and commit it\n{diff}",
                        base.name, base.name
                    ));
                }
            }
            Err(_) => problems.push(format!(
                "{header}: no patch of patches/{}/ adds it (cargo xtask gen variants --base {})",
                base.name, base.name
            )),
        }
    }
    Ok(problems)
}
