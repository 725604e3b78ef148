//! The supported kernel bases and where their sources come from.

use std::path::Path;

use anyhow::{bail, Context};

/// A kernel base the series is maintained for.
#[derive(Debug)]
pub struct Base {
    /// As given to `--base`, and the name of its `patches/` directory.
    pub name: &'static str,
    /// The Debian package with its source tarball.
    pub package: &'static str,
    /// The Debian suites the package is taken from, newest version wins: a
    /// release's own suite with its security suite, which is where Debian
    /// ships the point releases of a stable release between its point
    /// releases (bookworm itself has 6.1.176, bookworm-security 6.1.192).
    pub suites: &'static [&'static str],
}

/// Every supported base; the first is the default. 6.12 and 6.1 are the LTS
/// kernels of Debian 13 and 12; 7.3 is the newest stable, from trixie-backports.
pub const BASES: &[Base] = &[
    Base { name: "6.12", package: "linux-source-6.12", suites: &["trixie", "trixie-security"] },
    Base { name: "6.1", package: "linux-source-6.1", suites: &["bookworm", "bookworm-security"] },
    Base { name: "7.3", package: "linux-source-7.3", suites: &["trixie-backports"] },
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

/// `Linux X.Y.Z` from a kernel's top Makefile.
pub fn makefile_version(makefile: &str) -> String {
    let var = |name: &str| {
        makefile
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim_start().strip_prefix('=')))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (v, p, s, e) = (var("VERSION"), var("PATCHLEVEL"), var("SUBLEVEL"), var("EXTRAVERSION"));
    format!("Linux {v}.{p}.{s}{e}")
}

/// The base name (`X.Y`) of a `Linux X.Y.Z` version.
pub fn series_of(version: &str) -> String {
    let v = version.strip_prefix("Linux ").unwrap_or(version);
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Reads `Linux X.Y.Z` from a tree's top Makefile and checks it is this base.
pub fn tree_version(base: &Base, tree: &Path) -> anyhow::Result<String> {
    let makefile = std::fs::read_to_string(tree.join("Makefile"))
        .with_context(|| format!("reading {}/Makefile: is this a kernel tree?", tree.display()))?;
    let version = makefile_version(&makefile);
    if series_of(&version) != base.name {
        bail!("{} holds {version}, not {}", tree.display(), base.name);
    }
    Ok(version)
}

/// The numeric parts of `Linux X.Y.Z` or `X.Y.Z-1~bpo13+1`, for ordering point releases.
pub fn version_key(version: &str) -> Vec<u64> {
    let v = version.strip_prefix("Linux ").unwrap_or(version);
    let upstream = v.split(['-', '~', '+']).next().unwrap_or(v);
    upstream.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(makefile: &str, expected: (&str, &str)) {
        let v = makefile_version(makefile);
        assert_eq!((v.as_str(), series_of(&v).as_str()), expected, "{makefile}");
    }

    #[test]
    fn versions() {
        check("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 118\nEXTRAVERSION =\nNAME = Baby Opossum\n", ("Linux 6.12.118", "6.12"));
        check("VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\nEXTRAVERSION = -rc1\n", ("Linux 7.3.4-rc1", "7.3"));
        assert!(version_key("Linux 6.12.95") < version_key("6.12.118-1"));
        assert_eq!(version_key("7.3.4-1~bpo13+1"), vec![7, 3, 4]);
    }
}
