//! The supported kernel bases and where their sources come from.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// A kernel base the series is maintained for.
#[derive(Debug)]
pub struct Base {
    /// As given to `--base`, and the name of its `patches/` directory.
    pub name: &'static str,
    /// The Debian package with its source tarball.
    pub package: &'static str,
}

/// Every supported base, newest first; the first is the default.
pub const BASES: &[Base] = &[
    Base { name: "6.12", package: "linux-source-6.12" },
    Base { name: "6.1", package: "linux-source-6.1" },
];

pub fn find(name: &str) -> anyhow::Result<&'static Base> {
    BASES.iter().find(|b| b.name == name).with_context(|| {
        let names: Vec<_> = BASES.iter().map(|b| b.name).collect();
        format!("unknown base {name:?}; supported: {}", names.join(", "))
    })
}

/// `all` or a comma-separated list.
pub fn select(spec: &str) -> anyhow::Result<Vec<&'static Base>> {
    if spec == "all" {
        return Ok(BASES.iter().collect());
    }
    spec.split(',').map(find).collect()
}

impl Base {
    /// Debian's tarball of this base.
    pub fn default_tarball(&self) -> PathBuf {
        PathBuf::from(format!("/usr/src/{}.tar.xz", self.package))
    }
}

/// Reads `Linux X.Y.Z` from a tree's top Makefile and checks it is this base.
pub fn tree_version(base: &Base, tree: &Path) -> anyhow::Result<String> {
    let makefile = std::fs::read_to_string(tree.join("Makefile"))
        .with_context(|| format!("reading {}/Makefile: is this a kernel tree?", tree.display()))?;
    let var = |name: &str| {
        makefile
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim_start().strip_prefix('=')))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (v, p, s, e) = (var("VERSION"), var("PATCHLEVEL"), var("SUBLEVEL"), var("EXTRAVERSION"));
    if format!("{v}.{p}") != base.name {
        bail!("{} holds Linux {v}.{p}.{s}, not {}", tree.display(), base.name);
    }
    Ok(format!("Linux {v}.{p}.{s}{e}"))
}
