//! What a failed `netspec()` call means, by errno.

use std::io;

/// Why a `netspec()` call failed.
///
/// The variants are the errnos the UAPI header documents for every
/// operation, and those a caller branches on: `ENOTCONN` (a TCP socket to
/// connect first), `EPIPE` (the socket is gone), `EBADF` (not a token) and
/// `EPERM` (a policy only an administrator may ask for); anything else is
/// [`Error::Other`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `ENOSYS`: the running kernel has no `netspec()` system call. Also
    /// what [`set_adu`](crate::set_adu) and [`adu`](crate::adu) report when
    /// `SO_ADU` fails with `ENOPROTOOPT` on a UDP socket, which only a kernel
    /// without netspec does, and what [`instances`](crate::instances) and
    /// [`stats`](crate::stats) report when the kernel has no `netspec`
    /// generic netlink family; [`Error::raw_os_error`] is `ENOSYS` for all.
    #[error(
        "netspec is not available (netspec() fails with ENOSYS, SO_ADU on a UDP \
         socket with ENOPROTOOPT, no \"netspec\" generic netlink family): the running kernel was built without \
         CONFIG_NET_SPECIALIZE or without the netspec patches; boot a kernel with \
         patches/6.12 or patches/6.1 applied and CONFIG_NET_SPECIALIZE=y"
    )]
    NotSupported,
    /// `EOPNOTSUPP`: the kernel has netspec but not this operation
    /// ([`crate::query`] says which it has), or not what customize asked
    /// for: [`Policy::Reinforce`](crate::Policy::Reinforce) of
    /// [`Event::Route`](crate::Event::Route) on a kernel without
    /// `CONFIG_NETFILTER`.
    #[error(
        "the kernel's netspec() does not support this (EOPNOTSUPP): an operation \
         it does not know (check Query::supports before calling it), or \
         Policy::Reinforce of Event::Route on a kernel without CONFIG_NETFILTER \
         (ask for Policy::Respecialize or Policy::Invalidate instead)"
    )]
    UnknownOperation,
    /// `EINVAL`: the argument struct is shorter than the operation's first
    /// published size, a flag or reserved field is not zero, or a field is
    /// out of range (a zero destination port, a send flag netspec does not
    /// apply, a [`Policy`](crate::Policy) its [`Event`](crate::Event) does
    /// not take, an ADU other than the socket's `SO_ADU`, a destination on a
    /// TCP context).
    #[error(
        "netspec() rejected its argument (EINVAL): struct too short, a flag or \
         reserved field set, or a field out of range (a policy its event does \
         not take, an ADU other than the socket's SO_ADU, a destination on a \
         TCP context)"
    )]
    InvalidArgument,
    /// `ENOTCONN`: customize of a TCP socket that is not connected (not yet,
    /// or a listening one). A TCP context sends to the socket's peer.
    #[error(
        "netspec() cannot customize a TCP socket that is not connected (ENOTCONN): \
         a TCP context sends to the socket's peer; customize the stream after \
         connect() or accept() returns it"
    )]
    NotConnected,
    /// `EPIPE`: the token's socket has been closed (its last descriptor),
    /// so the token can only be dropped; or customize of a socket shut down
    /// for sending. [`Token::send`](crate::Token::send) reports it as an
    /// `io::Error` of kind [`BrokenPipe`](io::ErrorKind::BrokenPipe).
    #[error(
        "the socket is closed (EPIPE): a token's socket was closed, so the token \
         can only be dropped; or customize of a socket shut down for sending"
    )]
    SocketClosed,
    /// `EBADF`: a descriptor that is not a token, given as one
    /// ([`Token::try_from`](crate::Token::try_from)).
    #[error("not a netspec token (EBADF): the descriptor is not one NETSPEC_OP_CUSTOMIZE returned")]
    NotAToken,
    /// `EPERM`: customize asked for what only the socket's network
    /// namespace's administrator may: [`Policy::Reinforce`](crate::Policy::Reinforce)
    /// of [`Event::Route`](crate::Event::Route) without `CAP_NET_ADMIN`
    /// there.
    #[error(
        "netspec() needs CAP_NET_ADMIN in the socket's network namespace for this \
         (EPERM): Policy::Reinforce of Event::Route hooks every packet of the \
         namespace; ask for Policy::Respecialize, or have the namespace's \
         administrator make reinforce its default (sysctl net.netspec.route_policy)"
    )]
    PermissionDenied,
    /// `E2BIG`: the argument struct is larger than the kernel's and a byte
    /// past the kernel's struct is not zero, or it is larger than a page.
    #[error(
        "netspec() argument too big (E2BIG): a field this kernel does not know \
         is set, or the struct is larger than a page"
    )]
    TooBig,
    /// `EFAULT`: the kernel could not read or write the argument struct.
    #[error("netspec() could not access its argument (EFAULT)")]
    Fault,
    /// Any other errno.
    #[error("netspec() failed: {0}")]
    Other(io::Error),
}

impl Error {
    /// The error for the errno a `netspec()` call failed with.
    pub fn from_errno(errno: i32) -> Self {
        match errno {
            libc::ENOSYS => Error::NotSupported,
            libc::EOPNOTSUPP => Error::UnknownOperation,
            libc::EINVAL => Error::InvalidArgument,
            libc::ENOTCONN => Error::NotConnected,
            libc::E2BIG => Error::TooBig,
            libc::EFAULT => Error::Fault,
            libc::EPIPE => Error::SocketClosed,
            libc::EBADF => Error::NotAToken,
            libc::EPERM => Error::PermissionDenied,
            _ => Error::Other(io::Error::from_raw_os_error(errno)),
        }
    }

    /// The errno this error stands for, when there is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::NotSupported => Some(libc::ENOSYS),
            Error::UnknownOperation => Some(libc::EOPNOTSUPP),
            Error::InvalidArgument => Some(libc::EINVAL),
            Error::NotConnected => Some(libc::ENOTCONN),
            Error::TooBig => Some(libc::E2BIG),
            Error::Fault => Some(libc::EFAULT),
            Error::SocketClosed => Some(libc::EPIPE),
            Error::NotAToken => Some(libc::EBADF),
            Error::PermissionDenied => Some(libc::EPERM),
            Error::Other(e) => e.raw_os_error(),
        }
    }
}

/// Keeps the message and the variant (reach it with `get_ref` and
/// `downcast_ref::<Error>()`); [`Error::Other`] is returned as it came, so
/// its `raw_os_error` still works.
impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        let kind = match e {
            Error::Other(inner) => return inner,
            Error::NotSupported | Error::UnknownOperation => io::ErrorKind::Unsupported,
            Error::InvalidArgument | Error::TooBig | Error::Fault => io::ErrorKind::InvalidInput,
            Error::NotConnected => io::ErrorKind::NotConnected,
            Error::SocketClosed => io::ErrorKind::BrokenPipe,
            Error::NotAToken => io::ErrorKind::InvalidInput,
            Error::PermissionDenied => io::ErrorKind::PermissionDenied,
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `errno` maps to the variant printed as `variant`, back to `errno`, and
    /// to an `io::Error` of `kind` that still carries the variant (or, for
    /// `Other`, the errno).
    fn check(errno: i32, variant: &str, kind: io::ErrorKind) {
        let e = Error::from_errno(errno);
        let debug = format!("{e:?}");
        assert!(
            debug.starts_with(variant),
            "errno {errno}: {debug}, expected {variant}"
        );
        assert_eq!(
            e.raw_os_error(),
            Some(errno),
            "errno {errno} does not round-trip"
        );
        let message = e.to_string();
        let io = io::Error::from(e);
        assert_eq!(io.kind(), kind, "errno {errno}");
        if variant == "Other" {
            // Passed through as the kernel's errno, so callers can match it.
            assert_eq!(
                io.raw_os_error(),
                Some(errno),
                "errno {errno} lost in io::Error"
            );
        } else {
            assert_eq!(io.to_string(), message, "errno {errno}: message lost");
            let inner = io.get_ref().and_then(|i| i.downcast_ref::<Error>());
            assert!(inner.is_some(), "errno {errno}: variant lost in io::Error");
        }
    }

    #[test]
    fn errnos_map_to_variants() {
        use io::ErrorKind::*;
        check(libc::ENOSYS, "NotSupported", Unsupported);
        check(libc::EOPNOTSUPP, "UnknownOperation", Unsupported);
        check(libc::EINVAL, "InvalidArgument", InvalidInput);
        check(libc::ENOTCONN, "NotConnected", NotConnected);
        check(libc::E2BIG, "TooBig", InvalidInput);
        check(libc::EFAULT, "Fault", InvalidInput);
        check(libc::EPIPE, "SocketClosed", BrokenPipe);
        check(libc::EBADF, "NotAToken", InvalidInput);
        check(libc::EPERM, "PermissionDenied", PermissionDenied);
        check(libc::EACCES, "Other", PermissionDenied);
        check(libc::ENOMEM, "Other", OutOfMemory);
    }

    #[test]
    fn permission_denied_names_the_capability_and_the_way_out() {
        let message = Error::PermissionDenied.to_string();
        assert!(message.contains("CAP_NET_ADMIN"), "{message}");
        assert!(message.contains("Policy::Respecialize"), "{message}");
    }

    #[test]
    fn not_supported_says_what_to_do() {
        let message = Error::NotSupported.to_string();
        assert!(message.contains("CONFIG_NET_SPECIALIZE"), "{message}");
        assert!(message.contains("patches/6.12"), "{message}");
    }

    #[test]
    fn unknown_operation_names_what_reinforce_needs() {
        let message = Error::UnknownOperation.to_string();
        assert!(message.contains("Query::supports"), "{message}");
        assert!(message.contains("Event::Route"), "{message}");
        assert!(message.contains("CONFIG_NETFILTER"), "{message}");
    }

    #[test]
    fn not_connected_says_to_connect_first() {
        let message = Error::NotConnected.to_string();
        assert!(message.contains("TCP"), "{message}");
        assert!(message.contains("connect()"), "{message}");
    }
}
