//! The safe API against a real netspec kernel: run in the x86_64 test guest
//! as the `rust-api` suite (`cargo xtask vm-test`), it prints KTAP.
//!
//! Built for x86_64-unknown-linux-gnu with a static glibc, the one Rust
//! target this machine has; the other architectures test the same ABI from
//! C (vm-tests/suites/).

use netspec::{Event, Policies, Policy};
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
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
            println!("    not ok {} {name} # {why}", self.n);
        }
    }
}

/// Brings `lo` up (the guest's init leaves it down).
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
    let mut t = Ktap::plan(9 + GUARD_TESTS.len() + BATCH_TESTS.len() + TCP_TESTS.len());
    if let Err(e) = lo_up() {
        println!("    # cannot bring lo up: {e}");
    }

    let q = netspec::query();
    t.check(
        matches!(&q, Ok(q) if q.supports(netspec::Op::Customize) && q.can_specialize(netspec::Protocol::Udp)),
        "query_reports_customize_and_udp",
        format!("{q:?}"),
    );

    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    rx.set_read_timeout(Some(std::time::Duration::from_secs(1))).expect("timeout");
    let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    tx.connect(rx.local_addr().expect("addr")).expect("connect");

    let token = netspec::Context::udp(&tx).adu(ADU as u32).customize();
    t.check(
        matches!(&token, Ok(tok) if tok.path() == netspec::Path::Udp4),
        "customize_gives_a_specialized_token",
        format!("{token:?}"),
    );
    let Ok(token) = token else {
        std::process::exit(1);
    };

    let mut lost = None;
    for seq in 0..100u32 {
        let mut msg = [0u8; ADU];
        msg[..4].copy_from_slice(&seq.to_be_bytes());
        msg[4..].iter_mut().enumerate().for_each(|(i, b)| *b = (i as u32 * 7 + seq) as u8);
        let mut got = [0u8; 2 * ADU];
        let ok = token.send(&msg).ok() == Some(ADU)
            && rx.recv(&mut got).ok() == Some(ADU)
            && got[..ADU] == msg;
        if !ok {
            lost = Some(seq);
            break;
        }
    }
    t.check(lost.is_none(), "send_100_datagrams_in_order", format!("datagram {lost:?}"));

    let e = token.send(&[0u8; ADU - 1]);
    t.check(
        e.as_ref().err().and_then(|e| e.raw_os_error()) == Some(libc::EINVAL),
        "wrong_length_is_einval",
        format!("{e:?}"),
    );

    let info = token.info();
    t.check(
        matches!(&info, Ok(i) if i.sends == 100 && i.users == 1 && i.adu == ADU as u32 && i.destination.is_none()),
        "info_counts_sends",
        format!("{info:?}"),
    );

    let second = netspec::Context::udp(&tx).adu(ADU as u32).customize();
    let users = token.info().map(|i| i.users);
    t.check(
        second.is_ok() && users.as_ref().ok() == Some(&2),
        "same_context_is_shared",
        format!("{second:?} users {users:?}"),
    );
    drop(second);
    let users = token.info().map(|i| i.users);
    t.check(users.as_ref().ok() == Some(&1), "drop_cancels", format!("users {users:?}"));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
    let e = netspec::Context::udp(&listener).adu(ADU as u32).customize();
    t.check(
        matches!(&e, Err(netspec::Error::Other(io)) if io.raw_os_error() == Some(libc::EPROTOTYPE)),
        "tcp_socket_is_eprototype",
        format!("{e:?}"),
    );

    let r = token.cancel();
    t.check(r.is_ok(), "cancel_succeeds", format!("{r:?}"));

    for (name, test) in GUARD_TESTS.iter().chain(BATCH_TESTS).chain(TCP_TESTS) {
        let r = test();
        t.check(r.is_ok(), name, r.err().unwrap_or_default());
    }

    std::process::exit(if t.failed == 0 { 0 } else { 1 });
}

/// The tests of the guards, the policies and SO_ADU: each fails with what it
/// found.
type Test = fn() -> Result<(), String>;
const GUARD_TESTS: &[(&str, Test)] = &[
    ("policies_default_to_the_namespace_sysctls", policies_default_to_the_namespace_sysctls),
    ("policies_round_trip_through_customize_and_info", policies_round_trip_through_customize_and_info),
    ("policy_an_event_does_not_take_is_einval", policy_an_event_does_not_take_is_einval),
    ("reject_fails_setsockopt_and_connect_with_ebusy", reject_fails_setsockopt_and_connect_with_ebusy),
    ("invalidate_lets_setsockopt_through_and_goes_generic", invalidate_lets_setsockopt_through_and_goes_generic),
    ("route_invalidate_goes_generic_on_a_stale_route", route_invalidate_goes_generic_on_a_stale_route),
    ("route_respecialize_reroutes_a_stale_route", route_respecialize_reroutes_a_stale_route),
    ("route_reinforce_round_trips_with_no_rewrites", route_reinforce_round_trips_with_no_rewrites),
    ("so_adu_round_trips", so_adu_round_trips),
    ("customize_takes_the_socket_s_adu", customize_takes_the_socket_s_adu),
    ("set_adu_follows_the_socket_policy", set_adu_follows_the_socket_policy),
    ("close_fails_send_and_info_with_ebadf_cancel_works", close_fails_send_and_info_with_ebadf_cancel_works),
];

/// The tests of batches (`Token::send_batch`), likewise.
const BATCH_TESTS: &[(&str, Test)] = &[
    ("batch_of_50_arrives_whole_and_in_order", batch_of_50_arrives_whole_and_in_order),
    ("batch_counts_each_message_in_sends", batch_counts_each_message_in_sends),
    ("batch_of_a_length_not_a_multiple_of_the_adu_is_einval", batch_of_a_length_not_a_multiple_of_the_adu_is_einval),
];

/// The tests of TCP tokens (`Context::tcp`), likewise.
const TCP_TESTS: &[(&str, Test)] = &[
    ("tcp_token_sends_to_the_peer_and_freezes_the_mss", tcp_token_sends_to_the_peer_and_freezes_the_mss),
    ("tcp_customize_needs_a_connected_tcp_socket", tcp_customize_needs_a_connected_tcp_socket),
];

/// `Err(format!(...))` unless `cond`.
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
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
fn send_arrives(token: &netspec::Token, rx: &UdpSocket, fill: u8) -> Result<(), String> {
    let msg = [fill; ADU];
    let sent = token.send(&msg);
    ensure!(sent.as_ref().ok() == Some(&ADU), "send: {sent:?}");
    let mut got = [0u8; 2 * ADU];
    let n = rx.recv(&mut got);
    ensure!(n.as_ref().ok() == Some(&ADU) && got[..ADU] == msg, "recv: {n:?}");
    Ok(())
}

fn customize(c: netspec::Context<'_>) -> Result<netspec::Token, String> {
    c.customize().map_err(|e| format!("customize: {e:?}"))
}

fn info(token: &netspec::Token) -> Result<netspec::Info, String> {
    token.info().map_err(|e| format!("info: {e:?}"))
}

fn policies(socket: Policy, route: Policy, mss: Policy) -> Policies {
    Policies::default().with(Event::Socket, socket).with(Event::Route, route).with(Event::Mss, mss)
}

/// A policy sysctl of the guest's namespace, as a policy.
fn sysctl_policy(name: &str) -> Result<Policy, String> {
    let path = format!("/proc/sys/net/netspec/{name}");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    match text.trim() {
        "1" => Ok(Policy::Reject),
        "2" => Ok(Policy::Invalidate),
        "3" => Ok(Policy::Respecialize),
        "4" => Ok(Policy::Reinforce),
        other => Err(format!("{path}: {other:?}")),
    }
}

/// Makes every cached IPv4 route stale, as a route change does.
fn flush_routes() -> Result<(), String> {
    let path = "/proc/sys/net/ipv4/route/flush";
    std::fs::write(path, "1").map_err(|e| format!("{path}: {e}"))
}

fn policies_default_to_the_namespace_sysctls() -> Result<(), String> {
    let want = policies(
        sysctl_policy("socket_policy")?,
        sysctl_policy("route_policy")?,
        sysctl_policy("mss_policy")?,
    );
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
        context
            .on(Event::Socket, Policy::Invalidate)
            .on(Event::Route, Policy::Invalidate)
            .on(Event::Mss, Policy::Invalidate),
    )?;
    ensure!(token.policies() == asked, "customize gave {:?}", token.policies());
    ensure!(token.path() == netspec::Path::Udp4, "path {:?}", token.path());
    let i = info(&token)?;
    ensure!(i.policies == asked && i.trips == 0 && i.users == 1, "info: {i:?}");
    // Other policies, another instance. A UDP instance resolves and keeps
    // an MSS policy too, reinforce included, though only TCP uses it.
    let other = customize(
        context
            .on(Event::Socket, Policy::Reject)
            .on(Event::Route, Policy::Respecialize)
            .on(Event::Mss, Policy::Reinforce),
    )?;
    let o = info(&other)?;
    ensure!(
        o.policies == policies(Policy::Reject, Policy::Respecialize, Policy::Reinforce) && o.users == 1,
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
        (Event::Socket, Policy::Respecialize),
        (Event::Socket, Policy::Reinforce),
        (Event::Route, Policy::Reject),
        (Event::Route, Policy::Unknown(5)),
        (Event::Mss, Policy::Reject),
        (Event::Mss, Policy::Unknown(5)),
    ] {
        let r = context.on(event, policy).customize();
        ensure!(
            matches!(r, Err(netspec::Error::InvalidArgument)),
            "{event:?} {policy:?}: {r:?}"
        );
    }
    Ok(())
}

fn reject_fails_setsockopt_and_connect_with_ebusy() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let ttl = tx.ttl().map_err(|e| format!("ttl: {e}"))?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Socket, Policy::Reject))?;
    let r = tx.set_ttl(ttl + 1);
    ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EBUSY), "setsockopt: {r:?}");
    let now = tx.ttl();
    ensure!(now.as_ref().ok() == Some(&ttl), "TTL {now:?} after the refused change, was {ttl}");
    let r = tx.connect("127.0.0.1:9");
    ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EBUSY), "connect: {r:?}");
    let i = info(&token)?;
    ensure!(i.trips == 2 && i.path == netspec::Path::Udp4, "info: {i:?}");
    // Still specialized, still to the first peer.
    send_arrives(&token, &rx, 1)?;
    let i = info(&token)?;
    ensure!(i.sends == 1 && i.fallbacks == 0, "info after the send: {i:?}");
    Ok(())
}

fn invalidate_lets_setsockopt_through_and_goes_generic() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let context = netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Socket, Policy::Invalidate);
    let token = customize(context)?;
    ensure!(token.path() == netspec::Path::Udp4, "path {:?}", token.path());
    tx.set_ttl(9).map_err(|e| format!("setsockopt: {e}"))?;
    let ttl = tx.ttl();
    ensure!(ttl.as_ref().ok() == Some(&9), "TTL {ttl:?}");
    let i = info(&token)?;
    ensure!(i.path == netspec::Path::Generic && i.trips == 1, "info after the change: {i:?}");
    // The generic path reads the socket's state: an ordinary send, no fallback.
    send_arrives(&token, &rx, 2)?;
    tx.set_ttl(10).map_err(|e| format!("second setsockopt: {e}"))?;
    let i = info(&token)?;
    ensure!(
        i.path == netspec::Path::Generic && i.trips == 1 && i.sends == 1 && i.fallbacks == 0,
        "info after a send and a second change: {i:?}"
    );
    // The invalidated instance left the table: the same context specializes
    // anew.
    let again = customize(context)?;
    let a = info(&again)?;
    ensure!(a.path == netspec::Path::Udp4 && a.users == 1 && a.trips == 0, "new customize: {a:?}");
    send_arrives(&again, &rx, 3)?;
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
        i.path == netspec::Path::Generic && i.trips == 1 && i.fallbacks == 1 && i.reroutes == 0 && i.sends == 2,
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
        i.path == netspec::Path::Udp4 && i.reroutes == 1 && i.trips == 0 && i.fallbacks == 0 && i.sends == 2,
        "info after the stale route: {i:?}"
    );
    Ok(())
}

fn route_reinforce_round_trips_with_no_rewrites() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32).on(Event::Route, Policy::Reinforce))?;
    ensure!(token.policies().get(Event::Route) == Policy::Reinforce, "customize gave {:?}", token.policies());
    ensure!(token.path() == netspec::Path::Udp4, "path {:?}", token.path());
    send_arrives(&token, &rx, 11)?;
    // No route change: nothing installs the reinforcement, nothing is rewritten.
    let i = info(&token)?;
    ensure!(
        i.policies == token.policies() && i.rewrites == 0 && i.trips == 0 && i.reroutes == 0 && i.sends == 1,
        "info: {i:?}"
    );
    Ok(())
}

fn so_adu_round_trips() -> Result<(), String> {
    let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let before = netspec::adu(&s);
    ensure!(before.as_ref().ok() == Some(&0), "a new socket's SO_ADU: {before:?}");
    netspec::set_adu(&s, ADU as u32).map_err(|e| format!("set_adu: {e:?}"))?;
    let got = netspec::adu(&s);
    ensure!(got.as_ref().ok() == Some(&(ADU as u32)), "SO_ADU read back: {got:?}");
    let r = netspec::set_adu(&s, 65536);
    ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EINVAL), "65536: {r:?}");
    netspec::set_adu(&s, 65535).map_err(|e| format!("65535: {e:?}"))?;
    netspec::set_adu(&s, 0).map_err(|e| format!("set_adu 0: {e:?}"))?;
    let got = netspec::adu(&s);
    ensure!(got.as_ref().ok() == Some(&0), "SO_ADU after 0: {got:?}");
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("tcp: {e}"))?;
    let r = netspec::set_adu(&tcp, ADU as u32);
    ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::ENOPROTOOPT), "TCP: {r:?}");
    Ok(())
}

fn customize_takes_the_socket_s_adu() -> Result<(), String> {
    let (rx, tx) = pair()?;
    netspec::set_adu(&tx, ADU as u32).map_err(|e| format!("set_adu: {e:?}"))?;
    let token = customize(netspec::Context::udp(&tx))?;
    ensure!(
        token.adu() == ADU as u32 && token.path() == netspec::Path::Udp4,
        "customize without an ADU: adu {} path {:?}",
        token.adu(),
        token.path()
    );
    let i = info(&token)?;
    ensure!(i.adu == ADU as u32, "info: {i:?}");
    send_arrives(&token, &rx, 9)?;
    let r = token.send(&[0u8; ADU - 1]);
    ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EINVAL), "short send: {r:?}");
    let r = netspec::Context::udp(&tx).adu(ADU as u32 / 2).customize();
    ensure!(matches!(r, Err(netspec::Error::InvalidArgument)), "another ADU: {r:?}");
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
    ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EBUSY), "set_adu: {r:?}");
    let got = netspec::adu(&tx);
    ensure!(got.as_ref().ok() == Some(&(ADU as u32)), "SO_ADU after the refusal: {got:?}");
    let i = info(&token)?;
    ensure!(i.trips == 1 && i.path == netspec::Path::Udp4, "info: {i:?}");
    Ok(())
}

fn close_fails_send_and_info_with_ebadf_cancel_works() -> Result<(), String> {
    let (rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    send_arrives(&token, &rx, 10)?;
    drop(tx);
    let r = token.send(&[0u8; ADU]);
    ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EBADF), "send: {r:?}");
    let r = token.info();
    ensure!(
        r.as_ref().err().and_then(netspec::Error::raw_os_error) == Some(libc::EBADF),
        "info: {r:?}"
    );
    let r = token.cancel();
    ensure!(r.is_ok(), "cancel: {r:?}");
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
    ensure!(token.path() == netspec::Path::Udp4, "path {:?}", token.path());
    let msgs = batch(50);
    let sent = token.send_batch(&msgs);
    ensure!(sent.as_ref().ok() == Some(&50), "send_batch: {sent:?}");
    let mut got = [0u8; 2 * ADU];
    for (seq, msg) in msgs.chunks_exact(ADU).enumerate() {
        let n = rx.recv(&mut got);
        ensure!(n.as_ref().ok() == Some(&ADU) && got[..ADU] == *msg, "message {seq}: recv {n:?}");
    }
    // Loopback delivers during the send: a 51st datagram would be queued.
    rx.set_nonblocking(true).map_err(|e| format!("nonblocking: {e}"))?;
    let n = rx.recv(&mut got);
    ensure!(
        n.as_ref().err().map(io::Error::kind) == Some(io::ErrorKind::WouldBlock),
        "after the 50th: recv {n:?}"
    );
    Ok(())
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
        after.sends == before.sends + 50 && after.fallbacks == before.fallbacks && after.path == netspec::Path::Udp4,
        "info before {before:?}, after {after:?}"
    );
    Ok(())
}

fn batch_of_a_length_not_a_multiple_of_the_adu_is_einval() -> Result<(), String> {
    let (_rx, tx) = pair()?;
    let token = customize(netspec::Context::udp(&tx).adu(ADU as u32))?;
    let msgs = batch(3);
    for len in [ADU - 1, ADU + 1, 3 * ADU - 1] {
        let r = token.send_batch(&msgs[..len]);
        ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EINVAL), "{len} bytes: {r:?}");
    }
    let i = info(&token)?;
    ensure!(i.sends == 0, "sent after the failed batches: {i:?}");
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

/// The socket's `TCP_MAXSEG`, its connection's MSS.
fn tcp_maxseg(socket: &impl AsFd) -> Result<u32, String> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `value`.
    let ret = unsafe {
        libc::getsockopt(
            socket.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MAXSEG,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    ensure!(ret == 0, "TCP_MAXSEG: {}", io::Error::last_os_error());
    u32::try_from(value).map_err(|_| format!("TCP_MAXSEG {value}"))
}

/// `setsockopt(TCP_MAXSEG)` on the socket.
fn set_tcp_maxseg(socket: &impl AsFd, mss: libc::c_int) -> io::Result<()> {
    // SAFETY: the kernel reads an int from `mss`, which lives across the call.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MAXSEG,
            (&mss as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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
    let q = netspec::query().map_err(|e| format!("query: {e:?}"))?;
    ensure!(q.can_specialize(netspec::Protocol::Tcp), "query: {q:?}");
    let (mut rx, tx) = tcp_pair()?;
    let token = customize(netspec::Context::tcp(&tx).adu(ADU as u32).on(Event::Socket, Policy::Reject))?;
    ensure!(token.path() == netspec::Path::Tcp, "path {:?}", token.path());
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

    let mss = tcp_maxseg(&tx)?;
    let i = info(&token)?;
    ensure!(
        i.path == netspec::Path::Tcp
            && i.mss == mss
            && i.mss > 0
            && i.mss_clamp == 0
            && i.destination.is_none()
            && i.adu == ADU as u32
            && i.sends == 11
            && i.fallbacks == 0
            && i.trips == 0,
        "info: {i:?}, TCP_MAXSEG {mss}"
    );

    // TCP_MAXSEG is a socket option like any other: refused under reject,
    // and the MSS stays the frozen one.
    let r = set_tcp_maxseg(&tx, 536);
    ensure!(r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EBUSY), "TCP_MAXSEG: {r:?}");
    let i = info(&token)?;
    let now = tcp_maxseg(&tx)?;
    ensure!(i.trips == 1 && i.path == netspec::Path::Tcp && i.mss == now, "info after the refusal: {i:?}, TCP_MAXSEG {now}");
    Ok(())
}

fn tcp_customize_needs_a_connected_tcp_socket() -> Result<(), String> {
    // A listening socket, and one never connected, given as a raw fd.
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("listen: {e}"))?;
    let r = netspec::Context::tcp(&listener).customize();
    ensure!(matches!(r, Err(netspec::Error::NotConnected)), "listener: {r:?}");
    // SAFETY: socket() returns a new descriptor, or -1, checked first.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
    ensure!(fd >= 0, "socket: {}", io::Error::last_os_error());
    // SAFETY: fd is open and nothing else owns it.
    let unconnected = unsafe { OwnedFd::from_raw_fd(fd) };
    let r = netspec::Context::tcp(&unconnected).customize();
    ensure!(matches!(r, Err(netspec::Error::NotConnected)), "unconnected: {r:?}");

    // A TCP stream goes to its peer: no destination.
    let (_rx, tx) = tcp_pair()?;
    let peer = tx.peer_addr().map_err(|e| format!("peer: {e}"))?;
    let r = netspec::Context::tcp(&tx).destination(peer).customize();
    ensure!(matches!(r, Err(netspec::Error::InvalidArgument)), "with a destination: {r:?}");

    // The protocol must be the socket's.
    let (_urx, utx) = pair()?;
    let r = netspec::Context::tcp(&utx).customize();
    ensure!(
        matches!(&r, Err(netspec::Error::Other(e)) if e.raw_os_error() == Some(libc::EPROTOTYPE)),
        "a UDP socket as TCP: {r:?}"
    );
    Ok(())
}
