//! `SO_ADU`: a UDP socket's application data unit, declared once on the
//! socket instead of in every [`Context`](crate::Context).

use crate::{sys, Error};
use std::ffi::c_int;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// Declares that every message `socket` sends is `adu` bytes (`SO_ADU`);
/// 0, the default, declares none.
///
/// A [`Context`](crate::Context) of the socket without an
/// [`adu`](crate::Context::adu) takes this one, and one with another ADU
/// fails to customize. On a socket with a specialized instance this is a
/// socket change like any other: it follows the instance's
/// [`Event::Socket`](crate::Event::Socket) policy (`EBUSY` under
/// [`Policy::Reject`](crate::Policy::Reject)).
///
/// Errors: `EINVAL` for an ADU above the kernel's limit (65535),
/// `ENOPROTOOPT` for a socket that is not UDP, `EBUSY` as above, and an
/// error of kind [`Unsupported`](io::ErrorKind::Unsupported) holding
/// [`Error::NotSupported`] on a kernel without netspec.
pub fn set_adu(socket: &impl AsFd, adu: u32) -> io::Result<()> {
    let fd = socket.as_fd();
    let Ok(value) = c_int::try_from(adu) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: the kernel reads size_of::<c_int>() bytes from `value`, which
    // lives across the call.
    let ret = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ADU,
            (&value as *const c_int).cast(),
            size_of::<c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(no_netspec_or(fd, io::Error::last_os_error()));
    }
    Ok(())
}

/// The ADU declared on `socket` with [`set_adu`] (`SO_ADU`), 0 for none.
///
/// Fails as [`set_adu`] does for a socket that is not UDP and on a kernel
/// without netspec.
pub fn adu(socket: &impl AsFd) -> io::Result<u32> {
    let fd = socket.as_fd();
    let value = getsockopt_int(fd, libc::SOL_SOCKET, SO_ADU).map_err(|e| no_netspec_or(fd, e))?;
    u32::try_from(value).map_err(|_| io::Error::from_raw_os_error(libc::ERANGE))
}

/// A `#define` the series adds to `<asm/socket.h>`, so bindgen makes it a
/// `u32`.
const SO_ADU: c_int = sys::SO_ADU as c_int;

/// `ENOPROTOOPT` from `SO_ADU` means a socket that is not UDP, or a kernel
/// without netspec, which fails it on every socket: told apart by asking
/// the socket what it is, so that a caller can branch on
/// [`Error::NotSupported`] as after [`query`](crate::query).
fn no_netspec_or(fd: BorrowedFd<'_>, e: io::Error) -> io::Error {
    if e.raw_os_error() != Some(libc::ENOPROTOOPT) {
        return e;
    }
    let udp = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TYPE).ok() == Some(libc::SOCK_DGRAM)
        && getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL).ok() == Some(libc::IPPROTO_UDP);
    if udp {
        Error::NotSupported.into()
    } else {
        e
    }
}

fn getsockopt_int(fd: BorrowedFd<'_>, level: c_int, name: c_int) -> io::Result<c_int> {
    let mut value: c_int = 0;
    let mut len = size_of::<c_int>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `value` and the
    // length it wrote into `len`; both live across the call.
    let ret = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut c_int).cast(),
            &mut len,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}
