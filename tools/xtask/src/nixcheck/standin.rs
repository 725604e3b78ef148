//! nix-check's evaluation of the flake itself, with Nix 2.26, nixpkgs' real
//! lib and nix/standin/ in place of the nixpkgs input (nixpkgs, 4.4 GB,
//! cannot be brought here): `nix flake check --no-build --all-systems`, the
//! drvPath of every package, check and devShell, nixosModules.default on
//! stand-in NixOS options, and, so that the platform check is one that can
//! fail, the refusal of the crossSystem armv4 had before issue 17.
//!
//! The evaluation copies the flake's files (git's tracked and untracked ones)
//! and the stand-in under target/nix-standin/, so nothing under target/ and
//! no stale lock reaches Nix, and instantiates into a store there.

use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::Context;
use serde_json::Value;
use xshell::{cmd, Shell};

use super::NixRoot;
use super::FLAKE_BASE;
use crate::arch::ARCHES;
use crate::kernel::{self, Profile};
use crate::project;
use crate::{Stage, StageExt};

const STANDIN: &str = "nix/standin";
const NIX_CONFIG: &str = "experimental-features = nix-command flakes\nbuild-users-group =\nsubstituters =\nflake-registry =";
/// What the stand-in says when its platform check refuses a package, as
/// nixpkgs' check-meta says it.
const REFUSAL: &str = "is not available on the requested hostPlatform";
const OLD_ARMV4: &str = "arm-unknown-linux-gnueabi";
const SYSTEMS: [&str; 2] = ["x86_64-linux", "aarch64-linux"];

struct Standin<'a> {
    sh: &'a Shell,
    nix: PathBuf,
    dir: PathBuf,
}

impl Standin<'_> {
    fn nixpkgs(&self) -> PathBuf {
        self.dir.join("nixpkgs")
    }
    fn flake(&self) -> PathBuf {
        self.dir.join("flake")
    }
    fn run(&self, args: &[String]) -> anyhow::Result<Output> {
        let program = &self.nix;
        Ok(cmd!(self.sh, "{program} {args...}")
            .env("NIX_CONFIG", NIX_CONFIG)
            .env("XDG_CACHE_HOME", self.dir.join("cache"))
            .quiet()
            .ignore_status()
            .output()?)
    }
    /// Runs nix; its failure is the step's, with what nix printed.
    fn run_ok(&self, args: &[String], what: &str) -> anyhow::Result<Output> {
        let out = self.run(args)?;
        if !out.status.success() {
            return Err(anyhow::anyhow!("{}", String::from_utf8_lossy(&out.stderr).trim()))
                .context(what.to_string())
                .stage(Stage::Test);
        }
        Ok(out)
    }
    /// The store under target/ that every command instantiates into.
    fn store(&self) -> [String; 2] {
        ["--store".into(), self.dir.join("store").display().to_string()]
    }
    /// The options every flake command takes: the store, offline, the
    /// stand-in as the nixpkgs input, the lock left as it is.
    fn common(&self) -> Vec<String> {
        let mut args: Vec<String> = self.store().into();
        args.extend([
            "--offline".into(),
            "--no-write-lock-file".into(),
            "--override-input".into(),
            "nixpkgs".into(),
            format!("path:{}", self.nixpkgs().display()),
            "--option".into(),
            "eval-cache".into(),
            "false".into(),
        ]);
        args
    }
    fn flake_ref(&self, attr: &str) -> String {
        format!("path:{}#{attr}", self.flake().display())
    }
    /// `nix eval --json` of a flake attribute through `apply`.
    fn eval(&self, attr: &str, apply: &str, impure: bool) -> anyhow::Result<Value> {
        let mut args: Vec<String> = vec!["eval".into()];
        args.extend(self.common());
        if impure {
            args.push("--impure".into());
        }
        args.extend([
            "--json".into(),
            self.flake_ref(attr),
            "--apply".into(),
            apply.into(),
        ]);
        let out = self.run_ok(&args, &format!("evaluating {attr} against the stand-in failed"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(&text)
            .with_context(|| format!("nix eval of {attr} did not print JSON:\n{text}"))
            .stage(Stage::Test)
    }
}

/// Runs every step; one line per step for nix-check to print.
pub(super) fn check(
    sh: &Shell,
    root: &NixRoot,
    patches_612: &[String],
) -> anyhow::Result<Vec<String>> {
    let s = Standin {
        sh,
        nix: root.nix(),
        dir: project::root().join("target/nix-standin"),
    };
    prepare(&s, &root.lib())?;
    let mut lines = Vec::new();

    let mut args: Vec<String> = vec!["flake".into(), "check".into()];
    args.extend(s.common());
    args.extend([
        "--no-build".into(),
        "--all-systems".into(),
        format!("path:{}", s.flake().display()),
    ]);
    s.run_ok(
        &args,
        "`nix flake check --no-build --all-systems` fails against nixpkgs' lib and nix/standin",
    )?;
    lines.push(
        "`nix flake check --no-build --all-systems` passes against nixpkgs' lib and nix/standin"
            .to_string(),
    );

    let apply = "builtins.mapAttrs (system: builtins.mapAttrs (name: drv: drv.drvPath))";
    let mut counts = Vec::new();
    let mut problems = Vec::new();
    let mut armv4 = String::new();
    for (output, want) in [
        ("packages", expected_names("kernel-", false)),
        ("checks", expected_names("vm-", true)),
        (
            "devShells",
            expected_names("", false)
                .into_iter()
                .map(|(s, _)| (s, vec!["default".into()]))
                .collect(),
        ),
    ] {
        let got = s.eval(output, apply, false)?;
        counts.push(format!("{} {output}", drv_count(&got)));
        problems.extend(drv_problems(output, &want, &got));
        if output == "packages" {
            armv4 = got["x86_64-linux"]["kernel-armv4"]
                .as_str()
                .unwrap_or("?")
                .to_string();
        }
    }
    if !problems.is_empty() {
        return Err(anyhow::anyhow!("{}", problems.join("\n")))
            .context("the flake's outputs are not what nix/lib.nix's arches call for")
            .stage(Stage::Test);
    }
    lines.push(format!(
        "drvPaths evaluate: {} (kernel-armv4 on x86_64-linux: {armv4})",
        counts.join(", ")
    ));

    lines.push(fragment_inputs(&s)?);

    let check = s.nixpkgs().join("module-check.nix");
    let module = s.eval(
        "nixosModules.default",
        &format!("m: import {} {{ module = m; }}", check.display()),
        true,
    )?;
    lines.push(
        module_verdict(&module, patches_612)
            .map_err(|problems| anyhow::anyhow!("{}", problems.join("\n")))
            .context("nixosModules.default on the stand-in NixOS options")
            .stage(Stage::Test)?,
    );

    lines.push(refusal(&s)?);
    Ok(lines)
}

/// Each kernel's configfile derivation has every fragment it merges among
/// its input sources: nix/kernel.nix gives them string context (issue 17:
/// `lib.escapeShellArgs` on bare paths lost it, and a sandboxed build of the
/// config would not have found them).
fn fragment_inputs(s: &Standin) -> anyhow::Result<String> {
    let apply = "builtins.mapAttrs (name: kernel: kernel.configfile.drvPath)";
    let drvs = s.eval("packages.x86_64-linux", apply, false)?;
    let mut problems = Vec::new();
    let mut checked = 0;
    for arch in ARCHES {
        let Some(drv) = drvs[format!("kernel-{}", arch.name)].as_str() else {
            problems.push(format!("kernel-{} has no configfile", arch.name));
            continue;
        };
        let mut args: Vec<String> = vec!["derivation".into(), "show".into()];
        args.extend(s.store());
        args.push(drv.into());
        let out = s.run_ok(&args, &format!("nix derivation show {drv}"))?;
        let shown: Value =
            serde_json::from_slice(&out.stdout).context("nix derivation show printed no JSON")?;
        let mut want: Vec<String> = kernel::fragments(arch, FLAKE_BASE, Profile::Test)
            .iter()
            .map(|f| f.to_string())
            .collect();
        want.push("modules.config".into());
        let missing = missing_inputs(&shown, &want);
        checked += want.len();
        if !missing.is_empty() {
            problems.push(format!(
                "{}: {drv} does not depend on {}",
                arch.name,
                missing.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(anyhow::anyhow!("{}", problems.join("\n")))
            .context(
                "a kernel's config derivation lacks fragments it merges (lost string context?)",
            )
            .stage(Stage::Test);
    }
    Ok(format!(
        "every configfile derivation has its fragments as inputs ({checked} in {} kernels)",
        ARCHES.len()
    ))
}

/// The names in `want` that no input source of the shown derivation carries
/// (a store path's name is what follows its hash).
fn missing_inputs(shown: &Value, want: &[String]) -> Vec<String> {
    let sources: Vec<&str> = shown
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(|d| d["inputSrcs"].as_array())
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let names: Vec<&str> = sources
        .iter()
        .filter_map(|p| p.rsplit('/').next())
        .filter_map(|base| base.split_once('-').map(|(_, name)| name))
        .collect();
    want.iter()
        .filter(|w| !names.contains(&w.as_str()))
        .cloned()
        .collect()
}

/// target/nix-standin/nixpkgs: nix/standin and the real lib beside it;
/// target/nix-standin/flake: the files git would hand Nix.
fn prepare(s: &Standin, lib: &Path) -> anyhow::Result<()> {
    let (nixpkgs, flake) = (s.nixpkgs(), s.flake());
    for d in [&nixpkgs, &flake] {
        if d.exists() {
            std::fs::remove_dir_all(d).with_context(|| format!("removing {}", d.display()))?;
        }
        std::fs::create_dir_all(d)?;
    }
    copy_tree(&project::root().join(STANDIN), &nixpkgs)?;
    copy_tree(lib, &nixpkgs.join("lib"))?;
    let root = project::root();
    let sh = s.sh;
    let listed = cmd!(
        sh,
        "git -C {root} ls-files -z --cached --others --exclude-standard"
    )
    .quiet()
    .read()
    .context("listing the flake's files with git (nix-check needs a git checkout)")?;
    for f in listed
        .split('\0')
        .filter(|f| !f.is_empty() && !f.starts_with("target/"))
    {
        let (from, to) = (root.join(f), flake.join(f));
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        std::fs::create_dir_all(to.parent().expect("a file has a parent"))?;
        std::fs::copy(&from, &to).with_context(|| format!("copying {f}"))?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.with_context(|| format!("reading {}", from.display()))?;
        let dest = to.join(
            entry
                .path()
                .strip_prefix(from)
                .expect("under the walked root"),
        );
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Per system, the attribute names an output must have: `prefix<arch>` for
/// every arch, and for checks the NixOS test on x86_64-linux.
fn expected_names(prefix: &str, checks: bool) -> Vec<(String, Vec<String>)> {
    SYSTEMS
        .iter()
        .map(|system| {
            let mut names: Vec<String> = ARCHES
                .iter()
                .map(|a| format!("{prefix}{}", a.name))
                .collect();
            if checks && *system == "x86_64-linux" {
                names.push("nixos-query".into());
            }
            names.sort();
            (system.to_string(), names)
        })
        .collect()
}

fn drv_count(got: &Value) -> usize {
    got.as_object().map_or(0, |systems| {
        systems
            .values()
            .filter_map(Value::as_object)
            .map(|o| o.len())
            .sum()
    })
}

/// What is missing, extra or not a .drv in one output's drvPaths.
fn drv_problems(output: &str, want: &[(String, Vec<String>)], got: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (system, names) in want {
        let Some(attrs) = got.get(system).and_then(Value::as_object) else {
            problems.push(format!("{output}.{system} is missing"));
            continue;
        };
        let mut have: Vec<String> = attrs.keys().cloned().collect();
        have.sort();
        if &have != names {
            problems.push(format!("{output}.{system} has {have:?}, want {names:?}"));
        }
        for (name, path) in attrs {
            if !path
                .as_str()
                .is_some_and(|p| p.starts_with("/nix/store/") && p.ends_with(".drv"))
            {
                problems.push(format!("{output}.{system}.{name}.drvPath is {path}"));
            }
        }
    }
    problems
}

/// module-check.nix's output judged: on 6.12 the module adds the 6.12 series
/// after nixpkgs' own patches, NET_SPECIALIZE=y reaches the config and no
/// assertion fails; on a kernel no series is for, it refuses by assertion.
fn module_verdict(v: &Value, patches_612: &[String]) -> Result<String, Vec<String>> {
    let strings = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut problems = Vec::new();
    let boot = strings("bootPatches");
    if boot != patches_612 {
        problems.push(format!(
            "boot.kernelPatches is {boot:?}, want the 6.12 series {patches_612:?}"
        ));
    }
    let kernel = strings("kernelPatches");
    if kernel.len() <= boot.len() || !kernel.ends_with(&boot) {
        problems.push(format!(
            "the kernel's patches {kernel:?} do not end with boot.kernelPatches after nixpkgs' own"
        ));
    }
    if !strings("structuredConfig")
        .iter()
        .any(|c| c == "NET_SPECIALIZE y")
    {
        problems.push(format!(
            "NET_SPECIALIZE y is not in the kernel's structured config {:?}",
            strings("structuredConfig")
        ));
    }
    let failed = strings("failed");
    if !failed.is_empty() {
        problems.push(format!("assertions fail on 6.12: {failed:?}"));
    }
    let version = v
        .get("refusedVersion")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let refused = strings("refused");
    if refused.len() != 1 || !refused[0].contains(version) {
        problems.push(format!(
            "on Linux {version}, want one failed assertion naming it, got {refused:?}"
        ));
    }
    for key in ["kernel", "toplevel"] {
        if !v
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|p| p.ends_with(".drv"))
        {
            problems.push(format!("{key} has no drvPath: {:?}", v.get(key)));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(format!(
        "nixosModules.default (lib.evalModules, stand-in NixOS options): {} patches and NET_SPECIALIZE=y on Linux {}; \
         Linux {version} refused by assertion",
        boot.len(),
        v.get("version").and_then(Value::as_str).unwrap_or("?")
    ))
}

/// nix/kernel.nix for armv4 with the crossSystem of before issue 17 must not
/// evaluate: the stand-in's platform check refuses it, as nixpkgs did.
fn refusal(s: &Standin) -> anyhow::Result<String> {
    let expr = format!(
        "import {} {{ root = {}; }}",
        s.nixpkgs().join("refusal-check.nix").display(),
        s.flake().display()
    );
    let mut args: Vec<String> = vec!["eval".into()];
    args.extend(s.store());
    args.extend([
        "--option".into(),
        "eval-cache".into(),
        "false".into(),
        "--impure".into(),
        "--json".into(),
        "--expr".into(),
        expr,
    ]);
    let out = s.run(&args)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    refusal_verdict(out.status.success(), &stderr)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("nix/standin/refusal-check.nix")
        .stage(Stage::Test)
}

fn refusal_verdict(succeeded: bool, stderr: &str) -> Result<String, String> {
    if succeeded {
        return Err(format!(
            "the kernel for {OLD_ARMV4} evaluated: the stand-in's platform check accepts what nixpkgs refuses"
        ));
    }
    if !stderr.contains(REFUSAL) || !stderr.contains(OLD_ARMV4) {
        return Err(format!(
            "it failed, but not by the platform check:\n{}",
            stderr.trim()
        ));
    }
    Ok(format!(
        "the crossSystem {OLD_ARMV4} (armv4 before issue 17) is refused, as nixpkgs refuses it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn series() -> Vec<String> {
        vec!["0001-a".into(), "0002-b".into()]
    }

    fn good() -> Value {
        json!({
            "bootPatches": ["0001-a", "0002-b"],
            "kernelPatches": ["bridge-stp-helper", "0001-a", "0002-b"],
            "structuredConfig": ["NET_SPECIALIZE y"],
            "failed": [],
            "refused": ["netspec: the series is for Linux 6.12.x, but boot.kernelPackages has Linux 6.6.119"],
            "refusedVersion": "6.6.119",
            "version": "6.12.117",
            "kernel": "/nix/store/x-linux-6.12.117.drv",
            "toplevel": "/nix/store/y-nixos-system-standin.drv",
        })
    }

    #[test]
    fn the_module_verdict_passes_a_module_that_adds_the_series() {
        let line = module_verdict(&good(), &series()).unwrap();
        assert!(line.contains("2 patches"), "{line}");
    }

    #[test]
    fn the_module_verdict_fails_each_way_a_module_can_be_wrong() {
        let cases: [(&str, Value); 5] = [
            ("bootPatches", json!(["0001-a"])),
            ("kernelPatches", json!(["0001-a", "0002-b"])),
            ("structuredConfig", json!([])),
            ("failed", json!(["no"])),
            ("refused", json!([])),
        ];
        for (key, bad) in cases {
            let mut v = good();
            v[key] = bad;
            assert!(module_verdict(&v, &series()).is_err(), "{key}");
        }
    }

    #[test]
    fn drv_problems_name_missing_extra_and_non_drv_outputs() {
        let want = vec![(
            "x86_64-linux".to_string(),
            vec!["kernel-a".to_string(), "kernel-b".to_string()],
        )];
        let ok = json!({"x86_64-linux": {"kernel-a": "/nix/store/a.drv", "kernel-b": "/nix/store/b.drv"}});
        assert!(drv_problems("packages", &want, &ok).is_empty());
        assert_eq!(drv_count(&ok), 2);
        let missing = json!({"x86_64-linux": {"kernel-a": "/nix/store/a.drv"}});
        assert_eq!(drv_problems("packages", &want, &missing).len(), 1);
        let not_drv = json!({"x86_64-linux": {"kernel-a": "/nix/store/a.drv", "kernel-b": null}});
        assert_eq!(drv_problems("packages", &want, &not_drv).len(), 1);
        assert_eq!(drv_problems("packages", &want, &json!({})).len(), 1);
    }

    #[test]
    fn a_fragment_is_an_input_only_as_a_store_path_of_its_name() {
        let shown = json!({"/nix/store/c-linux-config.drv": {"inputSrcs": [
            "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-common.config",
            "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-armv4.config.orig",
        ]}});
        let want = vec!["common.config".to_string(), "armv4.config".to_string()];
        assert_eq!(
            missing_inputs(&shown, &want),
            vec!["armv4.config".to_string()]
        );
        assert_eq!(missing_inputs(&json!({}), &want).len(), 2);
    }

    #[test]
    fn only_a_platform_refusal_of_the_old_system_counts() {
        assert!(refusal_verdict(true, "").is_err());
        assert!(refusal_verdict(false, "error: attribute 'foo' missing").is_err());
        let refused = format!(
            "error: Package ‘linux-6.12.117’ {REFUSAL}:\n  hostPlatform.config = \"{OLD_ARMV4}\""
        );
        assert!(refusal_verdict(false, &refused).is_ok());
    }
}
