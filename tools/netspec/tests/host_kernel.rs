//! `query()`, `Context::customize()` (UDP and TCP), `SO_ADU` and the
//! generic netlink family against the kernel these tests run on.
//!
//! A build host normally runs a kernel without netspec, where the only right
//! answer is `NotSupported` (from ENOSYS, from ENOPROTOOPT for `SO_ADU` on
//! a UDP socket, or from the netlink controller knowing no `netspec`
//! family); on a netspec kernel (a guest) the calls must succeed. Any
//! other result, such as a wrong errno mapping or a wrong syscall number
//! hitting another call, fails.

#[test]
fn query_succeeds_or_reports_no_netspec() {
    match netspec::query() {
        Ok(q) => {
            assert!(q.supports(netspec::Op::Query), "QUERY not in its own ops: {q:?}");
            assert!(q.has_path(netspec::Path::Generic), "no generic path: {q:?}");
            assert_eq!(q.batch_max as usize, netspec::BATCH_MAX, "{q:?}");
        }
        Err(netspec::Error::NotSupported) => {}
        Err(e) => panic!("query() on this kernel gave neither Ok nor NotSupported: {e:?}"),
    }
}

#[test]
fn stats_and_instances_succeed_or_report_no_netspec() {
    match (netspec::stats(), netspec::instances()) {
        (Ok(s), Ok(_)) => assert!(s.max_versions > 0 || s.versions == 0, "{s:?}"),
        (Err(netspec::Error::NotSupported), Err(netspec::Error::NotSupported)) => {}
        (s, i) => panic!("the netspec family on this kernel: stats {s:?}, instances {i:?}"),
    }
}

#[test]
fn customize_succeeds_or_reports_no_netspec() {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    tx.connect(rx.local_addr().expect("addr")).expect("connect");
    match netspec::Context::udp(&tx).adu(8).customize() {
        Ok(token) => {
            // A descriptor, closed on exec.
            // SAFETY: F_GETFD reads the descriptor's flags only.
            let flags = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&token), libc::F_GETFD) };
            assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC, "token flags {flags:#x}");
            assert_eq!(token.send(&[7u8; 8]).expect("send"), 8);
            let mut got = [0u8; 16];
            assert_eq!(rx.recv(&mut got).expect("recv"), 8);
            assert_eq!(&got[..8], &[7u8; 8]);
        }
        Err(netspec::Error::NotSupported) => {}
        Err(e) => panic!("customize() on this kernel gave neither Ok nor NotSupported: {e:?}"),
    }
}

/// The errno a raw `getsockopt(SOL_SOCKET, SO_ADU)` gives on `fd`, 0 if none.
fn raw_so_adu_errno(fd: &impl std::os::fd::AsRawFd) -> i32 {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `value`.
    let ret = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            netspec_sys::SO_ADU as libc::c_int,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if ret < 0 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    } else {
        0
    }
}

#[test]
fn so_adu_round_trips_or_reports_no_netspec() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    match netspec::set_adu(&socket, 64) {
        Ok(()) => {
            assert_eq!(netspec::adu(&socket).expect("SO_ADU set but not read"), 64);
            netspec::set_adu(&socket, 0).expect("SO_ADU 0");
            assert_eq!(netspec::adu(&socket).expect("read"), 0);
            let e = netspec::set_adu(&socket, 65536).expect_err("SO_ADU above 65535");
            assert_eq!(e.raw_os_error(), Some(libc::EINVAL), "{e:?}");
        }
        Err(e) => {
            // Exactly a kernel without netspec: the kernel said ENOPROTOOPT on a
            // UDP socket, and the crate made it NotSupported.
            let inner = e.get_ref().and_then(|i| i.downcast_ref::<netspec::Error>());
            assert!(
                matches!(inner, Some(netspec::Error::NotSupported)),
                "set_adu() on a UDP socket gave neither Ok nor NotSupported: {e:?}"
            );
            assert_eq!(e.kind(), std::io::ErrorKind::Unsupported);
            assert_eq!(raw_so_adu_errno(&socket), libc::ENOPROTOOPT);
            let e = netspec::adu(&socket).expect_err("SO_ADU read without netspec");
            let inner = e.get_ref().and_then(|i| i.downcast_ref::<netspec::Error>());
            assert!(matches!(inner, Some(netspec::Error::NotSupported)), "{e:?}");
        }
    }
}

#[test]
fn so_adu_on_a_tcp_socket_is_enoprotoopt_on_every_kernel() {
    // Not NotSupported: a netspec kernel refuses it too, so it says nothing
    // about the kernel.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let e = netspec::set_adu(&listener, 64).expect_err("SO_ADU on TCP");
    assert_eq!(e.raw_os_error(), Some(libc::ENOPROTOOPT), "{e:?}");
    let e = netspec::adu(&listener).expect_err("SO_ADU on TCP");
    assert_eq!(e.raw_os_error(), Some(libc::ENOPROTOOPT), "{e:?}");
}

#[test]
fn policies_customize_or_report_no_netspec() {
    use netspec::{Event, Policy};
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    tx.connect(rx.local_addr().expect("addr")).expect("connect");
    let context = netspec::Context::udp(&tx)
        .adu(8)
        .on(Event::Socket, Policy::Invalidate)
        .on(Event::Route, Policy::Invalidate)
        .on(Event::Mss, Policy::Invalidate);
    match context.customize() {
        Ok(token) => {
            let want = netspec::Policies::default()
                .with(Event::Socket, Policy::Invalidate)
                .with(Event::Route, Policy::Invalidate)
                .with(Event::Mss, Policy::Invalidate);
            assert_eq!(token.policies(), want);
            assert_eq!(token.info().expect("info").policies, want);
        }
        Err(netspec::Error::NotSupported) => {}
        Err(e) => panic!("customize() with policies gave neither Ok nor NotSupported: {e:?}"),
    }
}

#[test]
fn tcp_customize_succeeds_or_reports_no_netspec() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let tx = std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (mut rx, _) = listener.accept().expect("accept");
    match netspec::Context::tcp(&tx).adu(8).customize() {
        Ok(token) => {
            assert_eq!(token.path(), netspec::Path::Tcp);
            assert_eq!(token.send(&[7u8; 8]).expect("send"), 8);
            let mut got = [0u8; 8];
            rx.read_exact(&mut got).expect("recv");
            assert_eq!(got, [7u8; 8]);
            assert!(token.info().expect("info").mss > 0);
        }
        Err(netspec::Error::NotSupported) => {}
        Err(e) => panic!("customize() of a TCP stream gave neither Ok nor NotSupported: {e:?}"),
    }
}
