//! Debian's kernel source packages, fetched as the invoking user (no root,
//! nothing installed): apt runs on a private state under `target/debian/<base>/`
//! (its own sources list, lists and cache; no dpkg status), `apt-get download`
//! fetches the package, `dpkg-deb -x` unpacks it, and the tarball is kept as
//! `target/sources/<package>_<version>.tar.xz`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::base::Base;
use crate::project;
use crate::{Stage, StageExt};

/// A version of a base's source package that Debian ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// The Debian version, e.g. `6.12.118-1`.
    pub version: String,
    /// The suite apt found it in, e.g. `trixie-security`.
    pub suite: String,
}

impl Package {
    /// The kernel release, e.g. `Linux 6.12.118`.
    pub fn linux(&self) -> String {
        format!("Linux {}", upstream(&self.version))
    }

    /// e.g. `linux-source-6.12 6.12.118-1, trixie-security`.
    pub fn describe(&self) -> String {
        format!("{} {}, {}", self.name, self.version, self.suite)
    }

    pub fn tarball(&self) -> PathBuf {
        project::target().join("sources").join(format!("{}_{}.tar.xz", self.name, self.version))
    }
}

/// The upstream part of a Debian version: `6.12.118-1` -> `6.12.118`,
/// `7.3.4-1~bpo13+1` -> `7.3.4`, `1:2.3-4` -> `2.3`.
pub fn upstream(version: &str) -> &str {
    let v = version.split_once(':').map_or(version, |(_, v)| v);
    v.rsplit_once('-').map_or(v, |(u, _)| u)
}

/// The archive a suite is in.
fn archive(suite: &str) -> &'static str {
    if suite.ends_with("-security") {
        "http://deb.debian.org/debian-security"
    } else {
        "http://deb.debian.org/debian"
    }
}

/// The sources list of a base's private apt state.
pub fn sources_list(base: &Base) -> String {
    base.suites.iter().map(|s| format!("deb {} {s} main\n", archive(s))).collect()
}

fn state_dir(base: &Base) -> PathBuf {
    project::target().join("debian").join(base.name)
}

/// The `-o` options that point apt at the private state and nowhere else:
/// no system sources, preferences or dpkg status, no translations or
/// AppStream metadata, and no switch to the `_apt` user (the files are ours).
fn apt_options(sh: &Shell, base: &Base) -> anyhow::Result<Vec<String>> {
    let dir = state_dir(base);
    let user = cmd!(sh, "id -un").read().unwrap_or_else(|_| "root".into());
    Ok([
        format!("Dir::Etc::sourcelist={}", dir.join("sources.list").display()),
        "Dir::Etc::sourceparts=/dev/null".into(),
        "Dir::Etc::preferences=/dev/null".into(),
        "Dir::Etc::preferencesparts=/dev/null".into(),
        format!("Dir::State::lists={}", dir.join("lists").display()),
        format!("Dir::Cache={}", dir.join("cache").display()),
        "Dir::State::status=/dev/null".into(),
        "Acquire::Languages=none".into(),
        "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false".into(),
        "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false".into(),
        "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false".into(),
        "Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false".into(),
        "Acquire::IndexTargets::deb::CNF::DefaultEnabled=false".into(),
        format!("APT::Sandbox::User={user}"),
    ]
    .into_iter()
    .flat_map(|o| ["-o".to_string(), o])
    .collect())
}

/// Fails with what to do instead on a host without apt and dpkg-deb.
fn need_apt(base: &Base) -> anyhow::Result<()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in ["apt-get", "apt-cache", "dpkg-deb"] {
        if !std::env::split_paths(&path).any(|d| d.join(tool).is_file()) {
            bail!(
                "{tool} is missing: fetching Debian's {} needs apt and dpkg (any Debian or Ubuntu host).\n\
                 Elsewhere, pass a kernel tarball or tree: cargo xtask tree --base {} --source PATH",
                base.package,
                base.name
            );
        }
    }
    Ok(())
}

/// The newest version of the base's package in its suites (`apt-get update`
/// on the private state, then `apt-cache policy`). Takes a few seconds.
pub fn newest(sh: &Shell, base: &Base, dry_run: bool) -> anyhow::Result<Package> {
    let dir = state_dir(base);
    let opts = &apt_options(sh, base)?;
    let pkg = base.package;
    let update = cmd!(sh, "apt-get {opts...} -q update");
    let policy = cmd!(sh, "apt-cache {opts...} policy {pkg}");
    if dry_run {
        println!("would write {} with:\n{}", dir.join("sources.list").display(), sources_list(base).trim_end());
        println!("would run: {update}\nwould run: {policy}");
        return Ok(Package { name: pkg.into(), version: "VERSION".into(), suite: base.suites.join(",") });
    }
    need_apt(base).stage(Stage::Boot)?;
    sh.create_dir(dir.join("lists/partial"))?;
    sh.create_dir(dir.join("cache/archives/partial"))?;
    sh.write_file(dir.join("sources.list"), sources_list(base))?;
    let started = std::time::Instant::now();
    let out = update.ignore_status().quiet().output()?;
    if !out.status.success() {
        return Err(anyhow::anyhow!("{}", String::from_utf8_lossy(&out.stderr).trim_end()))
            .context(format!("apt-get update of {} ({}) failed: is deb.debian.org reachable?", base.suites.join(", "), dir.display()))
            .stage(Stage::Boot);
    }
    let text = policy.read().with_context(|| format!("apt-cache policy {pkg}")).stage(Stage::Boot)?;
    let Some((version, suite)) = parse_policy(&text) else {
        bail!(
            "Debian's {} has no {pkg} (apt-cache policy said:\n{text})",
            base.suites.join(", ")
        );
    };
    eprintln!("debian: {pkg} {version} is the newest in {} ({:.1?})", base.suites.join(", "), started.elapsed());
    Ok(Package { name: pkg.into(), version, suite })
}

/// The package's tarball, downloaded and unpacked unless it is already in `target/sources/`.
pub fn tarball(sh: &Shell, base: &Base, package: &Package, dry_run: bool) -> anyhow::Result<PathBuf> {
    let tarball = package.tarball();
    if tarball.exists() {
        return Ok(tarball);
    }
    let dl = state_dir(base).join("download");
    let opts = &apt_options(sh, base)?;
    let spec = format!("{}={}", package.name, package.version);
    let unpacked = dl.join("unpacked");
    if dry_run {
        println!("would run (in {}): {}", dl.display(), cmd!(sh, "apt-get {opts...} -q download {spec}"));
        println!("would run: dpkg-deb -x {}/{}_*.deb {}", dl.display(), package.name, unpacked.display());
        println!("would keep usr/src/{}.tar.xz as {}", package.name, tarball.display());
        return Ok(tarball);
    }
    need_apt(base).stage(Stage::Boot)?;
    if dl.exists() {
        sh.remove_path(&dl)?;
    }
    sh.create_dir(&dl)?;
    let started = std::time::Instant::now();
    {
        let _d = sh.push_dir(&dl);
        cmd!(sh, "apt-get {opts...} -q download {spec}")
            .quiet()
            .ignore_stdout()
            .run()
            .with_context(|| format!("downloading {spec}"))
            .stage(Stage::Boot)?;
    }
    let deb = std::fs::read_dir(&dl)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .with_context(|| format!("apt-get download {spec} left no .deb in {}", dl.display()))?;
    cmd!(sh, "dpkg-deb -x {deb} {unpacked}").quiet().run().with_context(|| format!("unpacking {}", deb.display()))?;
    let inner = unpacked.join("usr/src").join(format!("{}.tar.xz", package.name));
    sh.create_dir(tarball.parent().unwrap())?;
    std::fs::rename(&inner, &tarball)
        .with_context(|| format!("{} has no usr/src/{}.tar.xz", deb.display(), package.name))?;
    sh.remove_path(&dl)?;
    eprintln!("debian: {} ({:.1?})", tarball.display(), started.elapsed());
    Ok(tarball)
}

/// The candidate of `apt-cache policy PKG` and the suite of its first
/// source, e.g. `("6.12.118-1", "trixie-security")`; None when there is none.
pub fn parse_policy(text: &str) -> Option<(String, String)> {
    let candidate = text.lines().find_map(|l| l.trim().strip_prefix("Candidate:")).map(str::trim)?;
    if candidate.is_empty() || candidate == "(none)" {
        return None;
    }
    // The version table: "     6.12.118-1 500" (or " *** ..."), then its sources indented further.
    let mut lines = text.lines().skip_while(|l| !l.trim_start().starts_with("Version table:")).skip(1);
    let mut suite = String::new();
    while let Some(line) = lines.next() {
        let words: Vec<&str> = line.trim_start_matches([' ', '*']).split_whitespace().collect();
        if words.first() == Some(&candidate) && words.len() == 2 {
            // "        500 http://deb.debian.org/debian-security trixie-security/main amd64 Packages"
            if let Some(source) = lines.next() {
                let w: Vec<&str> = source.split_whitespace().collect();
                if let Some(s) = w.get(2) {
                    suite = s.split('/').next().unwrap_or(s).to_string();
                }
            }
            break;
        }
    }
    Some((candidate.to_string(), suite))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<(&str, &str)>) {
        let got = parse_policy(text);
        assert_eq!(got.as_ref().map(|(v, s)| (v.as_str(), s.as_str())), expected, "{text}");
    }

    #[test]
    fn policy() {
        check(
            "linux-source-6.12:\n  Installed: (none)\n  Candidate: 6.12.118-1\n  Version table:\n\
             \x20    6.12.118-1 500\n        500 http://deb.debian.org/debian-security trixie-security/main amd64 Packages\n\
             \x20    6.12.117-1 500\n        500 http://deb.debian.org/debian trixie/main amd64 Packages\n\
             \x20       500 http://deb.debian.org/debian-security trixie-security/main amd64 Packages\n",
            Some(("6.12.118-1", "trixie-security")),
        );
        check(
            "linux-source-7.3:\n  Installed: (none)\n  Candidate: 7.3.4-1~bpo13+1\n  Version table:\n\
             \x20*** 7.3.4-1~bpo13+1 100\n        100 http://deb.debian.org/debian trixie-backports/main amd64 Packages\n",
            Some(("7.3.4-1~bpo13+1", "trixie-backports")),
        );
        check("N: Unable to locate package linux-source-9.9\n", None);
        check("x:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n", None);
        check("x:\n  Candidate: 1.0-1\n", Some(("1.0-1", "")));
    }

    #[test]
    fn upstream_versions() {
        assert_eq!(upstream("6.12.118-1"), "6.12.118");
        assert_eq!(upstream("7.3.4-1~bpo13+1"), "7.3.4");
        assert_eq!(upstream("6.1.192-3"), "6.1.192");
        assert_eq!(upstream("1:2.3-4"), "2.3");
        assert_eq!(upstream("2.3"), "2.3");
    }
}
