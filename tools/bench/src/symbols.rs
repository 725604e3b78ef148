//! Code size from a vmlinux symbol table (`nm -S` output): the text of the
//! functions each send path runs on every send and the other does not.
//!
//! Both paths end in the same code (`ip_local_out()` and below, the buffer
//! allocator, the copy and checksum routines, `ip_select_ident()`), which is
//! counted in neither. A function the compiler inlined has no symbol; its
//! code is in its caller's size, and the table says "inlined".

use serde::{Deserialize, Serialize};

/// A text symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub addr: u64,
    pub name: String,
    pub size: u64,
}

/// How a set's entry names its symbols.
#[derive(Clone, Copy, Debug)]
pub enum Match {
    /// The function, and the compiler's clones of it (`name.constprop.0`, ...).
    Func(&'static str),
    /// Every wrapper of a system call: `sys_x`, `__do_sys_x`, `__se_sys_x`,
    /// `__x64_sys_x`, `__ia32_sys_x`, `__arm64_sys_x`, `__riscv_sys_x`.
    Syscall(&'static str),
}

impl Match {
    fn matches(self, name: &str) -> bool {
        let base = name.split('.').next().unwrap_or(name);
        match self {
            Match::Func(f) => base == f,
            Match::Syscall(s) => {
                let Some(prefix) = base.strip_suffix(s) else { return false };
                let Some(prefix) = prefix.strip_suffix("sys_") else { return false };
                prefix.is_empty() || ["__do_", "__se_", "__x64_", "__ia32_", "__arm64_", "__riscv_"].contains(&prefix)
            }
        }
    }

    pub fn label(self) -> String {
        match self {
            Match::Func(f) => format!("{f}()"),
            Match::Syscall(s) => format!("sys_{s} (its wrappers)"),
        }
    }
}

/// customized_send() on a UDP/IPv4 instance: the system call, the token
/// lookup and release, the send (`netspec_send()`, which holds the batch
/// loop too) and its dispatch to the instance's path (`netspec_send_one()`),
/// the socket and route checks (`netspec_udp4_snapshot()` and the checks it
/// calls, which the GSO batch shares and so are out of line on every arch)
/// and the three build-time instantiations of the send path (one of which
/// an instance runs). Not counted: the slow paths a send takes only when
/// the route went stale (`netspec_udp4_reroute()`) or the instance fell
/// back (`netspec_send_generic()`), and the GSO batch
/// (`netspec_udp4_send_gso()`), which a single send does not run.
pub const SPECIALIZED: &[Match] = &[
    Match::Syscall("customized_send"),
    Match::Func("netspec_token_get"),
    Match::Func("netspec_inst_put"),
    Match::Func("netspec_count_send"),
    Match::Func("netspec_touch"),
    Match::Func("netspec_send"),
    Match::Func("netspec_send_one"),
    Match::Func("netspec_udp4_send"),
    Match::Func("netspec_udp4_snapshot"),
    Match::Func("netspec_udp4_same"),
    Match::Func("netspec_udp4_plain"),
    Match::Func("netspec_udp4_route_ok"),
    Match::Func("netspec_udp4_send_partial"),
    Match::Func("netspec_udp4_send_software"),
    Match::Func("netspec_udp4_send_none"),
];

/// The names of the build-time instantiations, of which an instance runs one.
const VARIANTS: &[&str] = &["netspec_udp4_send_partial", "netspec_udp4_send_software", "netspec_udp4_send_none"];

/// send() on a connected UDP/IPv4 socket (sendto() without an address):
/// the system call, the socket lookup and dispatch, udp_sendmsg() and the
/// corked-or-not buffer building of ip_make_skb(), and the hand-off to
/// ip_local_out() in ip_send_skb().
pub const GENERIC: &[Match] = &[
    Match::Func("__sys_sendto"),
    Match::Syscall("sendto"),
    Match::Syscall("send"),
    Match::Func("sockfd_lookup_light"),
    Match::Func("__sock_sendmsg"),
    Match::Func("sock_sendmsg_nosec"),
    Match::Func("inet_sendmsg"),
    Match::Func("udp_sendmsg"),
    Match::Func("ip_make_skb"),
    Match::Func("ip_setup_cork"),
    Match::Func("__ip_append_data"),
    Match::Func("ip_generic_getfrag"),
    Match::Func("__ip_make_skb"),
    Match::Func("ip_cork_release"),
    Match::Func("udp_send_skb"),
    Match::Func("ip_send_skb"),
];

/// One entry of a set and the symbols it matched (none: inlined).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub label: String,
    pub symbols: Vec<(String, u64)>,
}

impl Entry {
    pub fn size(&self) -> u64 {
        self.symbols.iter().map(|(_, s)| s).sum()
    }
}

/// Both sets, with their sizes in bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeSize {
    pub specialized: Vec<Entry>,
    pub generic: Vec<Entry>,
}

impl CodeSize {
    pub fn specialized_total(&self) -> u64 {
        self.specialized.iter().map(Entry::size).sum()
    }
    pub fn generic_total(&self) -> u64 {
        self.generic.iter().map(Entry::size).sum()
    }
    /// What one instance runs: the specialized set with only the largest
    /// of the instantiations.
    pub fn specialized_one_variant(&self) -> u64 {
        let variants: Vec<u64> = self
            .specialized
            .iter()
            .flat_map(|e| &e.symbols)
            .filter(|(n, _)| VARIANTS.contains(&n.split('.').next().unwrap_or(n)))
            .map(|(_, s)| *s)
            .collect();
        self.specialized_total() - variants.iter().sum::<u64>() + variants.iter().max().copied().unwrap_or(0)
    }
}

/// Text symbols (types t, T, W) with a size from `nm -S` output; other
/// lines are skipped.
pub fn parse_nm(text: &str) -> Vec<Symbol> {
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let [addr, size, kind, name] = w[..] else { return None };
            if !matches!(kind, "t" | "T" | "W" | "w") {
                return None;
            }
            Some(Symbol {
                addr: u64::from_str_radix(addr, 16).ok()?,
                name: name.to_string(),
                size: u64::from_str_radix(size, 16).ok()?,
            })
        })
        .collect()
}

/// Each symbol goes to the first entry of a set that matches it; an alias
/// (a second name at an address already counted, as ARM's `sys_x` for
/// `__se_sys_x`) is counted once.
pub fn code_size(symbols: &[Symbol]) -> CodeSize {
    let set = |matches: &[Match]| -> Vec<Entry> {
        let mut entries: Vec<Entry> =
            matches.iter().map(|m| Entry { label: m.label(), symbols: Vec::new() }).collect();
        let mut seen = std::collections::HashSet::new();
        for s in symbols {
            if let Some(i) = matches.iter().position(|m| m.matches(&s.name)) {
                if seen.insert(s.addr) {
                    entries[i].symbols.push((s.name.clone(), s.size));
                }
            }
        }
        entries
    };
    CodeSize { specialized: set(SPECIALIZED), generic: set(GENERIC) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(nm: &str, specialized: u64, one_variant: u64, generic: u64, inlined: &[&str]) {
        let c = code_size(&parse_nm(nm));
        assert_eq!((c.specialized_total(), c.specialized_one_variant(), c.generic_total()), (specialized, one_variant, generic));
        let none: Vec<&str> =
            c.specialized.iter().chain(&c.generic).filter(|e| e.symbols.is_empty()).map(|e| e.label.as_str()).collect();
        assert_eq!(none, inlined);
    }

    #[test]
    fn sets_from_an_x86_64_table() {
        let nm = "ffffffff8171fb95 000000000000030a T __x64_sys_customized_send\n\
            ffffffff817246c5 00000000000000a9 T netspec_token_get\n\
            ffffffff81722216 000000000000028c T netspec_inst_put\n\
            ffffffff81729a23 0000000000000269 T netspec_udp4_send\n\
            ffffffff81725aff 00000000000002b1 t netspec_udp4_snapshot.constprop.0\n\
            ffffffff81726a90 0000000000000bac t netspec_udp4_send_partial\n\
            ffffffff8172763c 0000000000000aa8 t netspec_udp4_send_software\n\
            ffffffff817280e4 00000000000009db t netspec_udp4_send_none\n\
            ffffffff81724d17 00000000000001dc T netspec_send_generic\n\
            ffffffff8149eed0 000000000000021c T __sys_sendto\n\
            ffffffff8149f0ec 00000000000000fe T __x64_sys_sendto\n\
            ffffffff8149b258 00000000000000f5 t sock_sendmsg_nosec\n\
            ffffffff816c6d4e 00000000000000a1 T inet_sendmsg\n\
            ffffffff816a78a1 000000000000160d T udp_sendmsg\n\
            ffffffff81619c8c 000000000000022e T ip_make_skb\n\
            ffffffff81610d1a 000000000000067d t ip_setup_cork.constprop.0\n\
            ffffffff81612279 000000000000221f t __ip_append_data\n\
            ffffffff81610af7 000000000000013e T ip_generic_getfrag\n\
            ffffffff81618c0a 0000000000000f9a T __ip_make_skb\n\
            ffffffff816a6ab8 0000000000000bff t udp_send_skb\n\
            ffffffff81619ba4 000000000000007e T ip_send_skb\n\
            ffffffff822e950c 0000000000000004 D netspec_net_id\n\
            ffffffff81638c9a 000000000000003b T tcp_sendmsg\n\
            garbage line\n";
        let specialized = 0x30a + 0xa9 + 0x28c + 0x269 + 0x2b1 + 0xbac + 0xaa8 + 0x9db;
        let generic = 0x21c + 0xfe + 0xf5 + 0xa1 + 0x160d + 0x22e + 0x67d + 0x221f + 0x13e + 0xf9a + 0xbff + 0x7e;
        check(
            nm,
            specialized,
            specialized - 0xaa8 - 0x9db,
            generic,
            &[
                "netspec_count_send()",
                "netspec_touch()",
                "netspec_send()",
                "netspec_send_one()",
                "netspec_udp4_same()",
                "netspec_udp4_plain()",
                "netspec_udp4_route_ok()",
                "sys_send (its wrappers)",
                "sockfd_lookup_light()",
                "__sock_sendmsg()",
                "ip_cork_release()",
            ],
        );
    }

    #[test]
    fn the_send_and_the_checks_count_where_out_of_line() {
        // As 6.12's x86_64 bench kernel has them since the GSO batch
        // shares the checks: out of line, each counted once.
        let nm = "ffffffff8121cd22 0000000000000277 T netspec_send\n\
            ffffffff8121d993 0000000000000053 t netspec_udp4_plain\n\
            ffffffff8121d6cc 000000000000005e t netspec_udp4_route_ok\n\
            ffffffff8121db42 00000000000000df t netspec_udp4_same\n\
            ffffffff8121dca5 000000000000007c t netspec_udp4_snapshot.constprop.0\n\
            ffffffff8121ec4d 00000000000003db T netspec_udp4_send_gso\n\
            ffffffff8121b629 00000000000000ac t netspec_send_generic\n";
        let c = code_size(&parse_nm(nm));
        assert_eq!(c.specialized_total(), 0x277 + 0x53 + 0x5e + 0xdf + 0x7c);
    }

    #[test]
    fn an_alias_counts_once() {
        let nm = "c04a1b20 000001d8 T __se_sys_customized_send\n\
            c04a1b20 000001d8 T sys_customized_send\n\
            c04a1000 00000060 T inet_sendmsg\n";
        let c = code_size(&parse_nm(nm));
        assert_eq!((c.specialized_total(), c.generic_total()), (0x1d8, 0x60));
        assert_eq!(c.specialized[0].symbols, [("__se_sys_customized_send".to_string(), 0x1d8)]);
    }

    #[test]
    fn syscall_wrappers_of_each_arch() {
        for name in ["sys_sendto", "__do_sys_sendto", "__se_sys_sendto", "__ia32_sys_sendto", "__riscv_sys_sendto"] {
            assert!(Match::Syscall("sendto").matches(name), "{name}");
        }
        for name in ["__sys_sendto", "compat_sys_sendto", "sys_sendtox", "sys_send"] {
            assert!(!Match::Syscall("sendto").matches(name), "{name}");
        }
    }
}
