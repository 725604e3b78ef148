//! Tidy tests: checks over the repository's own files that run as plain
//! `cargo test`. Each failure names the file and the command that fixes it.

use std::path::Path;

use crate::{arch, base, kernel, project};

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// Fails, saying what makes it, when a base has no series yet.
fn require_series(base: &str) {
    let series = project::patches_dir(base).join("series");
    assert!(series.exists(), "{}", crate::series::no_series(base));
}

fn subjects(base: &str) -> Vec<String> {
    require_series(base);
    crate::series::listed_patches(base)
        .unwrap()
        .iter()
        .map(|(n, t)| ::series::parse_patch(n, t).0.subject)
        .collect()
}

#[test]
fn every_series_is_listed_and_signed_off() {
    for b in base::BASES {
        require_series(b.name);
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
        require_series(b.name);
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
        for profile in kernel::Profile::ALL {
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
            for profile in kernel::Profile::ALL {
                used.extend(kernel::fragments(a, b.name, profile));
            }
        }
    }
    let extras: Vec<String> = kernel::BENCH_EXTRAS.iter().map(|e| format!("{e}.config")).collect();
    used.extend(extras.iter().map(String::as_str));
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

/// syzkaller's Linux arches, with the kernel-syscalls.toml table each one's
/// numbers come from, what its ABI adds to a table's number (MIPS n64
/// numbers its calls from `__NR_Linux`, 5000), and the UAPI header its
/// `<asm/socket.h>` is (or includes, for the socket option numbers).
const SYZKALLER_ARCHES: &[(&str, &str, u32, &str)] = &[
    ("386", "arch/x86/entry/syscalls/syscall_32.tbl", 0, GENERIC_SOCKET_H),
    ("amd64", "arch/x86/entry/syscalls/syscall_64.tbl", 0, GENERIC_SOCKET_H),
    ("arm", "arch/arm/tools/syscall.tbl", 0, GENERIC_SOCKET_H),
    ("arm64", "scripts/syscall.tbl", 0, GENERIC_SOCKET_H),
    ("loong64", "scripts/syscall.tbl", 0, GENERIC_SOCKET_H),
    ("mips64le", "arch/mips/kernel/syscalls/syscall_n64.tbl", 5000, "arch/mips/include/uapi/asm/socket.h"),
    ("ppc64le", "arch/powerpc/kernel/syscalls/syscall.tbl", 0, GENERIC_SOCKET_H),
    ("riscv64", "scripts/syscall.tbl", 0, GENERIC_SOCKET_H),
    ("s390x", "arch/s390/kernel/syscalls/syscall.tbl", 0, GENERIC_SOCKET_H),
];
const GENERIC_SOCKET_H: &str = "include/uapi/asm-generic/socket.h";

/// A syz-extract `.const` file: the arches line, and each constant's value per arch.
fn parse_syz_const(text: &str) -> (Vec<String>, Vec<(String, Vec<(String, u64)>)>) {
    let mut arches = Vec::new();
    let mut consts = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (name, value) = line.split_once('=').unwrap_or_else(|| panic!("not NAME = VALUE: {line:?}"));
        let (name, value) = (name.trim(), value.trim());
        if name == "arches" {
            arches = value.split(',').map(|a| a.trim().to_string()).collect();
            continue;
        }
        let mut parts = value.split(',').map(str::trim);
        let default: u64 = parts.next().unwrap().parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut per_arch: Vec<(String, u64)> = arches.iter().map(|a| (a.clone(), default)).collect();
        for p in parts {
            // arch[:arch...]:value
            let (names, v) = p.rsplit_once(':').unwrap_or_else(|| panic!("{name}: {p:?} is not arch:value"));
            let v: u64 = v.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
            for a in names.split(':') {
                let slot = per_arch.iter_mut().find(|(x, _)| x == a).unwrap_or_else(|| panic!("{name}: unknown arch {a}"));
                slot.1 = v;
            }
        }
        consts.push((name.to_string(), per_arch));
    }
    (arches, consts)
}

/// The syscall numbers syzkaller is given are the ones the series wires up.
#[test]
fn syzkaller_syscall_numbers_match_the_spec() {
    let spec = syscalls::parse_spec(&read(&project::root().join("kernel-syscalls.toml"))).unwrap();
    let path = project::root().join("tools/syzkaller/netspec.txt.const");
    let (arches, consts) = parse_syz_const(&read(&path));
    let want: Vec<&str> = SYZKALLER_ARCHES.iter().map(|(a, ..)| *a).collect();
    assert_eq!(arches, want, "{}: the arches line", path.display());
    for s in &spec.syscalls {
        let name = format!("__NR_{}", s.name);
        let (_, values) = consts.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{}: no {name}", path.display()));
        for (arch, table, offset, _) in SYZKALLER_ARCHES {
            let t = spec.tables.iter().find(|t| t.path == *table).unwrap_or_else(|| panic!("kernel-syscalls.toml has no {table}"));
            let number = u64::from(spec.number(s, t) + offset);
            let got = values.iter().find(|(a, _)| a == arch).unwrap().1;
            assert_eq!(got, number, "{}: {name} on {arch} (kernel-syscalls.toml, {table})", path.display());
        }
    }
    let nr = consts.iter().filter(|(n, _)| n.starts_with("__NR_")).count();
    assert_eq!(nr, spec.syscalls.len(), "{}: a __NR_ constant for a call kernel-syscalls.toml does not have", path.display());
}

/// The netspec constants syzkaller is given are the UAPI header's.
#[test]
fn syzkaller_constants_match_the_uapi() {
    use netspec_sys::*;
    let uapi: &[(&str, u64)] = &[
        ("NETSPEC_OP_QUERY", NETSPEC_OP_QUERY.into()),
        ("NETSPEC_OP_CUSTOMIZE", NETSPEC_OP_CUSTOMIZE.into()),
        ("NETSPEC_OP_INFO", NETSPEC_OP_INFO.into()),
        ("NETSPEC_PROTO_UDP", NETSPEC_PROTO_UDP.into()),
        ("NETSPEC_PROTO_TCP", NETSPEC_PROTO_TCP.into()),
        ("NETSPEC_POLICY_DEFAULT", NETSPEC_POLICY_DEFAULT.into()),
        ("NETSPEC_POLICY_REJECT", NETSPEC_POLICY_REJECT.into()),
        ("NETSPEC_POLICY_INVALIDATE", NETSPEC_POLICY_INVALIDATE.into()),
        ("NETSPEC_POLICY_RESPECIALIZE", NETSPEC_POLICY_RESPECIALIZE.into()),
        ("NETSPEC_POLICY_REINFORCE", NETSPEC_POLICY_REINFORCE.into()),
        // This host's <asm/socket.h>; every arch's is checked against the
        // series by syzkaller_so_adu_is_each_arch_s_socket_h.
        ("SO_ADU", SO_ADU.into()),
        ("NETSPEC_SEND_DONTWAIT", NETSPEC_SEND_DONTWAIT.into()),
        ("NETSPEC_SEND_BATCH", NETSPEC_SEND_BATCH.into()),
        ("NETSPEC_BATCH_MAX", NETSPEC_BATCH_MAX.into()),
    ];
    let path = project::root().join("tools/syzkaller/netspec.txt.const");
    let (_, consts) = parse_syz_const(&read(&path));
    for (name, values) in consts.iter().filter(|(n, _)| n.starts_with("NETSPEC_") || *n == "SO_ADU") {
        let want = uapi.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{}: {name} is not checked here; add it to this test", path.display())).1;
        for (arch, v) in values {
            assert_eq!(*v, want, "{}: {name} on {arch}", path.display());
        }
    }
    for (name, _) in uapi {
        assert!(consts.iter().any(|(n, _)| n == name), "{}: no {name}", path.display());
    }
}

/// The value the series of `base` gives `name` in `file`, a header of the
/// base it adds `#define`s to: the last definition it adds, read as a C
/// integer literal.
fn series_define(base: &str, file: &str, name: &str) -> Option<u64> {
    let mut value = None;
    for (n, text) in crate::series::listed_patches(base).unwrap() {
        let (patch, _) = ::series::parse_patch(&n, &text);
        for line in patch.added.iter().filter(|a| a.file == file) {
            let mut words = line.text.split_whitespace();
            if words.next() == Some("#define") && words.next() == Some(name) {
                let v = words.next().unwrap_or_else(|| panic!("patches/{base}/{n}: {name} without a value"));
                let parsed = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => v.parse(),
                };
                value = Some(parsed.unwrap_or_else(|e| panic!("patches/{base}/{n}: {name} {v}: {e}")));
            }
        }
    }
    value
}

/// The SO_ADU syzkaller is given for each arch is the one the series adds
/// to that arch's <asm/socket.h>, on every base; and this host's, which
/// netspec-sys reads, is the same.
#[test]
fn syzkaller_so_adu_is_each_arch_s_socket_h() {
    let path = project::root().join("tools/syzkaller/netspec.txt.const");
    let (_, consts) = parse_syz_const(&read(&path));
    let (_, values) = consts.iter().find(|(n, _)| n == "SO_ADU").unwrap_or_else(|| panic!("{}: no SO_ADU", path.display()));
    for b in base::BASES {
        for (arch, _, _, socket_h) in SYZKALLER_ARCHES {
            let want = series_define(b.name, socket_h, "SO_ADU")
                .unwrap_or_else(|| panic!("patches/{}/ adds no SO_ADU to {socket_h} ({arch}'s <asm/socket.h>)", b.name));
            let got = values.iter().find(|(a, _)| a == arch).unwrap().1;
            assert_eq!(got, want, "{}: SO_ADU on {arch}, against patches/{}/ ({socket_h})", path.display(), b.name);
        }
        let host = series_define(b.name, GENERIC_SOCKET_H, "SO_ADU");
        assert_eq!(host, Some(netspec_sys::SO_ADU.into()), "patches/{}/: SO_ADU in {GENERIC_SOCKET_H} against netspec-sys", b.name);
    }
}

/// A syzlang struct or union: its fields as (name, type).
struct SyzType {
    union: bool,
    fields: Vec<(String, String)>,
}

fn parse_syz_types(text: &str) -> std::collections::BTreeMap<String, SyzType> {
    let mut types = std::collections::BTreeMap::new();
    let mut cur: Option<(String, SyzType)> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some((name, t)) = &mut cur {
            if trimmed.starts_with('}') || trimmed.starts_with(']') {
                types.insert(name.clone(), cur.take().unwrap().1);
                continue;
            }
            let cols: Vec<&str> = trimmed.split('\t').filter(|c| !c.is_empty()).collect();
            if cols.len() >= 2 {
                t.fields.push((cols[0].to_string(), cols[1].to_string()));
            }
        } else if let Some(name) = trimmed.strip_suffix(" {") {
            cur = Some((name.to_string(), SyzType { union: false, fields: vec![] }));
        } else if let Some(name) = trimmed.strip_suffix(" [").filter(|n| !n.contains(' ')) {
            cur = Some((name.to_string(), SyzType { union: true, fields: vec![] }));
        }
    }
    types
}

/// Types syzkaller's own descriptions define, with their size and the
/// largest alignment they may have: the resources and address unions of
/// sys/linux/socket*.txt and vnet.txt the netspec ones use (some of
/// ipv6_addr's options are int64be pairs).
const SYZ_EXTERNAL: &[(&str, u64, u64)] = &[
    ("fd", 4, 4),
    ("sock_udp", 4, 4),
    ("sock_udp6", 4, 4),
    ("sock_tcp", 4, 4),
    ("sock_tcp6", 4, 4),
    ("ipv4_addr", 4, 4),
    ("ipv6_addr", 16, 8),
    ("sock_port", 2, 2),
];

/// (size, alignment) of a syzlang type, with natural alignment.
fn syz_size(ty: &str, types: &std::collections::BTreeMap<String, SyzType>, resources: &[(String, String)]) -> (u64, u64) {
    let ty = ty.trim();
    let int = |t: &str| -> Option<u64> {
        let bits = t.trim().strip_prefix("int")?.trim_end_matches(|c: char| !c.is_ascii_digit());
        let bits = bits.split(|c: char| !c.is_ascii_digit()).next()?;
        bits.parse::<u64>().ok().map(|b| b / 8)
    };
    // Arguments of the outermost brackets, split at top-level commas.
    let args = |t: &str| -> Vec<String> {
        let inner = &t[t.find('[').unwrap() + 1..t.rfind(']').unwrap()];
        let (mut out, mut depth, mut cur) = (Vec::new(), 0, String::new());
        for c in inner.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(cur.trim().to_string());
                    cur.clear();
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        out.push(cur.trim().to_string());
        out
    };
    if ty.starts_with("const[") || ty.starts_with("flags[") {
        let n = int(args(ty).last().unwrap()).unwrap_or_else(|| panic!("{ty}: no intN"));
        return (n, n);
    }
    if ty.starts_with("array[") {
        let a = args(ty);
        let (size, align) = syz_size(&a[0], types, resources);
        let n: u64 = a.get(1).unwrap_or_else(|| panic!("{ty}: variable length")).parse().unwrap();
        return (size * n, align);
    }
    if let Some(n) = int(ty) {
        return (n, n);
    }
    if let Some((_, under)) = resources.iter().find(|(r, _)| r == ty) {
        return syz_size(under, types, resources);
    }
    if let Some((_, size, align)) = SYZ_EXTERNAL.iter().find(|(e, _, _)| *e == ty) {
        return (*size, *align);
    }
    let t = types.get(ty).unwrap_or_else(|| panic!("syzlang type {ty} is unknown to this test"));
    let (mut size, mut align) = (0u64, 1u64);
    for (_, f) in &t.fields {
        let (s, a) = syz_size(f, types, resources);
        align = align.max(a);
        size = if t.union { size.max(s) } else { size.div_ceil(a) * a + s };
    }
    (size.div_ceil(align) * align, align)
}

fn field_size<T, F>(_: impl Fn(&T) -> &F) -> usize {
    std::mem::size_of::<F>()
}

/// The syzlang struct's name, the C struct's size, and (field name without
/// leading underscores, offset, size) of each field of the C struct; `syz =>
/// c` for a syzlang struct of another name that describes C struct `c`.
macro_rules! c_fields {
    ($t:ident: $($f:ident),*) => {
        c_fields!($t => $t: $($f),*)
    };
    ($syz:ident => $t:ident: $($f:ident),*) => {
        (stringify!($syz), std::mem::size_of::<netspec_sys::$t>(), vec![$((
            stringify!($f).trim_start_matches('_'),
            std::mem::offset_of!(netspec_sys::$t, $f),
            field_size(|s: &netspec_sys::$t| &s.$f),
        )),*])
    };
}

/// The syzlang structs have the UAPI structs' fields, at the same offsets
/// and of the same sizes, on every arch (the 8-byte fields are 8-aligned, so
/// 386's 4-byte alignment of int64 changes nothing).
#[test]
fn syzkaller_structs_match_the_uapi() {
    let path = project::root().join("tools/syzkaller/netspec.txt");
    let text = read(&path);
    let types = parse_syz_types(&text);
    let resources: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("resource "))
        .map(|l| {
            let (name, rest) = l.split_once('[').unwrap();
            (name.trim().to_string(), rest.split(']').next().unwrap().to_string())
        })
        .collect();
    let c = [
        c_fields!(netspec_query: flags, batch_max, ops, protocols, paths, send_flags, policies),
        c_fields!(netspec_customize: flags, fd, protocol, adu, send_flags, family, port, addr, policy, token, path),
        c_fields!(netspec_customize_tcp => netspec_customize: flags, fd, protocol, adu, send_flags, family, port, addr, policy, token, path),
        c_fields!(netspec_info: flags, token, protocol, path, adu, send_flags, family, port, addr, users, policy, mss, mss_clamp, sends, fallbacks, reroutes, trips, rewrites, id),
    ];
    for (name, size, fields) in c {
        let t = types.get(name).unwrap_or_else(|| panic!("{}: no struct {name}", path.display()));
        let mut syz = Vec::new();
        let mut off = 0u64;
        for (f, ty) in &t.fields {
            let (s, a) = syz_size(ty, &types, &resources);
            off = off.div_ceil(a) * a;
            assert!(a < 8 || off % 8 == 0, "{}: {name}.{f} would move on 386", path.display());
            syz.push((f.trim_start_matches('_'), off as usize, s as usize));
            off += s;
        }
        assert_eq!(syz, fields, "{}: struct {name} (name, offset, size) against the UAPI header", path.display());
        let (total, _) = syz_size(name, &types, &resources);
        assert_eq!(total as usize, size, "{}: sizeof {name}", path.display());
    }
}

/// netspec_policies has a byte of its own for every event, at the event's
/// index in the C policy array, and only unused bytes after them.
#[test]
fn syzkaller_policies_have_a_byte_per_event() {
    use netspec_sys::*;
    let events = [("socket", NETSPEC_EVENT_SOCKET), ("route", NETSPEC_EVENT_ROUTE), ("mss", NETSPEC_EVENT_MSS)];
    assert_eq!(events.len(), NETSPEC_EVENTS as usize, "an event this test does not know: add it here and to netspec_policies");
    let path = project::root().join("tools/syzkaller/netspec.txt");
    let types = parse_syz_types(&read(&path));
    let policies = types.get("netspec_policies").unwrap_or_else(|| panic!("{}: no struct netspec_policies", path.display()));
    let names: Vec<&str> = policies.fields.iter().map(|(f, _)| f.as_str()).collect();
    for (name, event) in events {
        assert_eq!(names.get(event as usize), Some(&name), "{}: netspec_policies byte {event}", path.display());
    }
    assert!(names[events.len()..].iter().all(|f| *f == "unused"), "{}: netspec_policies after the events: {names:?}", path.display());
}
