//! The safe API against a real netspec kernel: run in the x86_64 test guest
//! as the `rust-api` suite (`cargo xtask vm-test`), it prints KTAP.
//!
//! Built for x86_64-unknown-linux-gnu with a static glibc, the one Rust
//! target this machine has; the other architectures test the same ABI from
//! C (vm-tests/suites/).

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

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
    let mut t = Ktap::plan(9);
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

    std::process::exit(if t.failed == 0 { 0 } else { 1 });
}
