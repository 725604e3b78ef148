//! Moving the series onto a new base commit, commit by commit, in git's
//! object database: each commit's diff is applied to a scratch index
//! (exactly, or merged three-way from the blobs the commit records), judged
//! ([`::series::Pick`]) and committed with its author, date and message; the
//! syscall wiring is generated for the base instead of rebased. The work tree
//! changes only at the end, or at the first conflict, which is left as a
//! `git cherry-pick` in progress for a person to resolve. The commits after
//! a conflict are still tried (on top of the merge, conflict markers and
//! all), so the report predicts them. While a conflict waits, the state is
//! kept in `.git/netspec-replay.json` in the tree (`--continue`, `--abort`).
//!
//! `series update` (a new point release of the same base, imported on top of
//! the old one) and `series refresh` (another base's series) both run this.

use std::path::{Path, PathBuf};

use ::series::{ConflictFile, Pick, ReplayRow, ReplayView};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use xshell::{cmd, Shell};

use crate::base::{self, Base};
use crate::project;
use crate::tree::{BASE_TAG, BRANCH};
use crate::{Stage, StageExt};

/// One commit of the series being moved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub commit: String,
    /// Its position in the series being moved, `0003`.
    pub number: String,
    pub subject: String,
    /// The generated syscall wiring: made anew, not rebased.
    pub wiring: bool,
}

/// A move in progress, kept in the tree while a conflict waits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// `update` or `refresh`: the verb that continues it.
    pub verb: String,
    pub base: String,
    /// The report's title, e.g. `update 6.12: Linux 6.12.95 -> Linux 6.12.118 (...)`.
    pub title: String,
    /// The base the series moves onto, e.g. `Linux 6.12.118`.
    pub base_version: String,
    /// Where the branch was before, for `--abort`.
    pub old_head: String,
    /// Where the base tag was before (update only), for `--abort`.
    pub old_base: Option<String>,
    /// The tag the update made to keep the old base, deleted by `--abort`.
    pub created_tag: Option<String>,
    pub commits: Vec<Source>,
    /// What happened to each commit before `next`.
    pub rows: Vec<ReplayRow>,
    pub next: usize,
    /// The commit a person is resolving, and its conflicts.
    pub stopped: Option<(usize, Vec<ConflictFile>)>,
}

pub fn state_path(base: &str) -> PathBuf {
    project::tree_dir(base).join(".git").join("netspec-replay.json")
}

/// What to say when a move of `base` is waiting for a person.
pub fn in_progress(base: &Base) -> Option<String> {
    let text = std::fs::read_to_string(state_path(base.name)).ok()?;
    let verb = serde_json::from_str::<State>(&text).map(|s| s.verb).unwrap_or_else(|_| "update".into());
    Some(format!(
        "a series {verb} of {b} is in progress in {}: finish it with\n  cargo xtask series {verb} --base {b} --continue\n\
         or undo it with\n  cargo xtask series {verb} --base {b} --abort",
        project::tree_dir(base.name).display(),
        b = base.name
    ))
}

pub fn load(base: &Base) -> anyhow::Result<State> {
    let path = state_path(base.name);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no series update or refresh of {} is in progress ({} is missing)", base.name, path.display()))
        .stage(Stage::Usage)?;
    serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
}

fn save(state: &State) -> anyhow::Result<()> {
    let path = state_path(&state.base);
    std::fs::write(&path, serde_json::to_string_pretty(state)?).with_context(|| format!("writing {}", path.display()))
}

/// The commits `from..to` of the tree, oldest first, the wiring marked.
pub fn sources(sh: &Shell, tree: &Path, from: &str, to: &str) -> anyhow::Result<Vec<Source>> {
    let spec = crate::gen::load_spec()?;
    let _dir = sh.push_dir(tree);
    let log = cmd!(sh, "git log --reverse --format=%H%x09%s {from}..{to}").read()?;
    Ok(log
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .enumerate()
        .map(|(i, (commit, subject))| Source {
            commit: commit.into(),
            number: format!("{:04}", i + 1),
            subject: subject.into(),
            wiring: subject == spec.commit.subject,
        })
        .collect())
}

fn work_dir(base: &str) -> PathBuf {
    project::target().join("tmp").join(format!("replay-{base}"))
}

/// Runs git with the project identity as committer.
fn git_id<'a>(sh: &'a Shell) -> xshell::Cmd<'a> {
    let (n, e) = (project::IDENTITY_NAME, project::IDENTITY_EMAIL);
    cmd!(sh, "git -c user.name={n} -c user.email={e}")
}

/// Applies `patch` to the scratch index the shell's GIT_INDEX_FILE names
/// and judges it; a conflict leaves each conflicted file merged with its
/// conflict markers, so later patches can still be tried.
fn apply_one(sh: &Shell, work: &Path, patch: &Path, ours_label: &str) -> anyhow::Result<Pick> {
    let plain = cmd!(sh, "git apply --cached --check -v {patch}").ignore_status().quiet().output()?;
    let plain_err = String::from_utf8_lossy(&plain.stderr).into_owned();
    if plain.status.success() {
        cmd!(sh, "git apply --cached {patch}").quiet().run()?;
        return Ok(::series::pick_applied(&plain_err));
    }
    if cmd!(sh, "git apply --cached --check -R {patch}").quiet().ignore_stderr().run().is_ok() {
        return Ok(Pick::Absorbed);
    }
    let three = cmd!(sh, "git apply --cached -3 {patch}").ignore_status().quiet().output()?;
    if three.status.success() {
        return Ok(::series::pick_three_way(&plain_err));
    }
    let unmerged = ::series::parse_unmerged(&cmd!(sh, "git ls-files -u").read()?);
    if unmerged.is_empty() {
        return Ok(Pick::Conflict(::series::conflicts_from_errors(&String::from_utf8_lossy(&three.stderr))));
    }
    let mut files = Vec::new();
    for u in unmerged {
        let path = u.path.clone();
        let mut file = ConflictFile { path: path.clone(), hunks: Vec::new(), note: u.note() };
        cmd!(sh, "git update-index --force-remove {path}").quiet().run()?;
        let (mode, object) = match (&u.ours, &u.theirs) {
            (Some(ours), Some(theirs)) => {
                let blob = |e: Option<&::series::StageEntry>, name: &str| -> anyhow::Result<PathBuf> {
                    let p = work.join(name);
                    let bytes = match e {
                        Some(e) => {
                            let o = &e.object;
                            cmd!(sh, "git cat-file blob {o}").quiet().output()?.stdout
                        }
                        None => Vec::new(),
                    };
                    std::fs::write(&p, bytes)?;
                    Ok(p)
                };
                let (o, b, t) = (blob(Some(ours), "ours")?, blob(u.base.as_ref(), "base")?, blob(Some(theirs), "theirs")?);
                let merged = cmd!(sh, "git merge-file -p -L {ours_label} -L preimage -L patch {o} {b} {t}")
                    .ignore_status()
                    .quiet()
                    .output()?
                    .stdout;
                file.hunks = ::series::conflict_hunks(&String::from_utf8_lossy(&merged));
                let m = work.join("merged");
                std::fs::write(&m, &merged)?;
                let object = cmd!(sh, "git hash-object -w {m}").read()?;
                (ours.mode.clone(), Some(object))
            }
            (None, Some(theirs)) => (theirs.mode.clone(), Some(theirs.object.clone())),
            (Some(ours), None) => (ours.mode.clone(), Some(ours.object.clone())),
            (None, None) => (String::new(), None),
        };
        if let Some(object) = object {
            let info = format!("{mode},{object},{path}");
            cmd!(sh, "git update-index --add --cacheinfo {info}").quiet().run()?;
        }
        files.push(file);
    }
    Ok(Pick::Conflict(files))
}

/// Where the replay of the remaining commits got to.
struct Progress {
    /// The last commit made.
    head: String,
    /// The first conflict: its index and what git found.
    stop: Option<(usize, Vec<ConflictFile>)>,
    /// What git predicts for the commits after the stop.
    predicted: Vec<ReplayRow>,
}

/// Replays `state.commits[state.next..]` onto `head` in the object database,
/// pushing a row per commit until the first conflict, and predicting the rest.
fn replay_from(sh: &Shell, state: &mut State, mut head: String) -> anyhow::Result<Progress> {
    let tree = project::tree_dir(&state.base);
    let work = work_dir(&state.base);
    if work.exists() {
        sh.remove_path(&work)?;
    }
    sh.create_dir(&work)?;
    let index = work.join("index");
    let patch = work.join("patch.diff");
    let _dir = sh.push_dir(&tree);
    let _env = sh.push_env("GIT_INDEX_FILE", &index);
    cmd!(sh, "git read-tree {head}").quiet().run()?;
    let head_tree = format!("{head}^{{tree}}");
    let mut tree_now = cmd!(sh, "git rev-parse {head_tree}").quiet().read()?;
    let mut stop: Option<(usize, Vec<ConflictFile>)> = None;
    let mut predicted = Vec::new();
    for i in state.next..state.commits.len() {
        let source = state.commits[i].clone();
        if source.wiring {
            continue;
        }
        let c = &source.commit;
        let diff = cmd!(sh, "git diff --full-index --binary {c}^ {c}").quiet().output()?.stdout;
        std::fs::write(&patch, diff)?;
        let mut pick = apply_one(sh, &work, &patch, &state.base_version)?;
        let written = cmd!(sh, "git write-tree").quiet().read();
        let unchanged = written.as_ref().is_ok_and(|t| *t == tree_now);
        if unchanged && matches!(pick, Pick::Clean | Pick::Merged { .. }) {
            pick = Pick::Absorbed;
        }
        let row = ReplayRow { number: source.number.clone(), subject: source.subject.clone(), pick, predicted: stop.is_some() };
        if stop.is_some() {
            predicted.push(row);
        } else if let Pick::Conflict(files) = &row.pick {
            stop = Some((i, files.clone()));
        } else {
            if !matches!(row.pick, Pick::Absorbed) {
                let t = written.as_deref().map_err(|e| anyhow::anyhow!("{e}"))?;
                head = commit_like(sh, &work, c, t, &head)?;
            }
            state.rows.push(row);
            state.next = i + 1;
        }
        if let Ok(t) = written {
            tree_now = t;
        }
    }
    Ok(Progress { head, stop, predicted })
}

/// A commit of `tree` on `parent` with `like`'s author, date and message,
/// committed by the project on the author date (as `git am --committer-date-is-author-date`).
fn commit_like(sh: &Shell, work: &Path, like: &str, tree: &str, parent: &str) -> anyhow::Result<String> {
    let who = cmd!(sh, "git log -1 --format=%an%x00%ae%x00%ad --date=raw {like}").read()?;
    let mut who = who.split('\0');
    let (name, email, date) = (who.next().unwrap_or(""), who.next().unwrap_or(""), who.next().unwrap_or(""));
    let message = cmd!(sh, "git log -1 --format=%B {like}").quiet().output()?.stdout;
    let msg_file = work.join("message");
    std::fs::write(&msg_file, message)?;
    let _env = [
        sh.push_env("GIT_AUTHOR_NAME", name),
        sh.push_env("GIT_AUTHOR_EMAIL", email),
        sh.push_env("GIT_AUTHOR_DATE", date),
        sh.push_env("GIT_COMMITTER_NAME", project::IDENTITY_NAME),
        sh.push_env("GIT_COMMITTER_EMAIL", project::IDENTITY_EMAIL),
        sh.push_env("GIT_COMMITTER_DATE", date),
    ];
    Ok(cmd!(sh, "git commit-tree {tree} -p {parent} -F {msg_file}").read()?)
}

/// The row of the generated wiring.
fn wiring_row(state: &State, predicted: bool) -> anyhow::Result<ReplayRow> {
    let spec = crate::gen::load_spec()?;
    let number = match state.commits.iter().find(|s| s.wiring) {
        Some(s) => s.number.clone(),
        None => format!("{:04}", state.commits.len() + 1),
    };
    Ok(ReplayRow { number, subject: spec.commit.subject, pick: Pick::Generated, predicted })
}

fn render(state: &State, rows: Vec<ReplayRow>, next: Vec<String>) -> String {
    let tree = project::tree_dir(&state.base);
    ::series::render_replay(&ReplayView {
        title: state.title.clone(),
        tree: tree.strip_prefix(project::root()).unwrap_or(&tree).display().to_string(),
        base_version: state.base_version.clone(),
        rows,
        next,
    })
}

/// Replays what is left of `state` onto `head`: to the end (then the
/// wiring, the export and the report), or to a conflict (then the cherry-pick
/// for a person, the saved state and the report, and a patch-stage error).
pub fn run(sh: &Shell, base: &Base, mut state: State, mut head: String) -> anyhow::Result<()> {
    let tree = project::tree_dir(base.name);
    let rel = tree.strip_prefix(project::root()).unwrap_or(&tree).display().to_string();
    loop {
        let progress = replay_from(sh, &mut state, head.clone())?;
        let _dir = sh.push_dir(&tree);
        let new_head = &progress.head;
        cmd!(sh, "git checkout -q -f -B {BRANCH} {new_head}").quiet().run()?;
        let Some((k, files)) = progress.stop else {
            crate::gen::write_wiring(sh, base, &crate::gen::load_spec()?)?;
            let mut rows = state.rows.clone();
            rows.push(wiring_row(&state, false)?);
            let _ = std::fs::remove_file(state_path(base.name));
            print!("{}", render(&state, rows, vec![format!("cargo xtask series check --base {}", base.name)]));
            println!("exporting patches/{}/:", base.name);
            return super::export(base.name, false);
        };
        let source = state.commits[k].clone();
        let c = &source.commit;
        let picked = git_id(sh).args(["cherry-pick", c.as_str()]).quiet().ignore_stdout().ignore_stderr().run();
        if picked.is_ok() {
            // The merge machinery of cherry-pick (ort, with rename detection) did what apply --3way could not.
            let three_way = files.iter().map(|f| f.path.clone()).collect();
            let row = ReplayRow { number: source.number, subject: source.subject, pick: Pick::Merged { moved: vec![], three_way }, predicted: false };
            state.rows.push(row);
            state.next = k + 1;
            head = cmd!(sh, "git rev-parse HEAD").read()?;
            continue;
        }
        let unmerged = ::series::parse_unmerged(&cmd!(sh, "git ls-files -u").read()?);
        if unmerged.is_empty() {
            let _ = cmd!(sh, "git cherry-pick --abort").quiet().ignore_stderr().run();
            bail!("git cherry-pick {c} failed without a conflict to resolve; see git -C {rel} status");
        }
        let files: Vec<ConflictFile> = unmerged
            .iter()
            .map(|u| ConflictFile {
                path: u.path.clone(),
                hunks: std::fs::read(tree.join(&u.path))
                    .map(|b| ::series::conflict_hunks(&String::from_utf8_lossy(&b)))
                    .unwrap_or_default(),
                note: u.note(),
            })
            .collect();
        state.next = k + 1;
        state.stopped = Some((k, files.clone()));
        save(&state)?;
        let mut rows = state.rows.clone();
        rows.push(ReplayRow { number: source.number.clone(), subject: source.subject.clone(), pick: Pick::Conflict(files.clone()), predicted: false });
        rows.extend(progress.predicted);
        rows.push(wiring_row(&state, true)?);
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        let (verb, b) = (&state.verb, base.name);
        // -f: Debian's linux-source .gitignore ignores the whole top level.
        let next = vec![
            format!("resolve the conflicts in {rel} (git -C {rel} diff), then"),
            format!("git -C {rel} add -f {}", paths.join(" ")),
            format!("cargo xtask series {verb} --base {b} --continue   (it commits the resolution, as git cherry-pick --continue would)"),
            format!("(or undo all of it: cargo xtask series {verb} --base {b} --abort)"),
        ];
        print!("{}", render(&state, rows, next));
        return Err(anyhow::anyhow!("{} {} conflicts in {}", source.number, source.subject, paths.join(", ")))
            .context(format!("series {verb} of {b} stopped for a person: resolve, then --continue"))
            .stage(Stage::Patch);
    }
}

/// `--continue`: takes the person's resolution (finishing the cherry-pick if
/// they have not) and replays the rest.
pub fn resume(sh: &Shell, base: &Base) -> anyhow::Result<()> {
    let mut state = load(base)?;
    let tree = project::tree_dir(base.name);
    let rel = tree.strip_prefix(project::root()).unwrap_or(&tree).display().to_string();
    let Some((k, files)) = state.stopped.take() else {
        bail!("the {} of {} is not waiting for a resolution; run it again with --abort", state.verb, base.name);
    };
    let source = state.commits[k].clone();
    let _dir = sh.push_dir(&tree);
    let picking = cmd!(sh, "git rev-parse -q --verify CHERRY_PICK_HEAD").quiet().ignore_stdout().run().is_ok();
    let mut pick = Pick::Resolved(files);
    if picking {
        let left = ::series::parse_unmerged(&cmd!(sh, "git ls-files -u").read()?);
        if !left.is_empty() {
            let paths: Vec<&str> = left.iter().map(|u| u.path.as_str()).collect();
            return Err(anyhow::anyhow!(
                "{} still unmerged in {rel}: resolve, git -C {rel} add -f {}, then run this again",
                paths.join(", "),
                paths.join(" ")
            ))
            .stage(Stage::Patch);
        }
        if cmd!(sh, "git diff --cached --quiet HEAD").quiet().run().is_ok() {
            // Resolved to nothing: the base has the change after all.
            cmd!(sh, "git cherry-pick --skip").quiet().run()?;
            pick = Pick::Absorbed;
        } else {
            git_id(sh).args(["-c", "core.editor=true", "cherry-pick", "--continue"]).quiet().ignore_stdout().run()?;
        }
    } else {
        let subject = cmd!(sh, "git log -1 --format=%s HEAD").read()?;
        if subject != source.subject {
            bail!(
                "HEAD of {rel} is not {} {}: finish its cherry-pick (git -C {rel} cherry-pick {}) or undo: cargo xtask series {} --base {} --abort",
                source.number, source.subject, source.commit, state.verb, base.name
            );
        }
    }
    if !cmd!(sh, "git status --porcelain --untracked-files=no").read()?.is_empty() {
        bail!("{rel} has uncommitted changes after the resolution; commit or discard them, then run this again");
    }
    state.rows.push(ReplayRow { number: source.number, subject: source.subject, pick, predicted: false });
    save(&state)?;
    let head = cmd!(sh, "git rev-parse HEAD").read()?;
    drop(_dir);
    run(sh, base, state, head)
}

/// `--abort`: the branch and the base tag back where they were.
pub fn abort(sh: &Shell, base: &Base) -> anyhow::Result<()> {
    let state = load(base)?;
    let tree = project::tree_dir(base.name);
    let _dir = sh.push_dir(&tree);
    if cmd!(sh, "git rev-parse -q --verify CHERRY_PICK_HEAD").quiet().ignore_stdout().run().is_ok() {
        cmd!(sh, "git cherry-pick --abort").quiet().run()?;
    }
    let old = &state.old_head;
    cmd!(sh, "git checkout -q -f -B {BRANCH} {old}").quiet().run()?;
    if let Some(old_base) = &state.old_base {
        cmd!(sh, "git tag -f {BASE_TAG} {old_base}").quiet().ignore_stdout().run()?;
    }
    if let Some(kept) = &state.created_tag {
        cmd!(sh, "git tag -d {kept}").quiet().ignore_stdout().run()?;
    }
    std::fs::remove_file(state_path(base.name))?;
    println!("undid the {} of {}: {} is back at {}", state.verb, base.name, tree.display(), base::tree_version(base, &tree)?);
    Ok(())
}
