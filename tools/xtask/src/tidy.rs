//! Tidy tests: checks over the repository's own files that run as plain
//! `cargo test`. Each failure names the file and the command that fixes it.

use std::path::Path;

use crate::{arch, base, kernel, project};

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn subjects(base: &str) -> Vec<String> {
    crate::series::listed_patches(base)
        .unwrap()
        .iter()
        .map(|(n, t)| ::series::parse_patch(n, t).0.subject)
        .collect()
}

#[test]
fn every_series_is_listed_and_signed_off() {
    for b in base::BASES {
        let dir = project::patches_dir(b.name);
        let (series, diags) = ::series::parse_series(&read(&dir.join("series")));
        assert!(diags.is_empty(), "patches/{}/series: {diags:?}", b.name);
        assert!(!series.patches.is_empty(), "patches/{}/ is empty", b.name);
        let files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "series")
            .collect();
        let problems = ::series::check_listing(&series, &files);
        assert!(problems.is_empty(), "patches/{}: {problems:?} (regenerate: cargo xtask series export --base {})", b.name, b.name);
        for name in &series.patches {
            let (patch, _) = ::series::parse_patch(name, &read(&dir.join(name)));
            let problems = ::series::check_patch(&patch, project::IDENTITY);
            assert!(problems.is_empty(), "patches/{}/{name}: {problems:?}", b.name);
        }
    }
}

/// The bases carry the same changes in the same order; only the wiring differs in content.
#[test]
fn series_line_up_across_bases() {
    let newest = subjects(base::BASES[0].name);
    for b in &base::BASES[1..] {
        let s = subjects(b.name);
        let diff = similar::TextDiff::from_lines(&newest.join("\n"), &s.join("\n")).unified_diff().to_string();
        assert_eq!(newest, s, "patches/{}/ does not line up with patches/{}/ (cargo xtask series refresh --base {}):\n{diff}", b.name, base::BASES[0].name, b.name);
    }
}

/// The wiring patch of each base touches exactly the tables kernel-syscalls.toml
/// names for it and adds exactly the generator's lines (the context around them
/// is checked against the base's real files by `series check`).
#[test]
fn wiring_patch_touches_the_spec_tables() {
    let spec = syscalls::parse_spec(&read(&project::root().join("kernel-syscalls.toml"))).unwrap();
    for b in base::BASES {
        let patches = crate::series::listed_patches(b.name).unwrap();
        let wiring: Vec<_> = patches
            .iter()
            .map(|(n, t)| ::series::parse_patch(n, t).0)
            .filter(|p| p.subject == spec.commit.subject)
            .collect();
        assert_eq!(wiring.len(), 1, "patches/{}/ must hold one wiring patch (cargo xtask gen syscalls --base {})", b.name, b.name);
        let mut touched = wiring[0].files.clone();
        touched.sort();
        let mut want: Vec<String> = spec.tables_for(b.name).map(|t| t.path.clone()).collect();
        want.sort();
        want.dedup();
        assert_eq!(touched, want, "patches/{}/: the wiring patch (cargo xtask gen syscalls --base {})", b.name, b.name);
        for table in spec.tables_for(b.name) {
            let added: Vec<&str> =
                wiring[0].added.iter().filter(|a| a.file == table.path).map(|a| a.text.as_str()).collect();
            assert_eq!(added, syscalls::added_lines(&spec, table), "patches/{}/: {} (cargo xtask gen syscalls --base {})", b.name, table.path, b.name);
        }
    }
}

/// No option is set twice within one merge (fragment order would silently decide).
#[test]
fn no_option_set_twice_in_a_merge() {
    for (a, b) in arch::ARCHES.iter().flat_map(|a| base::BASES.iter().map(move |b| (a, b))) {
        for profile in [kernel::Profile::Test, kernel::Profile::Bench] {
            let frags: Vec<_> = kernel::fragments(a, b.name, profile)
                .iter()
                .map(|f| {
                    let (frag, diags) = kconfig::parse(f, &read(&project::configs_dir().join(f)));
                    assert!(diags.is_empty(), "kernel-configs/{f}: {diags:?}");
                    frag
                })
                .collect();
            let conflicts = kconfig::conflicts(&frags);
            assert!(conflicts.is_empty(), "{} {} {}: {conflicts:?}", a.name, b.name, profile.name());
        }
    }
}

/// Every config fragment is used by some merge.
#[test]
fn every_fragment_is_used() {
    let mut used: Vec<&str> = Vec::new();
    for a in arch::ARCHES {
        for b in base::BASES {
            for profile in [kernel::Profile::Test, kernel::Profile::Bench] {
                used.extend(kernel::fragments(a, b.name, profile));
            }
        }
    }
    for e in std::fs::read_dir(project::configs_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(used.contains(&name.as_str()), "kernel-configs/{name} is merged by no arch or profile");
    }
}

#[test]
fn architecture_md_names_every_crate() {
    let doc = read(&project::root().join("ARCHITECTURE.md"));
    for e in std::fs::read_dir(project::root().join("tools")).unwrap() {
        let e = e.unwrap();
        if e.path().join("Cargo.toml").exists() {
            let name = format!("tools/{}", e.file_name().to_string_lossy());
            assert!(doc.contains(&name), "ARCHITECTURE.md does not mention {name}");
        }
    }
}

#[test]
fn every_suite_has_a_plan() {
    for s in crate::guest::suites().unwrap() {
        let src = read(&project::root().join(format!("vm-tests/suites/{s}.c")));
        assert!(src.contains("kt_plan("), "vm-tests/suites/{s}.c prints no KTAP plan");
    }
}

/// The flake's VM checks judge with nix/verdict.awk; it must agree with
/// tools/ktap on every saved console log, or the two verdicts have drifted.
#[test]
fn nix_verdict_agrees_with_ktap() {
    let sh = project::shell().unwrap();
    let awk = project::root().join("nix/verdict.awk");
    let dir = project::root().join("tools/ktap/testdata");
    let mut logs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    assert!(logs.len() >= 8, "expected the saved logs in {}", dir.display());
    for log in logs {
        let rust = matches!(ktap::parse(&read(&log)).verdict(), ktap::Verdict::Pass);
        let out = xshell::cmd!(sh, "awk -f {awk} {log}").quiet().ignore_status().output().unwrap();
        let nix = out.status.success();
        assert_eq!(nix, rust, "{}: nix/verdict.awk says pass={nix}, tools/ktap says pass={rust}", log.display());
    }
}
