//! `cargo xtask nix-check`: what can be checked of the Nix flake without nixpkgs.
//!
//! Every `.nix` file must parse (`nix-instantiate --parse`), and `nix/check.nix`,
//! which evaluates `nix/lib.nix` with builtins alone, must give what this tool
//! reads from the same files: the series of each base, every config fragment,
//! the merge order per arch and profile, the per-arch facts of `arch.rs`, the
//! guest flags, the QEMU command lines and the suites.
//! Then, only where tools/nix-chroot.sh made a Nix >= 2.18 with nixpkgs' real
//! lib (else it says it skipped), `nix/platform-check.nix`: every arch's
//! platform elaborates to a system in `lib.platforms.linux` with arch.rs's
//! Linux arch, and `nix flake lock --offline --no-update-lock-file`: Nix's
//! own verdict that flake.lock pins every input of flake.nix.  flake.lock
//! is also compared with flake.nix's inputs everywhere, without that Nix.
//! With that Nix too, the flake is evaluated against nixpkgs' lib and a
//! stand-in for its package set (nix/standin/, the `standin` module):
//! `nix flake check --no-build --all-systems` and more.  What needs nixpkgs
//! itself (the builds, the VM checks, the NixOS test) only a networked Nix
//! checks: `nix flake check`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{json, Value};
use xshell::{cmd, Shell};

use crate::arch::{Arch, RunEnd, ARCHES};
use crate::kernel::{self, Profile};
use crate::{base, project};
use crate::{Stage, StageExt};

mod standin;

/// The base the flake builds (nix/kernel.nix); base-specific fragments follow it.
const FLAKE_BASE: &str = "6.12";

#[derive(clap::Args)]
pub struct Args {
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

/// The evaluation writes nothing to the store: a dummy store keeps it so,
/// and lets it run without a Nix daemon or a writable /nix.
const STORE: &str = "dummy://";
const CHECK: &str = "nix/check.nix";
const PROFILES: [Profile; 2] = [Profile::Test, Profile::Bench];
const PLATFORM_CHECK: &str = "nix/platform-check.nix";
const LOCK: &str = "flake.lock";
/// Where tools/nix-chroot.sh puts its Nix and nixpkgs' lib, unless
/// `NETSPEC_NIX_ROOT` says otherwise.
const NIX_ROOT: &str = "/srv/netspec-nix";

pub fn run(args: Args) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let files = nix_files()?;
    if args.dry_run {
        for f in &files {
            println!("would run: nix-instantiate --parse {}", f.display());
        }
        println!("would run: nix-instantiate --eval --strict --json --store {STORE} {CHECK}");
        println!("would compare {LOCK} with flake.nix's inputs (nix-instantiate --eval -E '(import flake.nix).inputs')");
        let nix = NixRoot::find();
        match nix.missing() {
            None => println!(
                "would run: {} flake lock --offline --no-update-lock-file (on a copy of flake.nix and {LOCK})",
                nix.nix().display()
            ),
            Some(_) => println!("would skip Nix's own check of {LOCK}"),
        }
        match nix.missing() {
            None => println!(
                "would run: {} {}",
                nix.nix_instantiate().display(),
                nix.platform_check_args()
                    .iter()
                    .map(|a| if a.contains([' ', '<']) { format!("'{a}'") } else { a.clone() })
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Some(why) => println!("would skip {PLATFORM_CHECK}: {why}"),
        }
        match nix.missing() {
            None => println!(
                "would run: {} flake check --no-build --all-systems --override-input nixpkgs <nix/standin with nixpkgs' lib>, \
                 then nix eval of every drvPath, of nixosModules.default and of armv4's old crossSystem",
                nix.nix().display()
            ),
            Some(_) => println!("would skip the flake's evaluation against nix/standin"),
        }
        return Ok(());
    }
    let version = cmd!(sh, "nix-instantiate --version")
        .quiet()
        .read()
        .context("running nix-instantiate --version; install Nix (sudo tools/bootstrap.sh)")
        .stage(Stage::Boot)?;

    let mut unparsed = Vec::new();
    for f in &files {
        let out = cmd!(sh, "nix-instantiate --parse {f}").quiet().ignore_status().output()?;
        if !out.status.success() {
            unparsed.push(format!("{}:\n{}", rel(f), String::from_utf8_lossy(&out.stderr).trim()));
        }
    }
    if !unparsed.is_empty() {
        return Err(anyhow::anyhow!("{}", unparsed.join("\n")))
            .context(format!("{} of {} .nix file(s) do not parse", unparsed.len(), files.len()))
            .stage(Stage::Test);
    }

    let got = eval_check(&sh)?;
    let (want, mut problems) = expected()?;
    for key in sections(&want, &got) {
        let (w, g) = (pretty(want.get(&key)), pretty(got.get(&key)));
        if w != g {
            let diff = similar::TextDiff::from_lines(&w, &g)
                .unified_diff()
                .header("the files, as cargo xtask reads them", CHECK)
                .to_string();
            problems.push(format!("`{key}` differs:\n{diff}"));
        }
    }
    if !problems.is_empty() {
        return Err(anyhow::anyhow!("{}", problems.join("\n")))
            .context(format!(
                "{CHECK} does not match the files: fix nix/lib.nix (or the Rust side) so both read them alike"
            ))
            .stage(Stage::Test);
    }
    println!(
        "nix-check: {} .nix file(s) parse; {CHECK} matches the files ({} sections; {})",
        files.len(),
        want.as_object().map_or(0, |o| o.len()),
        version.trim()
    );
    let inputs = eval_inputs(&sh)?;
    let lock = std::fs::read_to_string(project::root().join(LOCK)).context(format!("reading {LOCK}"))?;
    let pins = lock_matches(&inputs, &lock)
        .map_err(|problems| anyhow::anyhow!("{}", problems.join("\n")))
        .context(format!("{LOCK} does not lock flake.nix's inputs; run `nix flake lock` on a networked Nix"))
        .stage(Stage::Test)?;
    println!("nix-check: {LOCK} locks every input of flake.nix ({})", pins.join(", "));
    let nix = NixRoot::find();
    match nix.missing() {
        None => {
            println!("nix-check: {}", platform_check(&sh, &nix)?);
            println!("nix-check: {}", lock_check(&sh, &nix)?);
            let series: Vec<String> = want["patches"][FLAKE_BASE]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p["name"].as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            for line in standin::check(&sh, &nix, &series)? {
                println!("nix-check: {line}");
            }
        }
        Some(why) => println!(
            "nix-check: skipped {PLATFORM_CHECK}, Nix's own check of {LOCK} and the flake's evaluation against \
             nix/standin: {why}"
        ),
    }
    Ok(())
}

/// `(import ./flake.nix).inputs`, as Nix reads them.
fn eval_inputs(sh: &Shell) -> anyhow::Result<Value> {
    let flake = project::root().join("flake.nix");
    let expr = format!("(import {}).inputs", flake.display());
    let out = cmd!(sh, "nix-instantiate --eval --strict --json --store {STORE} -E {expr}")
        .quiet()
        .ignore_status()
        .output()?;
    if !out.status.success() {
        return Err(anyhow::anyhow!("{}", String::from_utf8_lossy(&out.stderr).trim()))
            .context("reading flake.nix's inputs")
            .stage(Stage::Test);
    }
    serde_json::from_slice(&out.stdout).context("flake.nix's inputs as JSON").stage(Stage::Test)
}

/// The `original` a flake.lock node records for a `github:OWNER/REPO[/REF]`
/// input URL, or None for another kind of URL.
fn github_original(url: &str) -> Option<Value> {
    let rest = url.strip_prefix("github:")?;
    let mut parts = rest.splitn(3, '/');
    let (owner, repo, reference) = (parts.next()?, parts.next()?, parts.next());
    let mut o = json!({ "type": "github", "owner": owner, "repo": repo });
    if let Some(r) = reference {
        o["ref"] = json!(r);
    }
    Some(o)
}

/// Whether @lock (flake.lock's text) locks exactly the @inputs of flake.nix,
/// each at a full revision with a NAR hash, as `nix flake lock` writes it:
/// the pins (`name rev date`), or the problems.
fn lock_matches(inputs: &Value, lock: &str) -> Result<Vec<String>, Vec<String>> {
    let lock: Value = serde_json::from_str(lock).map_err(|e| vec![format!("not JSON: {e}")])?;
    let mut problems = Vec::new();
    if lock["version"] != json!(7) {
        problems.push(format!("version {}, where Nix 2.26 writes 7", lock["version"]));
    }
    let root = lock["root"].as_str().unwrap_or("");
    let locked_inputs = lock["nodes"][root]["inputs"].as_object().cloned().unwrap_or_default();
    let wanted = inputs.as_object().cloned().unwrap_or_default();
    let mut pins = Vec::new();
    for name in wanted.keys().filter(|k| !locked_inputs.contains_key(*k)) {
        problems.push(format!("input `{name}` is not locked"));
    }
    for (name, node_name) in &locked_inputs {
        let Some(input) = wanted.get(name) else {
            problems.push(format!("`{name}` is locked but flake.nix has no such input"));
            continue;
        };
        let node = &lock["nodes"][node_name.as_str().unwrap_or("")];
        let url = input["url"].as_str().unwrap_or("");
        match github_original(url) {
            Some(o) if node["original"] == o => {}
            Some(o) => problems.push(format!("`{name}`: flake.nix says {o}, the lock {}", node["original"])),
            None => problems.push(format!("`{name}`: {url:?} is not a github: URL, which this check reads")),
        }
        let locked = &node["locked"];
        let rev = locked["rev"].as_str().unwrap_or("");
        if rev.len() != 40 || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.push(format!("`{name}`: rev {rev:?} is not a full commit id"));
        }
        let hash = locked["narHash"].as_str().unwrap_or("");
        if !(hash.len() == 51 && hash.starts_with("sha256-") && hash.ends_with('=')) {
            problems.push(format!("`{name}`: narHash {hash:?} is not a SHA-256 in SRI form"));
        }
        for key in ["owner", "repo"] {
            if locked[key] != node["original"][key] {
                problems.push(format!("`{name}`: locked {key} {} is not the original's", locked[key]));
            }
        }
        match locked["lastModified"].as_i64() {
            Some(t) => pins.push(format!("{name} {} of {}", &rev[..rev.len().min(12)], day(t))),
            None => problems.push(format!("`{name}`: no lastModified")),
        }
    }
    if problems.is_empty() {
        Ok(pins)
    } else {
        Err(problems)
    }
}

/// The UTC day of a Unix time, as YYYY-MM-DD (civil-from-days, H. Hinnant).
fn day(t: i64) -> String {
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Nix's own verdict on the lock: `nix flake lock --no-update-lock-file
/// --offline` on a copy of flake.nix and flake.lock, which fails (it would
/// have to fetch) unless the lock holds every input flake.nix declares.
fn lock_check(sh: &Shell, nix: &NixRoot) -> anyhow::Result<String> {
    let dir = project::root().join("target/nix-lock-check");
    let store = dir.join("store");
    let flake = dir.join("flake");
    let _ = std::fs::remove_dir_all(&flake);
    std::fs::create_dir_all(&flake)?;
    for f in ["flake.nix", LOCK] {
        std::fs::copy(project::root().join(f), flake.join(f)).with_context(|| format!("copying {f}"))?;
    }
    let program = nix.nix();
    let url = format!("path:{}", flake.display());
    let out = cmd!(sh, "{program} --store {store} flake lock --offline --no-update-lock-file {url}")
        .env("NIX_CONFIG", "experimental-features = nix-command flakes\nbuild-users-group =")
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .quiet()
        .ignore_status()
        .output()?;
    if !out.status.success() {
        return Err(anyhow::anyhow!("{}", String::from_utf8_lossy(&out.stderr).trim()))
            .context(format!("{} says {LOCK} does not lock flake.nix", program.display()))
            .stage(Stage::Test);
    }
    Ok(format!("Nix 2.26 takes {LOCK} as it is (`nix flake lock --offline --no-update-lock-file`)"))
}

/// A Nix >= 2.18 and nixpkgs' lib as tools/nix-chroot.sh lays them out.
struct NixRoot {
    dir: PathBuf,
}

impl NixRoot {
    fn find() -> NixRoot {
        let dir = std::env::var_os("NETSPEC_NIX_ROOT").map_or_else(|| PathBuf::from(NIX_ROOT), PathBuf::from);
        NixRoot { dir }
    }
    fn nix_instantiate(&self) -> PathBuf {
        self.dir.join("netspec-nix-instantiate")
    }
    fn nix(&self) -> PathBuf {
        self.dir.join("netspec-nix")
    }
    fn lib(&self) -> PathBuf {
        self.dir.join("opt/nixpkgs-lib/lib")
    }
    /// Why the step cannot run here, or None if it can.
    fn missing(&self) -> Option<String> {
        let (nix, lib) = (self.nix_instantiate(), self.lib());
        let what = if !nix.is_file() {
            nix
        } else if !self.nix().is_file() {
            self.nix()
        } else if !lib.join("default.nix").is_file() {
            lib
        } else {
            return None;
        };
        Some(format!(
            "no {} (a Nix >= 2.18 with nixpkgs' lib; make one with: sudo tools/nix-chroot.sh LIB_TARBALL {}, \
             or set NETSPEC_NIX_ROOT)",
            what.display(),
            self.dir.display()
        ))
    }
    /// nix-instantiate's arguments for nix/platform-check.nix.
    fn platform_check_args(&self) -> Vec<String> {
        [
            "--eval".into(),
            "--strict".into(),
            "--json".into(),
            "--store".into(),
            STORE.into(),
            "-I".into(),
            format!("netspec-lib={}", self.lib().display()),
            "--arg".into(),
            "lib".into(),
            "import <netspec-lib>".into(),
            PLATFORM_CHECK.into(),
        ]
        .into()
    }
}

/// Runs nix/platform-check.nix with the real lib; its summary, or what is wrong.
fn platform_check(sh: &Shell, nix: &NixRoot) -> anyhow::Result<String> {
    let program = nix.nix_instantiate();
    let version = cmd!(sh, "{program} --version")
        .quiet()
        .read()
        .with_context(|| format!("running {}; re-run tools/nix-chroot.sh", program.display()))
        .stage(Stage::Boot)?;
    let args = nix.platform_check_args();
    let out = cmd!(sh, "{program} {args...}").quiet().ignore_status().output()?;
    if !out.status.success() {
        return Err(anyhow::anyhow!("{}", String::from_utf8_lossy(&out.stderr).trim()))
            .context(format!("evaluating {PLATFORM_CHECK} with {} failed", nix.lib().display()))
            .stage(Stage::Test);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{PLATFORM_CHECK} did not print JSON:\n{text}"))
        .stage(Stage::Test)?;
    platform_summary(&value, version.trim())
        .map_err(|problems| anyhow::anyhow!("{}", problems.join("\n")))
        .context(format!("{PLATFORM_CHECK}: nixpkgs would refuse an arch's platform; fix its nixpkgs.example in nix/lib.nix"))
        .stage(Stage::Test)
}

/// The one-line summary of platform-check.nix's output, or its problems.
fn platform_summary(v: &Value, nix_version: &str) -> Result<String, Vec<String>> {
    let problems: Vec<String> = match v.get("problems").and_then(Value::as_array) {
        Some(list) => list.iter().map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string)).collect(),
        None => vec![format!("no `problems` list in {v}")],
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let archs: Vec<String> = v
        .get("archs")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(arch, p)| format!("{arch} {}", p.get("system").and_then(Value::as_str).unwrap_or("?")))
                .collect()
        })
        .unwrap_or_default();
    if archs.is_empty() {
        return Err(vec![format!("no arches in {v}")]);
    }
    let lib = v.get("libVersion").and_then(Value::as_str).unwrap_or("?");
    Ok(format!(
        "{PLATFORM_CHECK}: every platform is in lib.platforms.linux with arch.rs's linuxArch ({}; nixpkgs lib {lib}, {nix_version})",
        archs.join(", ")
    ))
}

/// Every `.nix` file of the repository, outside `target/` and `.git/`, sorted.
fn nix_files() -> anyhow::Result<Vec<PathBuf>> {
    let root = project::root();
    let mut files = Vec::new();
    let walk = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_entry(|e| !(e.depth() == 1 && matches!(e.file_name().to_str(), Some("target" | ".git"))));
    for entry in walk {
        let entry = entry.context("listing the repository's .nix files")?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|x| x == "nix") {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

fn rel(p: &Path) -> String {
    p.strip_prefix(project::root()).unwrap_or(p).display().to_string()
}

/// Evaluates nix/check.nix; a Nix that wants an experimental feature for it
/// gets it once with `--extra-experimental-features`.
fn eval_check(sh: &Shell) -> anyhow::Result<Value> {
    let mut features: Vec<String> = Vec::new();
    loop {
        let extra: Vec<String> = if features.is_empty() {
            Vec::new()
        } else {
            vec!["--extra-experimental-features".into(), features.join(" ")]
        };
        let out = cmd!(sh, "nix-instantiate {extra...} --eval --strict --json --store {STORE} {CHECK}")
            .quiet()
            .ignore_status()
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            return serde_json::from_str(&text)
                .with_context(|| format!("{CHECK} did not print JSON:\n{text}"))
                .stage(Stage::Test);
        }
        match missing_feature(&stderr) {
            Some(f) if !features.contains(&f) => features.push(f),
            _ => {
                return Err(anyhow::anyhow!("{}", stderr.trim()))
                    .context(format!("evaluating {CHECK} failed"))
                    .stage(Stage::Test)
            }
        }
    }
}

/// The feature named by Nix's "experimental Nix feature 'X' is disabled".
fn missing_feature(stderr: &str) -> Option<String> {
    let rest = &stderr[stderr.find("experimental Nix feature '")? + "experimental Nix feature '".len()..];
    let name = &rest[..rest.find('\'')?];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then(|| name.to_string())
}

/// The top-level keys of both values, sorted.
fn sections(want: &Value, got: &Value) -> Vec<String> {
    let mut keys: Vec<String> = [want, got]
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|o| o.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn pretty(v: Option<&Value>) -> String {
    match v {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default() + "\n",
        None => "(missing)\n".into(),
    }
}

/// What nix/check.nix must print, computed from the files by the Rust side,
/// and the problems found on the way (fragments kconfig cannot read).
fn expected() -> anyhow::Result<(Value, Vec<String>)> {
    let root = project::root();
    let mut problems = Vec::new();

    let mut series = serde_json::Map::new();
    let mut patches = serde_json::Map::new();
    for b in base::BASES {
        let dir = project::patches_dir(b.name);
        let path = dir.join("series");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let (parsed, _) = ::series::parse_series(&text);
        series.insert(b.name.into(), json!(parsed.patches));
        let listed: Vec<Value> = parsed
            .patches
            .iter()
            .map(|file| {
                json!({
                    "name": file.strip_suffix(".patch").unwrap_or(file),
                    "file": file,
                    "exists": dir.join(file).is_file(),
                })
            })
            .collect();
        patches.insert(b.name.into(), Value::Array(listed));
    }

    let fragments = read_fragments(&project::configs_dir(), &mut problems)?;
    let nix_only = read_fragments(&root.join("nix"), &mut problems)?;

    let mut order = serde_json::Map::new();
    let mut configs = serde_json::Map::new();
    let mut archs = serde_json::Map::new();
    let mut guest_flags = serde_json::Map::new();
    let mut qemu_args = serde_json::Map::new();
    for arch in ARCHES {
        let mut per_profile = serde_json::Map::new();
        let mut config_per_profile = serde_json::Map::new();
        for profile in PROFILES {
            let names = kernel::fragments(arch, FLAKE_BASE, profile);
            // The shared fragments in merge order, then the Nix kernels' own (nix/*.config).
            let mut merged = BTreeMap::new();
            let shared = names.iter().map(|n| (n.to_string(), fragments.get(*n)));
            for (name, settings) in shared.chain(nix_only.iter().map(|(n, s)| (n.clone(), Some(s)))) {
                match settings {
                    Some(s) => merged.extend(s.iter().map(|(k, v)| (format!("CONFIG_{k}"), v.clone()))),
                    None => problems.push(format!("{}: kernel.rs merges {name}, which kernel-configs/ lacks", arch.name)),
                }
            }
            per_profile.insert(profile.name().into(), json!(names));
            config_per_profile.insert(profile.name().into(), json!(merged));
        }
        order.insert(arch.name.into(), Value::Object(per_profile));
        configs.insert(arch.name.into(), Value::Object(config_per_profile));
        archs.insert(arch.name.into(), arch_facts(arch));
        guest_flags.insert(arch.name.into(), json!(arch.guest_flags().collect::<Vec<_>>()));
        qemu_args.insert(arch.name.into(), json!(arch.qemu_args("KERNEL", "INITRD", "")));
    }

    let want = json!({
        "series": series,
        "patches": patches,
        "fragments": fragments,
        "fragmentOrder": order,
        "kernelConfig": configs,
        "archs": archs,
        "guestFlags": guest_flags,
        "qemuArgs": qemu_args,
        "suites": crate::guest::suites()?,
        "endMarker": ktap::END_MARKER,
    });
    Ok((want, problems))
}

/// Every `*.config` in `dir`, parsed by kconfig, as option -> value with the
/// later setting winning (as Kconfig and nix/lib.nix read it).
fn read_fragments(
    dir: &Path,
    problems: &mut Vec<String>,
) -> anyhow::Result<BTreeMap<String, BTreeMap<String, String>>> {
    let mut out = BTreeMap::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|x| x != "config") {
            continue;
        }
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let (fragment, diags) = kconfig::parse(&rel(&path), &text);
        problems.extend(diags.iter().map(|d| format!("{}: {d}", rel(&path))));
        let settings = fragment.entries.into_iter().map(|e| (e.option, value_text(&e.value))).collect();
        out.insert(name, settings);
    }
    Ok(out)
}

/// A value as nix/lib.nix gives it: `y`, `m`, `n`, strings unquoted, the rest as written.
fn value_text(v: &kconfig::Value) -> String {
    match v {
        kconfig::Value::Yes => "y".into(),
        kconfig::Value::Module => "m".into(),
        kconfig::Value::No => "n".into(),
        kconfig::Value::Str(s) | kconfig::Value::Other(s) => s.clone(),
    }
}

/// The facts of one arch under nix/lib.nix's names.
fn arch_facts(a: &Arch) -> Value {
    let mut facts = json!({
        "description": a.description,
        "linuxArch": a.linux_arch,
        "crossCompile": a.cross_compile,
        "defconfig": a.defconfig,
        "fragment": a.fragment,
        "kasan": a.kasan,
        "imageTarget": a.image_target,
        "imagePath": a.image_path,
        "guestCc": a.guest_cc,
        "guestCflags": a.guest_cflags,
        "qemu": a.qemu,
        "machine": a.machine,
        "cpu": a.cpu,
        "memory": a.memory,
        "qemuExtra": a.qemu_extra,
        "console": a.console,
        "runEnd": match a.run_end {
            RunEnd::Reset => "reset",
            RunEnd::HarnessStops => "harness-stops",
        },
    });
    // nix/lib.nix spells out signedModules only for the arches whose test
    // kernels load the server's modules.
    if a.channel.is_some_and(|c| c.modules) {
        facts["signedModules"] = json!(true);
    }
    // nix/lib.nix spells out baseFragments only for the arches that have some.
    if !a.base_fragments.is_empty() {
        let mut per_base = serde_json::Map::new();
        for (base, frag) in a.base_fragments {
            let list = per_base.entry(base.to_string()).or_insert_with(|| json!([]));
            list.as_array_mut().unwrap().push(json!(frag));
        }
        facts["baseFragments"] = Value::Object(per_base);
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(stderr: &str, expected: Option<&str>) {
        assert_eq!(missing_feature(stderr).as_deref(), expected, "stderr: {stderr}");
    }

    #[test]
    fn experimental_feature_messages() {
        check("error: experimental Nix feature 'flakes' is disabled; add '--extra-experimental-features flakes' to enable it", Some("flakes"));
        check("error: experimental Nix feature 'nix-command' is disabled; use '--extra-experimental-features nix-command' to override", Some("nix-command"));
        check("error: syntax error, unexpected '}'", None);
        check("experimental Nix feature '", None);
        check("experimental Nix feature '; rm -rf /' is disabled", None);
    }

    fn summary(json: &str, expected: Result<&str, &[&str]>) {
        let v: Value = serde_json::from_str(json).unwrap();
        let got = platform_summary(&v, "nix-instantiate (Nix) 2.26.3");
        match (got, expected) {
            (Ok(g), Ok(e)) => assert!(g.contains(e), "{g:?} lacks {e:?}"),
            (Err(g), Err(e)) => assert_eq!(g, e),
            (g, e) => panic!("got {g:?}, expected {e:?}"),
        }
    }

    #[test]
    fn platform_check_output() {
        let good = r#"{"archs":{"armv4":{"example":"armv5tel-multiplatform","linuxArch":"arm","system":"armv5tel-linux"},
            "x86_64":{"example":"gnu64","linuxArch":"x86_64","system":"x86_64-linux"}},"libVersion":"26.11pre-git","problems":[]}"#;
        summary(good, Ok("(armv4 armv5tel-linux, x86_64 x86_64-linux; nixpkgs lib 26.11pre-git, nix-instantiate (Nix) 2.26.3)"));
        let bad = r#"{"archs":{"armv4":{"example":"arm-embedded","linuxArch":"arm","system":"arm-none"}},"libVersion":"26.11pre-git",
            "problems":["armv4: arm-embedded elaborates to arm-none, which is not in lib.platforms.linux"]}"#;
        summary(bad, Err(&["armv4: arm-embedded elaborates to arm-none, which is not in lib.platforms.linux"]));
        summary(r#"{"archs":{},"problems":[]}"#, Err(&[r#"no arches in {"archs":{},"problems":[]}"#]));
        summary(r#"{"archs":{}}"#, Err(&[r#"no `problems` list in {"archs":{}}"#]));
    }

    const LOCK_TEXT: &str = r#"{
  "nodes": {
    "nixpkgs": {
      "locked": { "lastModified": 1791031588, "narHash": "sha256-/FGDr01siZ8txrVzkOz6CYjiz0XR27JuVJP+aWchi4s=",
        "owner": "NixOS", "repo": "nixpkgs", "rev": "825e2028c29b702a4a5f085f08095d12099784f2", "type": "github" },
      "original": { "owner": "NixOS", "ref": "nixos-26.05", "repo": "nixpkgs", "type": "github" }
    },
    "root": { "inputs": { "nixpkgs": "nixpkgs" } }
  },
  "root": "root",
  "version": 7
}"#;

    #[test]
    fn a_lock_must_pin_each_input_of_flake_nix() {
        let inputs = json!({ "nixpkgs": { "url": "github:NixOS/nixpkgs/nixos-26.05" } });
        assert_eq!(lock_matches(&inputs, LOCK_TEXT), Ok(vec!["nixpkgs 825e2028c29b of 2026-10-03".to_string()]));
        let moved = json!({ "nixpkgs": { "url": "github:NixOS/nixpkgs/nixos-26.11" } });
        let err = lock_matches(&moved, LOCK_TEXT).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(err[0].contains("nixos-26.11"), "{err:?}");
        let more = json!({ "nixpkgs": inputs["nixpkgs"], "flake-utils": { "url": "github:numtide/flake-utils" } });
        assert_eq!(lock_matches(&more, LOCK_TEXT).unwrap_err(), vec!["input `flake-utils` is not locked".to_string()]);
        let fake = LOCK_TEXT.replace("/FGDr01siZ8txrVzkOz6CYjiz0XR27JuVJP+aWchi4s=", "x").replace("825e2028c29b", "abc");
        assert_eq!(lock_matches(&inputs, &fake).unwrap_err().len(), 2);
        assert!(lock_matches(&inputs, "{").is_err());
    }

    #[test]
    fn days_are_utc_civil_dates() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(951_782_400), "2000-02-29");
        assert_eq!(day(1_791_031_588), "2026-10-03");
    }

    /// The check itself; it needs Nix, which tools/bootstrap.sh installs.
    /// It runs nix/platform-check.nix too where tools/nix-chroot.sh has been run.
    #[test]
    fn nix_matches_the_files() {
        if let Err(e) = run(Args { dry_run: false }) {
            panic!("{e:?}");
        }
    }
}
