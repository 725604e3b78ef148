//! `query()` against the kernel these tests run on.
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
