//! The safe API against a real netspec kernel: run in the x86_64 test guest
//! as the `rust-api` suite (`cargo xtask vm-test`), it prints KTAP.
//!
//! Built for x86_64-unknown-linux-gnu with a static glibc, the one Rust
//! target this machine has; the other architectures test the same ABI from
//! C (vm-tests/suites/). Single-threaded, so that a test may fork.
//!
//! `guest_ktap --exec-check TOKEN SOCKET` is not a test: it is what the exec
//! test runs in the exec'd image, and exits 0 if the descriptor TOKEN is
//! closed and SOCKET open.

use netspec::{Error, Event, Path, Policies, Policy, Protocol, SendFlags, Token};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

const ADU: usize = 64;

struct Ktap {
    n: usize,
    failed: usize,
}

impl Ktap {
    fn plan(n: usize) -> Ktap {
        // A subtest of init's list: one level (four spaces) in.
        println!("    KTAP version 1");
        println!("    1..{n}");
        Ktap { n: 0, failed: 0 }
    }

    fn check(&mut self, ok: bool, name: &str, why: impl std::fmt::Display) {
        self.n += 1;
        if ok {
            println!("    ok {} {name}", self.n);
        } else {
            self.failed += 1;
            // One line: a reason with a newline would end the KTAP line.
            let why = why.to_string().replace('\n', " ");
            println!("    not ok {} {name} # {why}", self.n);
        }
    }
}

/// Brings `lo` up (the guest's init leaves it down, and so does a new
/// network namespace).
fn lo_up() -> io::Result<()> {
    let fd = UdpSocket::bind("0.0.0.0:0")?;
    // SAFETY: ifreq is plain data; the ioctls read and write only inside it.
    unsafe {
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (d, s) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *d = *s as libc::c_char;
        }
        if libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(fd.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--exec-check") {
        std::process::exit(exec_check(&args[2..]));
    }

    let tests: Vec<(&str, Test)> = [QUERY_TESTS, DESCRIPTOR_TESTS, GUARD_TESTS, BATCH_TESTS, TCP_TESTS, NETLINK_TESTS].concat();
    let mut t = Ktap::plan(tests.len());
    if let Err(e) = lo_up() {
        println!("    # cannot bring lo up: {e}");
    }
    for (name, test) in tests {
        let r = test();
        t.check(r.is_ok(), name, r.err().unwrap_or_default());
    }
    std::process::exit(if t.failed == 0 { 0 } else { 1 });
}

/// A test: `Err` says what it found.
type Test = fn() -> Result<(), String>;

/// `query()`, customize, send and info.
const QUERY_TESTS: &[(&str, Test)] = &[
    ("query_reports_the_series_operations_paths_flags_and_policies", query_reports_the_series_operations_paths_flags_and_policies),
    ("customize_gives_a_specialized_token_descriptor", customize_gives_a_specialized_token_descriptor),
    ("send_100_datagrams_in_order", send_100_datagrams_in_order),
    ("wrong_length_is_einval", wrong_length_is_einval),
    ("msg_flags_are_not_send_flags", msg_flags_are_not_send_flags),
    ("info_counts_sends_and_names_the_instance", info_counts_sends_and_names_the_instance),
    ("same_context_is_shared_and_drop_closes", same_context_is_shared_and_drop_closes),
    ("a_dup_of_the_socket_shares_the_instance_another_socket_does_not", a_dup_of_the_socket_shares_the_instance_another_socket_does_not),
    ("a_destination_and_the_send_flags_round_trip", a_destination_and_the_send_flags_round_trip),
    ("tcp_socket_in_a_udp_context_is_eprototype", tcp_socket_in_a_udp_context_is_eprototype),
];

/// Tokens as descriptors: clone, fork, SCM_RIGHTS, exec, the socket's close.
const DESCRIPTOR_TESTS: &[(&str, Test)] = &[
    ("try_clone_is_the_same_token", try_clone_is_the_same_token),
    ("a_descriptor_that_is_not_a_token_is_ebadf", a_descriptor_that_is_not_a_token_is_ebadf),
    ("a_forked_child_sends_through_the_inherited_token", a_forked_child_sends_through_the_inherited_token),
    ("scm_rights_passes_a_token_to_a_process_without_the_socket", scm_rights_passes_a_token_to_a_process_without_the_socket),
    ("exec_closes_the_token_but_not_the_socket", exec_closes_the_token_but_not_the_socket),
    ("closing_the_socket_ends_its_tokens_with_epipe", closing_the_socket_ends_its_tokens_with_epipe),
];

/// The guards, the policies and SO_ADU.
const GUARD_TESTS: &[(&str, Test)] = &[
    ("policies_default_to_the_namespace_sysctls", policies_default_to_the_namespace_sysctls),
    ("policies_round_trip_through_customize_and_info", policies_round_trip_through_customize_and_info),
    ("policy_an_event_does_not_take_is_einval", policy_an_event_does_not_take_is_einval),
    ("reject_refuses_a_frozen_option_and_connect_with_ebusy", reject_refuses_a_frozen_option_and_connect_with_ebusy),
    ("options_not_frozen_change_freely_and_apply_to_the_next_send", options_not_frozen_change_freely_and_apply_to_the_next_send),
    ("invalidate_lets_a_frozen_option_through_and_goes_generic", invalidate_lets_a_frozen_option_through_and_goes_generic),
    ("socket_respecialize_rebuilds_for_the_new_options", socket_respecialize_rebuilds_for_the_new_options),
    ("route_invalidate_goes_generic_on_a_stale_route", route_invalidate_goes_generic_on_a_stale_route),
    ("route_respecialize_reroutes_a_stale_route", route_respecialize_reroutes_a_stale_route),
    ("route_reinforce_round_trips_with_no_rewrites", route_reinforce_round_trips_with_no_rewrites),
    ("route_reinforce_needs_cap_net_admin", route_reinforce_needs_cap_net_admin),
    ("so_adu_round_trips", so_adu_round_trips),
    ("customize_takes_the_socket_s_adu", customize_takes_the_socket_s_adu),
    ("set_adu_follows_the_socket_policy", set_adu_follows_the_socket_policy),
];

/// Batches (`Token::send_batch`).
const BATCH_TESTS: &[(&str, Test)] = &[
    ("batch_of_50_arrives_whole_and_in_order", batch_of_50_arrives_whole_and_in_order),
    ("batch_counts_each_message_in_sends", batch_counts_each_message_in_sends),
    ("batch_of_a_length_not_a_multiple_of_the_adu_is_einval", batch_of_a_length_not_a_multiple_of_the_adu_is_einval),
    ("batch_of_batch_max_goes_one_more_is_einval", batch_of_batch_max_goes_one_more_is_einval),
];

/// TCP tokens (`Context::tcp`).
const TCP_TESTS: &[(&str, Test)] = &[
    ("tcp_token_sends_to_the_peer_and_freezes_the_mss", tcp_token_sends_to_the_peer_and_freezes_the_mss),
    ("tcp_customize_needs_a_connected_tcp_socket", tcp_customize_needs_a_connected_tcp_socket),
];

/// The generic netlink family (`netspec::instances`, `instance`, `stats`).
const NETLINK_TESTS: &[(&str, Test)] = &[
    ("stats_count_misses_and_hits", stats_count_misses_and_hits),
    ("instances_list_the_token_s_instance_until_its_last_token_goes", instances_list_the_token_s_instance_until_its_last_token_goes),
    ("instances_are_scoped_to_the_caller_s_uid", instances_are_scoped_to_the_caller_s_uid),
    ("instances_and_stats_are_scoped_to_the_network_namespace", instances_and_stats_are_scoped_to_the_network_namespace),
];

/// `Err(format!(...))` unless `cond`.
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

/// The errno of an `io::Result`'s error, if any.
fn errno<T>(r: &io::Result<T>) -> Option<i32> {
    r.as_ref().err().and_then(io::Error::raw_os_error)
}

/// A receiver and a sender connected to it, on loopback.
fn pair() -> Result<(UdpSocket, UdpSocket), String> {
    let s = || -> io::Result<(UdpSocket, UdpSocket)> {
        let rx = UdpSocket::bind("127.0.0.1:0")?;
        rx.set_read_timeout(Some(Duration::from_secs(1)))?;
        let tx = UdpSocket::bind("127.0.0.1:0")?;
        tx.connect(rx.local_addr()?)?;
        Ok((rx, tx))
    };
    s().map_err(|e| format!("loopback sockets: {e}"))
}

/// Sends one ADU-sized message with `fill` through `token` and checks that
/// `rx` gets exactly it.
fn send_arrives(token: &Token, rx: &UdpSocket, fill: u8) -> Result<(), String> {
    let msg = [fill; ADU];
    let sent = token.send(&msg);
    ensure!(sent.as_ref().ok() == Some(&ADU), "send: {sent:?}");
    let mut got = [0u8; 2 * ADU];
    let n = rx.recv(&mut got);
    ensure!(n.as_ref().ok() == Some(&ADU) && got[..ADU] == msg, "recv: {n:?}");
    Ok(())
}

/// Checks that nothing is queued on `rx`.
fn nothing_arrives(rx: &UdpSocket) -> Result<(), String> {
    let mut got = [0u8; 2 * ADU];
    rx.set_nonblocking(true).map_err(|e| format!("nonblocking: {e}"))?;
    let r = rx.recv(&mut got);
    rx.set_nonblocking(false).map_err(|e| format!("blocking: {e}"))?;
    match r {
        Ok(n) => Err(format!("a datagram of {n} bytes arrived that should not have")),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(format!("recv: {e}")),
    }
}

fn customize(c: netspec::Context<'_>) -> Result<Token, String> {
    c.customize().map_err(|e| format!("customize: {e:?}"))
}

fn info(token: &Token) -> Result<netspec::Info, String> {
    token.info().map_err(|e| format!("info: {e:?}"))
}

fn policies(socket: Policy, route: Policy, mss: Policy) -> Policies {
    Policies::default().with(Event::Socket, socket).with(Event::Route, route).with(Event::Mss, mss)
}

/// A sysctl of the guest's namespace, as a number.
fn sysctl(name: &str) -> Result<u64, String> {
    let path = format!("/proc/sys/net/netspec/{name}");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    text.trim().parse().map_err(|e| format!("{path}: {text:?}: {e}"))
}

/// A policy sysctl of the guest's namespace, as a policy.
fn sysctl_policy(name: &str) -> Result<Policy, String> {
    let n = sysctl(name)?;
    Policy::ALL
        .iter()
        .copied()
        .find(|p| u64::from(p.number()) == n && *p != Policy::Default)
        .ok_or_else(|| format!("net.netspec.{name} = {n}"))
}

/// Makes every cached IPv4 route stale, as a route change does.
fn flush_routes() -> Result<(), String> {
    let path = "/proc/sys/net/ipv4/route/flush";
    std::fs::write(path, "1").map_err(|e| format!("{path}: {e}"))
}

/// `setsockopt()` of an int.
fn set_int(socket: &impl AsFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the kernel reads an int from `value`, which lives across the call.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_fd().as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `getsockopt()` of an int.
fn get_int(socket: &impl AsFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `value`.
    let ret = unsafe {
        libc::getsockopt(socket.as_fd().as_raw_fd(), level, name, (&mut value as *mut libc::c_int).cast(), &mut len)
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

/// Receives one datagram on `rx`, which asked for the IPPROTO_IP control
/// message `cmsg_type` (`IP_RECVTTL`, `IP_RECVTOS`), and returns it with the
/// message's value.
fn recv_with_ip_cmsg(rx: &UdpSocket, cmsg_type: libc::c_int) -> Result<(Vec<u8>, Option<i32>), String> {
    let mut buf = vec![0u8; 2 * ADU];
    let mut control = [0u64; 8];
    // SAFETY: the iovec and control buffer live across recvmsg, which writes
    // only inside them; the control messages are read through the CMSG
    // macros, within msg_controllen.
    unsafe {
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(rx.as_raw_fd(), &mut msg, 0);
        ensure!(n >= 0, "recvmsg: {}", io::Error::last_os_error());
        buf.truncate(n as usize);
        let mut value = None;
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::IPPROTO_IP && (*c).cmsg_type == cmsg_type {
                let data = libc::CMSG_DATA(c);
                value = Some(if cmsg_type == libc::IP_TOS {
                    i32::from(*data)
                } else {
                    std::ptr::read_unaligned(data.cast::<libc::c_int>())
                });
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Ok((buf, value))
    }
}

/// A forked child running a test body; [`Child::wait`] gives its verdict.
struct Child {
    pid: libc::pid_t,
    why: OwnedFd,
}

/// Forks; the child runs `f` and exits with its verdict, which it writes to
/// a pipe for the parent. The child exits with `_exit()`, so it runs no
/// destructor of what it inherited.
fn fork_child(f: impl FnOnce() -> Result<(), String>) -> Result<Child, String> {
    let _ = io::stdout().flush();
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into `fds`.
    ensure!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0, "pipe: {}", io::Error::last_os_error());
    // SAFETY: two new descriptors nothing else owns.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: this program is single-threaded, so the child may run Rust.
    let pid = unsafe { libc::fork() };
    ensure!(pid >= 0, "fork: {}", io::Error::last_os_error());
    if pid == 0 {
        drop(r);
        let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| Err("the child panicked".into()));
        let code = match verdict {
            Ok(()) => 0,
            Err(why) => {
                let _ = std::fs::File::from(w).write_all(why.as_bytes());
                1
            }
        };
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    Ok(Child { pid, why: r })
}

impl Child {
    fn wait(self) -> Result<(), String> {
        let mut why = String::new();
        let _ = std::fs::File::from(self.why).read_to_string(&mut why);
        let mut status = 0;
        // SAFETY: waits for our own child; writes its status into `status`.
        let waited = unsafe { libc::waitpid(self.pid, &mut status, 0) };
        ensure!(waited == self.pid, "waitpid: {}", io::Error::last_os_error());
        ensure!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "in the child: {why} (status {status:#x})");
        Ok(())
    }
}

/// Becomes `nobody`, which drops every capability.
fn become_nobody() -> Result<(), String> {
    // SAFETY: no pointers.
    let ret = unsafe { libc::setresuid(65534, 65534, 65534) };
    ensure!(ret == 0, "setresuid: {}", io::Error::last_os_error());
    Ok(())
}

fn query_reports_the_series_operations_paths_flags_and_policies() -> Result<(), String> {
    use netspec::{Op, PolicySet};
    let q = netspec::query().map_err(|e| format!("query: {e:?}"))?;
    let bits = |set: &[u32]| set.iter().fold(0u64, |b, n| b | 1u64 << n);
    ensure!(q.ops.bits() == bits(&[Op::Query.number(), Op::Customize.number(), Op::Info.number()]), "ops: {q:?}");
    ensure!(q.protocols.bits() == bits(&[Protocol::Udp.number(), Protocol::Tcp.number()]), "protocols: {q:?}");
    ensure!(q.paths.bits() == bits(&[Path::Generic.number(), Path::Udp4.number(), Path::Tcp.number()]), "paths: {q:?}");
    ensure!(q.send_flags == SendFlags::DONTWAIT | SendFlags::BATCH, "send flags: {q:?}");
    ensure!(q.batch_max as usize == netspec::BATCH_MAX, "batch max: {q:?}");
    let set = |p: &[Policy]| PolicySet::from_bits(p.iter().fold(0u64, |b, p| b | 1u64 << p.number()));
    ensure!(q.policies(Event::Socket) == set(&[Policy::Reject, Policy::Invalidate, Policy::Respecialize]), "socket policies: {q:?}");
    // Root in the test kernel, which has netfilter: reinforce too.
    ensure!(q.policies(Event::Route) == set(&[Policy::Invalidate, Policy::Respecialize, Policy::Reinforce]), "route policies: {q:?}");
    ensure!(q.policies(Event::Mss) == set(&[Policy::Invalidate, Policy::Respecialize, Policy::Reinforce]), "MSS policies: {q:?}");
    ensure!(q.takes(Event::Socket, Policy::Default) && !q.takes(Event::Socket, Policy::Reinforce), "takes: {q:?}");
    Ok(())
}

fn customize_gives_a_specialized_token_descriptor() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    ensure!(token.path() == Path::Udp4 && token.protocol() == Protocol::Udp, "token: {token:?}");
    let fd = token.as_raw_fd();
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    ensure!(flags >= 0 && flags & libc::FD_CLOEXEC != 0, "F_GETFD: {flags:#x}");
    let path = format!("/proc/self/fdinfo/{fd}");
    let fdinfo = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    ensure!(
        fdinfo.contains(&format!("netspec-adu:\t{ADU}\n")) && fdinfo.contains(&format!("netspec-path:\t{}\n", Path::Udp4.number())),
        "{path}: {fdinfo:?}"
    );
    Ok(())
}

fn send_100_datagrams_in_order() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    for seq in 0..100u32 {
        let mut msg = [0u8; ADU];
        msg[..4].copy_from_slice(&seq.to_be_bytes());
        msg[4..].iter_mut().enumerate().for_each(|(i, b)| *b = (i as u32 * 7 + seq) as u8);
        let sent = token.send(&msg);
        ensure!(sent.as_ref().ok() == Some(&ADU), "datagram {seq}: send {sent:?}");
        let mut got = [0u8; 2 * ADU];
        let n = rx.recv(&mut got);
        ensure!(n.as_ref().ok() == Some(&ADU) && got[..ADU] == msg, "datagram {seq}: recv {n:?}");
    }
    let i = info(&token)?;
    ensure!(i.sends == 100 && i.fallbacks == 0 && i.path == Path::Udp4, "info: {i:?}");
    Ok(())
}

fn wrong_length_is_einval() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    for len in [0, ADU - 1, ADU + 1] {
        let r = token.send(&[0u8; 2 * ADU][..len]);
        ensure!(errno(&r) == Some(libc::EINVAL), "{len} bytes: {r:?}");
    }
    nothing_arrives(&rx)?;
    let i = info(&token)?;
    ensure!(i.sends == 0, "info: {i:?}");
    Ok(())
}

fn msg_flags_are_not_send_flags() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    // MSG_DONTWAIT is not NETSPEC_SEND_DONTWAIT, and no flag past BATCH is
    // known.
    for bits in [libc::MSG_DONTWAIT as u32, 1 << 2, 1 << 31] {
        let r = token.send_with_flags(&[1u8; ADU], SendFlags::from_bits(bits));
        ensure!(errno(&r) == Some(libc::EINVAL), "flags {bits:#x}: {r:?}");
    }
    let i = info(&token)?;
    ensure!(i.sends == 0, "sent with a refused flag: {i:?}");
    let r = token.send_nonblocking(&[2u8; ADU]);
    ensure!(r.as_ref().ok() == Some(&ADU), "NETSPEC_SEND_DONTWAIT: {r:?}");
    let mut got = [0u8; 2 * ADU];
    let n = rx.recv(&mut got);
    ensure!(n.as_ref().ok() == Some(&ADU) && got[0] == 2, "recv: {n:?}, first byte {}", got[0]);
    Ok(())
}

fn info_counts_sends_and_names_the_instance() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    for fill in 0..3 {
        send_arrives(&token, &rx, fill)?;
    }
    let i = info(&token)?;
    ensure!(
        i.sends == 3
            && i.users == 1
            && i.adu == ADU as u32
            && i.protocol == Protocol::Udp
            && i.path == Path::Udp4
            && i.destination.is_none()
            && !i.dont_wait
            && !i.no_signal
            && i.id > 0,
        "info: {i:?}"
    );
    Ok(())
}

fn same_context_is_shared_and_drop_closes() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let second = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let (a, b) = (info(&token)?, info(&second)?);
    ensure!(a.users == 2 && a.id == b.id && second.as_raw_fd() != token.as_raw_fd(), "first {a:?}, second {b:?}");
    let fd = second.as_raw_fd();
    drop(second);
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    ensure!(flags < 0, "descriptor {fd} still open after the drop");
    let users = info(&token)?.users;
    ensure!(users == 1, "users {users} after the drop");
    Ok(())
}

fn a_dup_of_the_socket_shares_the_instance_another_socket_does_not() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let dup = tx.try_clone().map_err(|e| format!("dup: {e}"))?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let through_dup = customize(netspec::Context::udp(&dup).adu(ADU as u32))?;
    let (a, b) = (info(&token)?, info(&through_dup)?);
    ensure!(a.id == b.id && a.users == 2, "the same socket through a dup: {a:?}, {b:?}");
    let other = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    other.connect(rx.local_addr().map_err(|e| format!("addr: {e}"))?).map_err(|e| format!("connect: {e}"))?;
    let elsewhere = customize(netspec::Context::udp(&other).adu(ADU as u32))?;
    let c = info(&elsewhere)?;
    ensure!(c.id != a.id && c.users == 1, "another socket, the same peer: {c:?}, first {a:?}");
    Ok(())
}

fn a_destination_and_the_send_flags_round_trip() -> Result<(), String> {
    let (rx, _) = pair()?;
    let to = rx.local_addr().map_err(|e| format!("addr: {e}"))?;
    let unconnected = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let context = netspec::Context::udp(&unconnected).adu(ADU as u32).destination(to);
    let token = customize(context.dont_wait(true).no_signal(true))?;
    send_arrives(&token, &rx, 0x3c)?;
    let i = info(&token)?;
    ensure!(i.destination == Some(to) && i.dont_wait && i.no_signal && i.sends == 1, "info: {i:?}, destination {to}");
    // Other flags, another context.
    let plain = customize(context)?;
    let p = info(&plain)?;
    ensure!(p.id != i.id && !p.dont_wait && !p.no_signal && p.destination == Some(to), "without the flags: {p:?}");
    // No peer and no destination: nowhere to send.
    let r = netspec::Context::udp(&unconnected).adu(ADU as u32).customize();
    ensure!(r.as_ref().err().and_then(Error::raw_os_error) == Some(libc::EDESTADDRREQ), "no destination: {r:?}");
    Ok(())
}

fn tcp_socket_in_a_udp_context_is_eprototype() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("tcp: {e}"))?;
    let r = netspec::Context::udp(&listener).adu(ADU as u32).customize();
    ensure!(matches!(&r, Err(Error::Other(io)) if io.raw_os_error() == Some(libc::EPROTOTYPE)), "{r:?}");
    Ok(())
}

fn try_clone_is_the_same_token() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let clone = token.try_clone().map_err(|e| format!("try_clone: {e}"))?;
    ensure!(clone.as_raw_fd() != token.as_raw_fd(), "the same descriptor");
    let (a, b) = (info(&token)?, info(&clone)?);
    ensure!(a.id == b.id && a.users == 1, "a clone is another user: {a:?}, {b:?}");
    drop(token);
    send_arrives(&clone, &rx, 0x11)?;
    let i = info(&clone)?;
    ensure!(i.sends == 1 && i.users == 1, "after the original's drop: {i:?}");
    Ok(())
}

fn a_descriptor_that_is_not_a_token_is_ebadf() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let socket_fd = OwnedFd::from(tx.try_clone().map_err(|e| format!("dup: {e}"))?);
    let raw = socket_fd.as_raw_fd();
    let r = Token::try_from(socket_fd);
    ensure!(matches!(r, Err(Error::NotAToken)), "the socket as a token: {r:?}");
    // customized_send() on the socket itself, as a C caller could.
    let msg = [0u8; ADU];
    // SAFETY: customized_send reads ADU bytes from msg.
    let ret = unsafe {
        libc::syscall(netspec_sys::SYS_customized_send, libc::c_long::from(tx.as_raw_fd()), msg.as_ptr(), msg.len(), 0 as libc::c_long)
    };
    let e = io::Error::last_os_error();
    ensure!(ret == -1 && e.raw_os_error() == Some(libc::EBADF), "customized_send on the socket: {ret}, {e}");
    nothing_arrives(&rx)?;
    // try_from took the descriptor and closed it.
    // SAFETY: F_GETFD only reads the descriptor's flags.
    ensure!(unsafe { libc::fcntl(raw, libc::F_GETFD) } < 0, "the refused descriptor {raw} is still open");
    Ok(())
}

fn a_forked_child_sends_through_the_inherited_token() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let id = info(&token)?.id;
    let child = fork_child(|| {
        let i = info(&token)?;
        ensure!(i.id == id && i.users == 1, "the inherited token: {i:?}");
        let sent = token.send(&[0x42; ADU]);
        ensure!(sent.as_ref().ok() == Some(&ADU), "send: {sent:?}");
        // Closing the child's copy releases nothing of the parent's. (The
        // Token itself is the parent's, borrowed: the child exits without
        // dropping it.)
        // SAFETY: the child's own copy of the descriptor, used no more.
        ensure!(unsafe { libc::close(token.as_raw_fd()) } == 0, "close: {}", io::Error::last_os_error());
        Ok(())
    })?;
    child.wait()?;
    let mut got = [0u8; 2 * ADU];
    let n = rx.recv(&mut got);
    ensure!(n.as_ref().ok() == Some(&ADU) && got[..ADU] == [0x42; ADU], "the child's datagram: {n:?}");
    send_arrives(&token, &rx, 0x43)?;
    let i = info(&token)?;
    ensure!(i.sends == 2 && i.users == 1, "after the child: {i:?}");
    Ok(())
}

/// Sends `fd` over `sock` with SCM_RIGHTS, with one byte of data.
fn send_fd(sock: &UnixStream, fd: BorrowedFd<'_>) -> Result<(), String> {
    let mut byte = [b'T'];
    let mut control = [0u64; 4];
    // SAFETY: the iovec and the control buffer (aligned, larger than
    // CMSG_SPACE(int)) live across sendmsg; the control message is written
    // through the CMSG macros, inside the buffer.
    unsafe {
        let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as _;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd.as_raw_fd());
        ensure!(libc::sendmsg(sock.as_raw_fd(), &msg, 0) == 1, "sendmsg: {}", io::Error::last_os_error());
    }
    Ok(())
}

/// Receives a descriptor sent with [`send_fd`].
fn recv_fd(sock: &UnixStream) -> Result<OwnedFd, String> {
    let mut byte = [0u8];
    let mut control = [0u64; 4];
    // SAFETY: as in send_fd; the descriptor read is a new one, ours.
    unsafe {
        let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        ensure!(n == 1, "recvmsg: {n}, {}", io::Error::last_os_error());
        let c = libc::CMSG_FIRSTHDR(&msg);
        ensure!(
            !c.is_null() && (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS,
            "no SCM_RIGHTS message"
        );
        Ok(OwnedFd::from_raw_fd(std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>())))
    }
}

fn scm_rights_passes_a_token_to_a_process_without_the_socket() -> Result<(), String> {
    let (ours, theirs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    // The child is forked before the socket exists: all it will ever hold
    // of it is the token. (`theirs` moves into the child's body, which the
    // parent drops unrun.)
    let child = fork_child(move || {
        let token = Token::try_from(recv_fd(&theirs)?).map_err(|e| format!("try_from: {e:?}"))?;
        ensure!(token.path() == Path::Udp4 && token.adu() == ADU as u32, "adopted: {token:?}");
        let sent = token.send(&[0x5c; ADU]);
        ensure!(sent.as_ref().ok() == Some(&ADU), "send: {sent:?}");
        Ok(())
    })?;
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let id = info(&token)?.id;
    send_fd(&ours, token.as_fd())?;
    // The child's copy is now the only one.
    drop(token);
    child.wait()?;
    let mut got = [0u8; 2 * ADU];
    let n = rx.recv(&mut got);
    ensure!(n.as_ref().ok() == Some(&ADU) && got[..ADU] == [0x5c; ADU], "the receiver's datagram: {n:?}");
    // Its last token went with the child.
    let after = netspec::instance(id).map_err(|e| format!("instance: {e:?}"))?;
    ensure!(after.is_none(), "instance {id} outlived its last token: {after:?}");
    Ok(())
}

/// In the exec'd image: `[token, socket]` descriptors; 0 if the token is
/// closed and the socket open.
fn exec_check(args: &[String]) -> i32 {
    let fd = |i: usize| args.get(i).and_then(|a| a.parse::<RawFd>().ok());
    let (Some(token), Some(socket)) = (fd(0), fd(1)) else {
        return 2;
    };
    // SAFETY: F_GETFD only reads the descriptors' flags.
    let (t, s) = unsafe { (libc::fcntl(token, libc::F_GETFD), libc::fcntl(socket, libc::F_GETFD)) };
    if t < 0 && s >= 0 {
        0
    } else {
        1
    }
}

fn exec_closes_the_token_but_not_the_socket() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    // A descriptor of the socket without FD_CLOEXEC, which exec keeps.
    // SAFETY: dup() returns a new descriptor or -1, checked.
    let kept = unsafe { libc::dup(tx.as_raw_fd()) };
    ensure!(kept >= 0, "dup: {}", io::Error::last_os_error());
    // SAFETY: a new descriptor nothing else owns.
    let kept = unsafe { OwnedFd::from_raw_fd(kept) };
    let status = std::process::Command::new("/proc/self/exe")
        .args(["--exec-check", &token.as_raw_fd().to_string(), &kept.as_raw_fd().to_string()])
        .status()
        .map_err(|e| format!("exec: {e}"))?;
    ensure!(status.success(), "after exec (token {}, socket {}): {status}", token.as_raw_fd(), kept.as_raw_fd());
    Ok(())
}

fn closing_the_socket_ends_its_tokens_with_epipe() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let dup = tx.try_clone().map_err(|e| format!("dup: {e}"))?;
    // Not the socket's last descriptor: nothing changes.
    drop(tx);
    send_arrives(&token, &rx, 0x10)?;
    drop(dup);
    let r = token.send(&[0u8; ADU]);
    ensure!(errno(&r) == Some(libc::EPIPE) && r.as_ref().err().map(io::Error::kind) == Some(io::ErrorKind::BrokenPipe), "send: {r:?}");
    let r = token.send_batch(&[0u8; 2 * ADU]);
    ensure!(errno(&r) == Some(libc::EPIPE), "batch: {r:?}");
    let r = token.info();
    ensure!(matches!(r, Err(Error::SocketClosed)), "info: {r:?}");
    // A wrong length is still EINVAL: the length is checked first.
    let r = token.send(&[0u8; ADU - 1]);
    ensure!(errno(&r) == Some(libc::EINVAL), "short send: {r:?}");
    Ok(())
}

fn policies_default_to_the_namespace_sysctls() -> Result<(), String> {
    let want = policies(sysctl_policy("socket_policy")?, sysctl_policy("route_policy")?, sysctl_policy("mss_policy")?);
    let (_rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    ensure!(token.policies() == want, "customize resolved {:?}, sysctls say {want:?}", token.policies());
    let i = info(&token)?;
    ensure!(i.policies == want && i.trips == 0, "info: {i:?}");
    Ok(())
}

fn policies_round_trip_through_customize_and_info() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let context = netspec::Context::udp(&tx).adu(ADU as u32);
    let asked = policies(Policy::Invalidate, Policy::Invalidate, Policy::Invalidate);
    let token = customize(
        context.on(Event::Socket, Policy::Invalidate).on(Event::Route, Policy::Invalidate).on(Event::Mss, Policy::Invalidate),
    )?;
    ensure!(token.policies() == asked, "customize gave {:?}", token.policies());
    ensure!(token.path() == Path::Udp4, "path {:?}", token.path());
    let i = info(&token)?;
    ensure!(i.policies == asked && i.trips == 0 && i.users == 1, "info: {i:?}");
    // Other policies, another instance. A UDP instance resolves and keeps
    // an MSS policy too, reinforce included, though only TCP uses it.
    let other = customize(
        context.on(Event::Socket, Policy::Respecialize).on(Event::Route, Policy::Respecialize).on(Event::Mss, Policy::Reinforce),
    )?;
    let o = info(&other)?;
    ensure!(
        o.policies == policies(Policy::Respecialize, Policy::Respecialize, Policy::Reinforce) && o.users == 1 && o.id != i.id,
        "other policies: {o:?}"
    );
    let i = info(&token)?;
    ensure!(i.users == 1, "policies shared an instance: {i:?}");
    Ok(())
}

fn policy_an_event_does_not_take_is_einval() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let context = netspec::Context::udp(&tx).adu(ADU as u32);
    for (event, policy) in [
        (Event::Socket, Policy::Reinforce),
        (Event::Socket, Policy::Unknown(8)),
        (Event::Route, Policy::Reject),
        (Event::Route, Policy::Unknown(5)),
        (Event::Mss, Policy::Reject),
        (Event::Mss, Policy::Unknown(5)),
    ] {
        let r = context.on(event, policy).customize();
        ensure!(matches!(r, Err(Error::InvalidArgument)), "{event:?} {policy:?}: {r:?}");
    }
    Ok(())
}

fn reject_refuses_a_frozen_option_and_connect_with_ebusy() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Socket, Policy::Reject))?;
    let r = set_int(&tx, libc::IPPROTO_IP, libc::IP_TOS, 0x20);
    ensure!(errno(&r) == Some(libc::EBUSY), "IP_TOS: {r:?}");
    let tos = get_int(&tx, libc::IPPROTO_IP, libc::IP_TOS);
    ensure!(tos.as_ref().ok() == Some(&0), "IP_TOS {tos:?} after the refused change");
    let r = tx.connect("127.0.0.1:9");
    ensure!(errno(&r) == Some(libc::EBUSY), "connect: {r:?}");
    let i = info(&token)?;
    ensure!(i.trips == 2 && i.path == Path::Udp4, "info: {i:?}");
    // Still specialized, still to the first peer.
    send_arrives(&token, &rx, 1)?;
    let i = info(&token)?;
    ensure!(i.sends == 1 && i.fallbacks == 0, "info after the send: {i:?}");
    Ok(())
}

fn options_not_frozen_change_freely_and_apply_to_the_next_send() -> Result<(), String> {
    let (rx, tx) = pair()?;
    set_int(&rx, libc::IPPROTO_IP, libc::IP_RECVTTL, 1).map_err(|e| format!("IP_RECVTTL: {e}"))?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Socket, Policy::Reject))?;
    tx.set_ttl(9).map_err(|e| format!("IP_TTL under reject: {e}"))?;
    set_int(&tx, libc::SOL_SOCKET, libc::SO_PRIORITY, 3).map_err(|e| format!("SO_PRIORITY: {e}"))?;
    set_int(&tx, libc::SOL_SOCKET, libc::SO_SNDBUF, 65536).map_err(|e| format!("SO_SNDBUF: {e}"))?;
    let sent = token.send(&[0x99; ADU]);
    ensure!(sent.as_ref().ok() == Some(&ADU), "send: {sent:?}");
    let (got, ttl) = recv_with_ip_cmsg(&rx, libc::IP_TTL)?;
    ensure!(got == [0x99; ADU] && ttl == Some(9), "received {} bytes with TTL {ttl:?}, want 9", got.len());
    let i = info(&token)?;
    ensure!(i.trips == 0 && i.path == Path::Udp4 && i.fallbacks == 0 && i.sends == 1, "info: {i:?}");
    Ok(())
}

fn invalidate_lets_a_frozen_option_through_and_goes_generic() -> Result<(), String> {
    let (rx, tx) = pair()?;
    set_int(&rx, libc::IPPROTO_IP, libc::IP_RECVTOS, 1).map_err(|e| format!("IP_RECVTOS: {e}"))?;
    let context = netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Socket, Policy::Invalidate);
    let token = customize(context)?;
    ensure!(token.path() == Path::Udp4, "path {:?}", token.path());
    set_int(&tx, libc::IPPROTO_IP, libc::IP_TOS, 0x20).map_err(|e| format!("IP_TOS: {e}"))?;
    // The next send finds the change: it invalidates, and goes through the
    // generic path, which reads the socket's new state.
    let sent = token.send(&[0x22; ADU]);
    ensure!(sent.as_ref().ok() == Some(&ADU), "send: {sent:?}");
    let (got, tos) = recv_with_ip_cmsg(&rx, libc::IP_TOS)?;
    ensure!(got == [0x22; ADU] && tos == Some(0x20), "received {} bytes with TOS {tos:?}, want 0x20", got.len());
    let i = info(&token)?;
    ensure!(i.path == Path::Generic && i.trips == 1 && i.fallbacks == 1 && i.sends == 1, "info after the change and a send: {i:?}");
    // For good: another change is no event, and the generic path is the
    // instance's own, so its sends are no fallbacks.
    set_int(&tx, libc::IPPROTO_IP, libc::IP_TOS, 0x40).map_err(|e| format!("second IP_TOS: {e}"))?;
    send_arrives(&token, &rx, 2)?;
    let i = info(&token)?;
    ensure!(
        i.path == Path::Generic && i.trips == 1 && i.sends == 2 && i.fallbacks == 1,
        "info after a second change and a send: {i:?}"
    );
    // The invalidated instance left the table: the same context specializes
    // anew.
    let again = customize(context)?;
    let a = info(&again)?;
    ensure!(a.path == Path::Udp4 && a.users == 1 && a.trips == 0 && a.id != i.id, "new customize: {a:?}");
    send_arrives(&again, &rx, 3)?;
    Ok(())
}

fn socket_respecialize_rebuilds_for_the_new_options() -> Result<(), String> {
    let (rx, tx) = pair()?;
    set_int(&rx, libc::IPPROTO_IP, libc::IP_RECVTOS, 1).map_err(|e| format!("IP_RECVTOS: {e}"))?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Socket, Policy::Respecialize))?;
    set_int(&tx, libc::IPPROTO_IP, libc::IP_TOS, 0x20).map_err(|e| format!("IP_TOS: {e}"))?;
    let sent = token.send(&[0x21; ADU]);
    ensure!(sent.as_ref().ok() == Some(&ADU), "send: {sent:?}");
    let (got, tos) = recv_with_ip_cmsg(&rx, libc::IP_TOS)?;
    ensure!(got == [0x21; ADU] && tos == Some(0x20), "received {} bytes with TOS {tos:?}, want 0x20", got.len());
    let i = info(&token)?;
    ensure!(i.path == Path::Udp4 && i.trips == 1 && i.fallbacks == 0 && i.sends == 1, "info: {i:?}");
    Ok(())
}

fn route_invalidate_goes_generic_on_a_stale_route() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Route, Policy::Invalidate))?;
    send_arrives(&token, &rx, 4)?;
    flush_routes()?;
    // The send that finds the route stale invalidates and falls back.
    send_arrives(&token, &rx, 5)?;
    let i = info(&token)?;
    ensure!(
        i.path == Path::Generic && i.trips == 1 && i.fallbacks == 1 && i.reroutes == 0 && i.sends == 2,
        "info after the stale route: {i:?}"
    );
    send_arrives(&token, &rx, 6)?;
    let i = info(&token)?;
    ensure!(i.sends == 3 && i.fallbacks == 1 && i.trips == 1, "info after a generic send: {i:?}");
    Ok(())
}

fn route_respecialize_reroutes_a_stale_route() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Route, Policy::Respecialize))?;
    send_arrives(&token, &rx, 7)?;
    flush_routes()?;
    send_arrives(&token, &rx, 8)?;
    let i = info(&token)?;
    ensure!(
        i.path == Path::Udp4 && i.reroutes == 1 && i.trips == 0 && i.fallbacks == 0 && i.sends == 2,
        "info after the stale route: {i:?}"
    );
    Ok(())
}

fn route_reinforce_round_trips_with_no_rewrites() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Route, Policy::Reinforce))?;
    ensure!(token.policies().get(Event::Route) == Policy::Reinforce, "customize gave {:?}", token.policies());
    ensure!(token.path() == Path::Udp4, "path {:?}", token.path());
    send_arrives(&token, &rx, 11)?;
    // No route change: nothing installs the reinforcement, nothing is rewritten.
    let i = info(&token)?;
    ensure!(
        i.policies == token.policies() && i.rewrites == 0 && i.trips == 0 && i.reroutes == 0 && i.sends == 1,
        "info: {i:?}"
    );
    Ok(())
}

fn route_reinforce_needs_cap_net_admin() -> Result<(), String> {
    fork_child(|| {
        become_nobody()?;
        let q = netspec::query().map_err(|e| format!("query: {e:?}"))?;
        ensure!(
            !q.takes(Event::Route, Policy::Reinforce) && q.takes(Event::Route, Policy::Respecialize) && q.takes(Event::Mss, Policy::Reinforce),
            "query as nobody: {q:?}"
        );
        let (rx, tx) = pair()?;
        let r = netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Route, Policy::Reinforce).customize();
        ensure!(matches!(r, Err(Error::PermissionDenied)), "reinforce as nobody: {r:?}");
        let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Route, Policy::Respecialize))?;
        send_arrives(&token, &rx, 0x12)
    })?
    .wait()
}

fn so_adu_round_trips() -> Result<(), String> {
    let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let before = netspec::adu(&s);
    ensure!(before.as_ref().ok() == Some(&0), "a new socket's SO_ADU: {before:?}");
    netspec::set_adu(&s, ADU as u32).map_err(|e| format!("set_adu: {e:?}"))?;
    let got = netspec::adu(&s);
    ensure!(got.as_ref().ok() == Some(&(ADU as u32)), "SO_ADU read back: {got:?}");
    // The option is the raw SO_ADU at SOL_SOCKET, the number the series gives it.
    let raw = get_int(&s, libc::SOL_SOCKET, netspec_sys::SO_ADU as libc::c_int);
    ensure!(raw.as_ref().ok() == Some(&(ADU as libc::c_int)), "getsockopt(SO_ADU): {raw:?}");
    let r = netspec::set_adu(&s, 65536);
    ensure!(errno(&r) == Some(libc::EINVAL), "65536: {r:?}");
    netspec::set_adu(&s, 65535).map_err(|e| format!("65535: {e:?}"))?;
    netspec::set_adu(&s, 0).map_err(|e| format!("set_adu 0: {e:?}"))?;
    let got = netspec::adu(&s);
    ensure!(got.as_ref().ok() == Some(&0), "SO_ADU after 0: {got:?}");
    let tcp = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("tcp: {e}"))?;
    let r = netspec::set_adu(&tcp, ADU as u32);
    ensure!(errno(&r) == Some(libc::ENOPROTOOPT), "TCP: {r:?}");
    Ok(())
}

fn customize_takes_the_socket_s_adu() -> Result<(), String> {
    let (rx, tx) = pair()?;
    netspec::set_adu(&tx, ADU as u32).map_err(|e| format!("set_adu: {e:?}"))?;
    let token = customize(netspec::Context::udp(&tx))?;
    ensure!(
        token.adu() == ADU as u32 && token.path() == Path::Udp4,
        "customize without an ADU: adu {} path {:?}",
        token.adu(),
        token.path()
    );
    let i = info(&token)?;
    ensure!(i.adu == ADU as u32, "info: {i:?}");
    send_arrives(&token, &rx, 9)?;
    let r = token.send(&[0u8; ADU - 1]);
    ensure!(errno(&r) == Some(libc::EINVAL), "short send: {r:?}");
    let r = netspec::Context::udp(&tx).adu(ADU as u32 / 2).customize();
    ensure!(matches!(r, Err(Error::InvalidArgument)), "another ADU: {r:?}");
    // The same ADU, given again, is the same context.
    let same = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let i = info(&same)?;
    ensure!(same.adu() == ADU as u32 && i.users == 2, "the same ADU given: {i:?}");
    Ok(())
}

fn set_adu_follows_the_socket_policy() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    netspec::set_adu(&tx, ADU as u32).map_err(|e| format!("set_adu: {e:?}"))?;
    let token = customize(netspec::Context::udp(&tx).on(Event::Socket, Policy::Reject))?;
    let r = netspec::set_adu(&tx, 2 * ADU as u32);
    ensure!(errno(&r) == Some(libc::EBUSY), "set_adu: {r:?}");
    let got = netspec::adu(&tx);
    ensure!(got.as_ref().ok() == Some(&(ADU as u32)), "SO_ADU after the refusal: {got:?}");
    let i = info(&token)?;
    ensure!(i.trips == 1 && i.path == Path::Udp4, "info: {i:?}");
    Ok(())
}

/// `n` messages of the ADU back to back, each starting with its number and
/// none the same as another.
fn batch(n: u32) -> Vec<u8> {
    let mut msgs = vec![0u8; n as usize * ADU];
    for (seq, msg) in (0..n).zip(msgs.chunks_exact_mut(ADU)) {
        msg[..4].copy_from_slice(&seq.to_be_bytes());
        msg[4..].iter_mut().enumerate().for_each(|(i, b)| *b = (i as u32 * 13 + seq) as u8);
    }
    msgs
}

fn batch_of_50_arrives_whole_and_in_order() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    ensure!(token.path() == Path::Udp4, "path {:?}", token.path());
    let msgs = batch(50);
    let sent = token.send_batch(&msgs);
    ensure!(sent.as_ref().ok() == Some(&50), "send_batch: {sent:?}");
    let mut got = [0u8; 2 * ADU];
    for (seq, msg) in msgs.chunks_exact(ADU).enumerate() {
        let n = rx.recv(&mut got);
        ensure!(n.as_ref().ok() == Some(&ADU) && got[..ADU] == *msg, "message {seq}: recv {n:?}");
    }
    // Loopback delivers during the send: a 51st datagram would be queued.
    nothing_arrives(&rx)
}

fn batch_counts_each_message_in_sends() -> Result<(), String> {
    // The receiver stays open: a send to a closed port makes the next fail.
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    send_arrives(&token, &rx, 12)?;
    let before = info(&token)?;
    let sent = token.send_batch(&batch(50));
    ensure!(sent.as_ref().ok() == Some(&50), "send_batch: {sent:?}");
    let after = info(&token)?;
    ensure!(
        after.sends == before.sends + 50 && after.fallbacks == before.fallbacks && after.path == Path::Udp4,
        "info before {before:?}, after {after:?}"
    );
    Ok(())
}

fn batch_of_a_length_not_a_multiple_of_the_adu_is_einval() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let msgs = batch(3);
    for len in [0, ADU - 1, ADU + 1, 3 * ADU - 1] {
        let r = token.send_batch(&msgs[..len]);
        ensure!(errno(&r) == Some(libc::EINVAL), "{len} bytes: {r:?}");
    }
    let i = info(&token)?;
    ensure!(i.sends == 0, "sent after the failed batches: {i:?}");
    // A token without an ADU takes no batch.
    let any = customize(netspec::Context::udp(&tx))?;
    let r = any.send_batch_bytes(&msgs);
    ensure!(errno(&r) == Some(libc::EINVAL), "a batch without an ADU: {r:?}");
    Ok(())
}

fn batch_of_batch_max_goes_one_more_is_einval() -> Result<(), String> {
    let (rx, tx) = pair()?;
    // Room for the whole batch, so that none is dropped on the way.
    set_int(&rx, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 8 << 20).map_err(|e| format!("SO_RCVBUFFORCE: {e}"))?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let msgs = batch(netspec::BATCH_MAX as u32 + 1);
    let r = token.send_batch(&msgs);
    ensure!(errno(&r) == Some(libc::EINVAL), "{} messages: {r:?}", netspec::BATCH_MAX + 1);
    let r = token.send_batch(&msgs[..netspec::BATCH_MAX * ADU]);
    ensure!(r.as_ref().ok() == Some(&netspec::BATCH_MAX), "{} messages: {r:?}", netspec::BATCH_MAX);
    let mut got = [0u8; 2 * ADU];
    for (seq, msg) in msgs.chunks_exact(ADU).take(netspec::BATCH_MAX).enumerate() {
        let n = rx.recv(&mut got);
        ensure!(n.as_ref().ok() == Some(&ADU) && got[..ADU] == *msg, "message {seq}: recv {n:?}");
    }
    let i = info(&token)?;
    ensure!(i.sends == netspec::BATCH_MAX as u64, "info: {i:?}");
    Ok(())
}

/// A connected TCP pair on loopback: the accepted end, reading with a
/// timeout, and the connecting end.
fn tcp_pair() -> Result<(TcpStream, TcpStream), String> {
    let s = || -> io::Result<(TcpStream, TcpStream)> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let tx = TcpStream::connect(listener.local_addr()?)?;
        let (rx, _) = listener.accept()?;
        rx.set_read_timeout(Some(Duration::from_secs(1)))?;
        Ok((rx, tx))
    };
    s().map_err(|e| format!("loopback TCP: {e}"))
}

/// Reads exactly `want.len()` bytes from `rx` and checks they are `want`.
fn stream_arrives(rx: &mut TcpStream, want: &[u8]) -> Result<(), String> {
    let mut got = vec![0u8; want.len()];
    let r = rx.read_exact(&mut got);
    ensure!(r.is_ok(), "recv of {} bytes: {r:?}", want.len());
    ensure!(got == want, "{} bytes arrived, not the ones sent", want.len());
    Ok(())
}

fn tcp_token_sends_to_the_peer_and_freezes_the_mss() -> Result<(), String> {
    let (mut rx, tx) = tcp_pair()?;
    let token = customize(netspec::Context::tcp(&tx).adu(ADU as u32).on(Event::Socket, Policy::Reject))?;
    ensure!(token.path() == Path::Tcp && token.protocol() == Protocol::Tcp, "token: {token:?}");
    let mss_policy = sysctl_policy("mss_policy")?;
    ensure!(token.policies().get(Event::Mss) == mss_policy, "customize gave {:?}", token.policies());

    // One message, then a batch, each to the peer and in order.
    let msg = [0x5au8; ADU];
    let sent = token.send(&msg);
    ensure!(sent.as_ref().ok() == Some(&ADU), "send: {sent:?}");
    stream_arrives(&mut rx, &msg)?;
    let msgs = batch(10);
    let sent = token.send_batch_bytes(&msgs);
    ensure!(sent.as_ref().ok() == Some(&msgs.len()), "send_batch_bytes: {sent:?}");
    stream_arrives(&mut rx, &msgs)?;

    let mss = get_int(&tx, libc::IPPROTO_TCP, libc::TCP_MAXSEG).map_err(|e| format!("TCP_MAXSEG: {e}"))? as u32;
    let i = info(&token)?;
    ensure!(
        i.path == Path::Tcp
            && i.protocol == Protocol::Tcp
            && i.mss == mss
            && i.mss > 0
            && i.mss_clamp == 0
            && i.destination.is_none()
            && i.adu == ADU as u32
            && i.sends == 11
            && i.fallbacks == 0
            // 7.3's loopback connection settles its MSS (32768) after the
            // customize: one MSS trip, which respecialize follows.
            && (i.trips == 0 || (mss_policy == Policy::Respecialize && i.trips == 1)),
        "info: {i:?}, TCP_MAXSEG {mss}"
    );

    let trips0 = i.trips;

    // TCP_MAXSEG is the option a TCP instance froze: refused under reject,
    // and the MSS stays the frozen one. Others go through.
    let r = set_int(&tx, libc::IPPROTO_TCP, libc::TCP_MAXSEG, 536);
    ensure!(errno(&r) == Some(libc::EBUSY), "TCP_MAXSEG: {r:?}");
    tx.set_nodelay(true).map_err(|e| format!("TCP_NODELAY: {e}"))?;
    let i = info(&token)?;
    let now = get_int(&tx, libc::IPPROTO_TCP, libc::TCP_MAXSEG).map_err(|e| format!("TCP_MAXSEG: {e}"))? as u32;
    ensure!(i.trips == trips0 + 1 && i.path == Path::Tcp && i.mss == now, "info after the refusal: {i:?}, TCP_MAXSEG {now}");
    Ok(())
}

fn tcp_customize_needs_a_connected_tcp_socket() -> Result<(), String> {
    // A listening socket, and one never connected, given as a raw fd.
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("listen: {e}"))?;
    let r = netspec::Context::tcp(&listener).customize();
    ensure!(matches!(r, Err(Error::NotConnected)), "listener: {r:?}");
    // SAFETY: socket() returns a new descriptor, or -1, checked first.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
    ensure!(fd >= 0, "socket: {}", io::Error::last_os_error());
    // SAFETY: fd is open and nothing else owns it.
    let unconnected = unsafe { OwnedFd::from_raw_fd(fd) };
    let r = netspec::Context::tcp(&unconnected).customize();
    ensure!(matches!(r, Err(Error::NotConnected)), "unconnected: {r:?}");

    // A TCP stream goes to its peer: no destination.
    let (_rx, tx) = tcp_pair()?;
    let peer = tx.peer_addr().map_err(|e| format!("peer: {e}"))?;
    let r = netspec::Context::tcp(&tx).destination(peer).customize();
    ensure!(matches!(r, Err(Error::InvalidArgument)), "with a destination: {r:?}");

    // The protocol must be the socket's.
    let (_urx, utx) = pair()?;
    let r = netspec::Context::tcp(&utx).customize();
    ensure!(matches!(&r, Err(Error::Other(e)) if e.raw_os_error() == Some(libc::EPROTOTYPE)), "a UDP socket as TCP: {r:?}");
    Ok(())
}

fn stats() -> Result<netspec::Stats, String> {
    netspec::stats().map_err(|e| format!("stats: {e:?}"))
}

fn instances() -> Result<Vec<netspec::Instance>, String> {
    netspec::instances().map_err(|e| format!("instances: {e:?}"))
}

fn stats_count_misses_and_hits() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let before = stats()?;
    let first = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let after_miss = stats()?;
    let second = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let after_hit = stats()?;
    ensure!(
        after_miss.misses == before.misses + 1 && after_miss.hits == before.hits && after_miss.versions == before.versions + 1,
        "before {before:?}, after a new context {after_miss:?}"
    );
    ensure!(
        after_hit.hits == before.hits + 1 && after_hit.misses == after_miss.misses && after_hit.versions == after_miss.versions,
        "after a new context {after_miss:?}, after the same again {after_hit:?}"
    );
    let max = sysctl("max_versions")?;
    ensure!(u64::from(after_hit.max_versions) == max, "stats {after_hit:?}, net.netspec.max_versions {max}");
    // The series' family counts the code requests that reached an agent.
    ensure!(
        after_hit.code_requests.is_some() && after_hit.code_requests_dropped.is_some(),
        "stats {after_hit:?}: no code-requests"
    );
    drop((first, second));
    let gone = stats()?;
    ensure!(gone.versions == before.versions, "after the last token: {gone:?}, before {before:?}");
    Ok(())
}

fn instances_list_the_token_s_instance_until_its_last_token_goes() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let to: SocketAddr = rx.local_addr().map_err(|e| format!("addr: {e}"))?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).destination(to).on(Event::Route, Policy::Invalidate))?;
    send_arrives(&token, &rx, 0x1f)?;
    let i = info(&token)?;
    let listed: Vec<_> = instances()?.into_iter().filter(|inst| inst.info.id == i.id).collect();
    ensure!(listed.len() == 1, "instance {} listed {} times", i.id, listed.len());
    ensure!(listed[0].info == i && listed[0].pid == std::process::id(), "listed {:?}, info {i:?}", listed[0]);
    let one = netspec::instance(i.id).map_err(|e| format!("instance: {e:?}"))?;
    ensure!(one.as_ref() == Some(&listed[0]), "instance({}): {one:?}", i.id);
    let clone = token.try_clone().map_err(|e| format!("try_clone: {e}"))?;
    drop(token);
    let still = netspec::instance(i.id).map_err(|e| format!("instance: {e:?}"))?;
    ensure!(still.is_some(), "instance {} gone while a descriptor of its token is open", i.id);
    drop(clone);
    let gone = netspec::instance(i.id).map_err(|e| format!("instance: {e:?}"))?;
    ensure!(gone.is_none(), "instance {} after its last token: {gone:?}", i.id);
    ensure!(instances()?.iter().all(|inst| inst.info.id != i.id), "instance {} still listed", i.id);
    let none = netspec::instance(0).map_err(|e| format!("instance(0): {e:?}"))?;
    ensure!(none.is_none(), "instance(0): {none:?}");
    Ok(())
}

fn instances_are_scoped_to_the_caller_s_uid() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let roots = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let root_id = info(&roots)?.id;
    fork_child(|| {
        become_nobody()?;
        let (rx, tx) = pair()?;
        let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
        send_arrives(&token, &rx, 0x2e)?;
        let mine = info(&token)?;
        let listed = instances()?;
        let me = std::process::id();
        ensure!(
            listed.iter().any(|inst| inst.info == mine) && listed.iter().all(|inst| inst.pid == me),
            "nobody lists {listed:?}, its own is {mine:?}"
        );
        // root's instance is there, and not nobody's to see.
        let other = netspec::instance(root_id).map_err(|e| format!("instance: {e:?}"))?;
        ensure!(other.is_none(), "nobody sees root's instance {root_id}: {other:?}");
        Ok(())
    })?
    .wait()?;
    // And root sees it still.
    let seen = netspec::instance(root_id).map_err(|e| format!("instance: {e:?}"))?;
    ensure!(seen.is_some(), "root lost sight of its instance {root_id}");
    Ok(())
}

fn instances_and_stats_are_scoped_to_the_network_namespace() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let outside = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let outside_id = info(&outside)?.id;
    fork_child(|| {
        // SAFETY: no pointers; a single-threaded process may unshare.
        ensure!(unsafe { libc::unshare(libc::CLONE_NEWNET) } == 0, "unshare: {}", io::Error::last_os_error());
        lo_up().map_err(|e| format!("lo in the new namespace: {e}"))?;
        let fresh = stats()?;
        ensure!(fresh.hits == 0 && fresh.misses == 0 && fresh.versions == 0, "a new namespace's stats: {fresh:?}");
        ensure!(instances()?.is_empty(), "a new namespace lists instances");
        let (rx, tx) = pair()?;
        let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
        send_arrives(&token, &rx, 0x3d)?;
        let mine = info(&token)?;
        let listed = instances()?;
        ensure!(listed.len() == 1 && listed[0].info == mine, "the namespace lists {listed:?}, its one is {mine:?}");
        let s = stats()?;
        ensure!(s.misses == 1 && s.hits == 0 && s.versions == 1, "stats: {s:?}");
        // The outside token, still open here, is not this namespace's.
        let i = info(&outside)?;
        ensure!(i.id == outside_id, "the outside token: {i:?}");
        let here = netspec::instance(outside_id).map_err(|e| format!("instance: {e:?}"))?;
        ensure!(here.as_ref().is_none_or(|h| h.info == mine), "the outside instance {outside_id} seen here: {here:?}");
        Ok(())
    })?
    .wait()
}
