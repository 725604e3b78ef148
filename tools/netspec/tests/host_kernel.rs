//! `query()` and `Context::customize()` against the kernel these tests run on.
//!
//! A build host normally runs a kernel without netspec, where the only right
//! answer is `NotSupported`; on a netspec kernel (a guest) the query must
//! succeed. Any other result, such as a wrong errno mapping or a wrong
//! syscall number hitting another call, fails.

#[test]
fn query_succeeds_or_reports_no_netspec() {
    match netspec::query() {
        Ok(q) => {
            assert!(
                q.abi_version >= 1,
                "netspec kernel with ABI version 0: {q:?}"
            );
            assert!(
                q.supports(netspec::Op::Query),
                "QUERY not in its own ops: {q:?}"
            );
        }
        Err(netspec::Error::NotSupported) => {}
        Err(e) => panic!("query() on this kernel gave neither Ok nor NotSupported: {e:?}"),
    }
}

#[test]
fn customize_succeeds_or_reports_no_netspec() {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    tx.connect(rx.local_addr().expect("addr")).expect("connect");
    match netspec::Context::udp(&tx).adu(8).customize() {
        Ok(token) => {
            assert_eq!(token.send(&[7u8; 8]).expect("send"), 8);
            let mut got = [0u8; 16];
            assert_eq!(rx.recv(&mut got).expect("recv"), 8);
            assert_eq!(&got[..8], &[7u8; 8]);
        }
        Err(netspec::Error::NotSupported) => {}
        Err(e) => panic!("customize() on this kernel gave neither Ok nor NotSupported: {e:?}"),
    }
}
