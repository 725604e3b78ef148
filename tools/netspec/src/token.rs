//! Send contexts, the tokens the kernel gives for them, and sending.

use crate::{netspec, sys, Error, Event, Policies, Policy, Protocol};
use std::ffi::c_long;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// The send path behind a token (`enum netspec_path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Path {
    /// `NETSPEC_PATH_GENERIC`: the socket's own send path, used for an empty
    /// context (no ADU) and for contexts the kernel does not specialize.
    Generic,
    /// `NETSPEC_PATH_UDP4`: the specialized UDP over IPv4 path.
    Udp4,
    /// `NETSPEC_PATH_TCP`: a connected TCP socket's own send path under a
    /// frozen MSS ([`Info::mss`]): every send first checks that the
    /// connection's MSS is still the frozen one ([`Event::Mss`]). TCP's send
    /// path itself is not specialized yet.
    Tcp,
    /// A path newer than this crate.
    Unknown(u32),
}

impl Path {
    fn from_raw(raw: u32) -> Path {
        match raw {
            sys::NETSPEC_PATH_GENERIC => Path::Generic,
            sys::NETSPEC_PATH_UDP4 => Path::Udp4,
            sys::NETSPEC_PATH_TCP => Path::Tcp,
            other => Path::Unknown(other),
        }
    }
}

/// A send context to customize: the socket, the fixed message size (ADU),
/// the destination, the flags every send applies, and what to do when the
/// socket, the route or a TCP connection's MSS changes.
///
/// Build one with [`Context::udp`] or [`Context::tcp`], then
/// [`customize`](Context::customize).
#[derive(Debug, Clone, Copy)]
pub struct Context<'fd> {
    fd: BorrowedFd<'fd>,
    protocol: Protocol,
    adu: u32,
    destination: Option<SocketAddr>,
    dont_wait: bool,
    policies: Policies,
}

impl<'fd> Context<'fd> {
    /// The context of a UDP socket (IPv4 or IPv6), sending to its connected
    /// peer, the message size declared on the socket ([`set_adu`], else any),
    /// blocking as the socket is, with the namespace's default policies.
    ///
    /// [`set_adu`]: crate::set_adu
    pub fn udp(socket: &'fd impl AsFd) -> Self {
        Context::new(socket.as_fd(), Protocol::Udp)
    }

    /// The context of a connected TCP socket (IPv4 or IPv6, a
    /// [`TcpStream`](std::net::TcpStream) or any descriptor of one), sending
    /// to its peer, messages of any length unless [`adu`](Context::adu) says
    /// otherwise, blocking as the socket is, with the namespace's default
    /// policies.
    ///
    /// Its token takes [`Path::Tcp`]: the connection's MSS is frozen at
    /// customize time ([`Info::mss`], what `TCP_MAXSEG` reports) and guarded
    /// by the [`Event::Mss`] policy; a `setsockopt()` on the socket, such as
    /// `TCP_MAXSEG`, is an [`Event::Socket`] like any other. A socket that is
    /// not connected (yet, or a listening one) fails to customize with
    /// [`Error::NotConnected`]; a TCP context takes no
    /// [`destination`](Context::destination).
    ///
    /// A stream may take part of a message: see [`Token::send`] and
    /// [`Token::send_batch_bytes`].
    pub fn tcp(socket: &'fd impl AsFd) -> Self {
        Context::new(socket.as_fd(), Protocol::Tcp)
    }

    fn new(fd: BorrowedFd<'fd>, protocol: Protocol) -> Self {
        Context {
            fd,
            protocol,
            adu: 0,
            destination: None,
            dont_wait: false,
            policies: Policies::default(),
        }
    }

    /// Every message is `adu` bytes; [`Token::send`] of any other length
    /// fails with `EINVAL`. Without an ADU, here or on the socket
    /// ([`set_adu`]), the kernel uses the generic path for UDP; a TCP
    /// context without one still takes [`Path::Tcp`], and its sends any
    /// length. An ADU other than the socket's fails to customize
    /// ([`Error::InvalidArgument`]); 0 takes the socket's. The most is what
    /// one datagram holds for UDP, 65535 for TCP (`EMSGSIZE` above). A TCP
    /// ADU that is a multiple of the MSS ([`Info::mss`]) makes segments that
    /// never straddle two messages.
    ///
    /// [`set_adu`]: crate::set_adu
    pub fn adu(mut self, adu: u32) -> Self {
        self.adu = adu;
        self
    }

    /// On `event`, the specialized instance does `policy`.
    ///
    /// Without a call for an event the instance takes the network
    /// namespace's default ([`Policy::Default`]: sysctls
    /// `net.netspec.socket_policy`, [`Policy::Reject`] unless changed,
    /// `net.netspec.route_policy` and `net.netspec.mss_policy`, both
    /// [`Policy::Respecialize`]). A policy the event does not take fails to
    /// customize ([`Error::InvalidArgument`]).
    /// Only contexts with the same policies share an instance.
    pub fn on(mut self, event: Event, policy: Policy) -> Self {
        self.policies = self.policies.with(event, policy);
        self
    }

    /// Send to `destination` instead of the connected peer (the socket need
    /// not be connected; its family must match). UDP only: a TCP context
    /// sends to its peer, and with a destination fails to customize
    /// ([`Error::InvalidArgument`]).
    pub fn destination(mut self, destination: SocketAddr) -> Self {
        self.destination = Some(destination);
        self
    }

    /// Never block: every send behaves as with `MSG_DONTWAIT`.
    pub fn dont_wait(mut self, dont_wait: bool) -> Self {
        self.dont_wait = dont_wait;
        self
    }

    /// Asks the kernel for a token (`NETSPEC_OP_CUSTOMIZE`).
    ///
    /// The errors are those of `<linux/netspec.h>`: `EBADF`, `ENOTSOCK`,
    /// `EPROTOTYPE` (not a socket of the context's protocol: a TCP socket in
    /// [`Context::udp`], a UDP one in [`Context::tcp`]), `ENOTCONN`
    /// ([`Error::NotConnected`]: a TCP socket that is not connected),
    /// `EAFNOSUPPORT` (a destination of another family), `EDESTADDRREQ`
    /// (unconnected UDP, no destination), `EMSGSIZE` (ADU too large),
    /// `EMFILE` (too many tokens), `EINVAL` ([`Error::InvalidArgument`]: a
    /// policy its event does not take, an ADU other than the socket's
    /// `SO_ADU`, a destination on a TCP context), `EOPNOTSUPP`
    /// ([`Error::UnknownOperation`]: [`Policy::Reinforce`] of
    /// [`Event::Route`] on a kernel without `CONFIG_NETFILTER`), or what the
    /// LSM says about sending on the socket. A kernel older than TCP
    /// customization fails a TCP context with `EPROTONOSUPPORT`
    /// ([`Error::Other`]; [`crate::query`] says whether it
    /// [can specialize](crate::Query::can_specialize) [`Protocol::Tcp`]).
    pub fn customize(&self) -> Result<Token, Error> {
        let mut c = sys::netspec_customize {
            fd: self.fd.as_raw_fd(),
            protocol: self.protocol.number(),
            adu: self.adu,
            send_flags: if self.dont_wait { libc::MSG_DONTWAIT as u32 } else { 0 },
            ..Default::default()
        };
        self.policies.write_raw(&mut c.policy);
        if let Some(dest) = self.destination {
            c.port = dest.port().to_be();
            match dest.ip() {
                IpAddr::V4(v4) => {
                    c.family = libc::AF_INET as u16;
                    c.addr[..4].copy_from_slice(&v4.octets());
                }
                IpAddr::V6(v6) => {
                    c.family = libc::AF_INET6 as u16;
                    c.addr = v6.octets();
                }
            }
        }
        let token = netspec(sys::NETSPEC_OP_CUSTOMIZE, &mut c)?;
        Ok(Token {
            id: token as u32,
            pid: std::process::id(),
            path: Path::from_raw(c.path),
            adu: c.adu,
            policies: Policies::from_raw(&c.policy),
        })
    }
}

/// The most messages one [`Token::send_batch`] may hold
/// (`NETSPEC_BATCH_MAX`, as `sendmmsg()`'s `UIO_MAXIOV`).
pub const BATCH_MAX: usize = sys::NETSPEC_BATCH_MAX as usize;

/// The messages in the `bytes` a batch of messages of `adu` bytes sent:
/// whole ones, so not a last message a stream took only part of. A token
/// without an ADU sends no batch (`EINVAL`), so it has none.
fn messages(bytes: usize, adu: u32) -> usize {
    bytes.checked_div(adu as usize).unwrap_or(0)
}

/// What [`Token::info`] reports (`struct netspec_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// The path sends take now.
    pub path: Path,
    /// The fixed message size, 0 for any.
    pub adu: u32,
    /// The destination, when the context names one (not the connected peer).
    pub destination: Option<SocketAddr>,
    /// Tokens, in every process, that share this instance.
    pub users: u32,
    /// Messages sent through the instance.
    pub sends: u64,
    /// Of those, messages a specialized instance sent through the generic
    /// path because an invariant did not hold.
    pub fallbacks: u64,
    /// Times the instance resolved its route again.
    pub reroutes: u64,
    /// Events that broke an invariant of the specialized instance: changes
    /// its [`Policy::Reject`] refused, its invalidation, the installing of
    /// its [`Policy::Reinforce`] reinforcement (the MSS clamp included), and
    /// the MSS frozen again under [`Policy::Respecialize`].
    pub trips: u64,
    /// The instance's policies, as [`Token::policies`] reported them.
    pub policies: Policies,
    /// Packets of the instance that its reinforcement rewrote to the current
    /// route ([`Policy::Reinforce`] of [`Event::Route`]); 0 on a kernel
    /// older than the field.
    pub rewrites: u64,
    /// The MSS a [`Path::Tcp`] instance holds frozen: the connection's
    /// `TCP_MAXSEG` when it was frozen, at customize time or by
    /// [`Policy::Respecialize`] of [`Event::Mss`]. 0 for other paths (an
    /// invalidated TCP instance included) and on a kernel older than the
    /// field.
    pub mss: u32,
    /// The MSS option value that the instance's [`Policy::Reinforce`] of
    /// [`Event::Mss`] clamps the connection to, the frozen MSS plus the TCP
    /// and IP options every segment carries; 0 for no clamp and on a kernel
    /// older than the field.
    pub mss_clamp: u32,
}

/// A customized send path, valid in the process that made it.
///
/// Dropping it cancels it; in a forked child, which cannot use it, dropping
/// it does nothing.
#[derive(Debug)]
pub struct Token {
    id: u32,
    pid: u32,
    path: Path,
    adu: u32,
    policies: Policies,
}

impl Token {
    /// The token's number, as `customized_send()` takes it.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The path the kernel chose at customize time; [`Token::info`] tells
    /// the path now.
    pub fn path(&self) -> Path {
        self.path
    }

    /// The message size in effect, the context's or the socket's `SO_ADU`;
    /// 0 for any.
    pub fn adu(&self) -> u32 {
        self.adu
    }

    /// The policies in effect, with the namespace's defaults resolved.
    pub fn policies(&self) -> Policies {
        self.policies
    }

    /// Sends one message (`customized_send()`); returns its length.
    ///
    /// Fails with `EINVAL` for a length other than the ADU, `EBADF` in a
    /// process that does not hold the token or after the socket was closed,
    /// and otherwise as `send()` on the socket. A failed send sends nothing.
    ///
    /// On a TCP token it returns, as `send()` on a stream does, the bytes
    /// the stream took, which may be fewer than the message when a signal
    /// or a full buffer under [`send_nonblocking`](Token::send_nonblocking)
    /// stops it; the rest is not sent.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_flags(buf, 0)
    }

    /// [`send`](Token::send) that fails with `WouldBlock` instead of
    /// waiting for buffer space.
    pub fn send_nonblocking(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_flags(buf, libc::MSG_DONTWAIT as u32)
    }

    /// Sends the messages that `msgs` holds back to back, each the token's
    /// [`adu`](Token::adu) long, at most [`BATCH_MAX`] of them, in one call
    /// (`customized_send()` with `NETSPEC_SEND_BATCH`); returns how many
    /// were sent.
    ///
    /// They are sent in order, each as [`send`](Token::send) would send it.
    /// **The count may be fewer than `msgs.len() / adu`**: when a message
    /// after the first fails (a signal, the socket being closed, no buffer
    /// space under [`send_batch_nonblocking`](Token::send_batch_nonblocking)),
    /// the call returns the count of those before it and that message's
    /// error is not reported; send the rest, `&msgs[count * adu..]`, again to
    /// see it. The call fails only when the first message does, and then
    /// sends nothing.
    ///
    /// Fails with `EINVAL` for a token without an ADU, a length that is zero,
    /// not a multiple of the ADU or more than [`BATCH_MAX`] messages, and on
    /// a kernel older than batches (which takes `NETSPEC_SEND_BATCH` for an
    /// unknown flag); otherwise as [`send`](Token::send).
    ///
    /// On a TCP token the batch may also end inside a message that the
    /// stream took only part of, whose bytes the count leaves out though
    /// they were sent: use [`send_batch_bytes`](Token::send_batch_bytes)
    /// there.
    pub fn send_batch(&self, msgs: &[u8]) -> io::Result<usize> {
        Ok(messages(self.send_batch_bytes(msgs)?, self.adu))
    }

    /// [`send_batch`](Token::send_batch) that fails with `WouldBlock`
    /// instead of waiting for buffer space for the first message, and stops
    /// at the first message after it that finds none.
    pub fn send_batch_nonblocking(&self, msgs: &[u8]) -> io::Result<usize> {
        Ok(messages(self.send_batch_bytes_nonblocking(msgs)?, self.adu))
    }

    /// [`send_batch`](Token::send_batch), returning the bytes sent rather
    /// than the messages: what a TCP token needs, where a batch ends inside
    /// a message the stream took only part of (under a signal, or a full
    /// buffer under
    /// [`send_batch_bytes_nonblocking`](Token::send_batch_bytes_nonblocking)),
    /// and the rest to send is `&msgs[bytes..]`. On a UDP token it is always
    /// a whole number of messages.
    pub fn send_batch_bytes(&self, msgs: &[u8]) -> io::Result<usize> {
        self.send_flags(msgs, sys::NETSPEC_SEND_BATCH)
    }

    /// [`send_batch_bytes`](Token::send_batch_bytes) that does not wait for
    /// buffer space, as [`send_batch_nonblocking`](Token::send_batch_nonblocking).
    pub fn send_batch_bytes_nonblocking(&self, msgs: &[u8]) -> io::Result<usize> {
        self.send_flags(msgs, sys::NETSPEC_SEND_BATCH | libc::MSG_DONTWAIT as u32)
    }

    fn send_flags(&self, buf: &[u8], flags: u32) -> io::Result<usize> {
        // SAFETY: customized_send only reads `buf.len()` bytes from `buf`.
        let ret = unsafe {
            libc::syscall(
                sys::SYS_customized_send,
                c_long::from(self.id as i32),
                buf.as_ptr(),
                buf.len(),
                c_long::from(flags),
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(ret as usize)
    }

    /// What the instance behind the token holds (`NETSPEC_OP_INFO`).
    ///
    /// Fails with `EBADF` ([`Error::Other`]) as [`send`](Token::send) does.
    pub fn info(&self) -> Result<Info, Error> {
        let mut i = sys::netspec_info {
            token: self.id,
            ..Default::default()
        };
        netspec(sys::NETSPEC_OP_INFO, &mut i)?;
        let port = u16::from_be(i.port);
        let destination = match i32::from(i.family) {
            libc::AF_INET => {
                let a: [u8; 4] = i.addr[..4].try_into().expect("4 bytes");
                Some(SocketAddr::new(IpAddr::from(a), port))
            }
            libc::AF_INET6 => Some(SocketAddr::new(IpAddr::from(i.addr), port)),
            _ => None,
        };
        Ok(Info {
            path: Path::from_raw(i.path),
            adu: i.adu,
            destination,
            users: i.users,
            sends: i.sends,
            fallbacks: i.fallbacks,
            reroutes: i.reroutes,
            trips: i.trips,
            policies: Policies::from_raw(&i.policy),
            rewrites: i.rewrites,
            mss: i.mss,
            mss_clamp: i.mss_clamp,
        })
    }

    /// Releases the token now (`NETSPEC_OP_CANCEL`), reporting errors that
    /// dropping it would ignore. Works after the socket was closed too.
    pub fn cancel(self) -> Result<(), Error> {
        let result = self.cancel_raw();
        std::mem::forget(self);
        result
    }

    fn cancel_raw(&self) -> Result<(), Error> {
        let mut c = sys::netspec_cancel {
            token: self.id,
            ..Default::default()
        };
        netspec(sys::NETSPEC_OP_CANCEL, &mut c)?;
        Ok(())
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // A forked child holds no tokens; cancelling there could hit one of
        // its own with the same number.
        if std::process::id() == self.pid {
            let _ = self.cancel_raw();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_from_the_uapi_numbers() {
        assert_eq!(Path::from_raw(sys::NETSPEC_PATH_GENERIC), Path::Generic);
        assert_eq!(Path::from_raw(sys::NETSPEC_PATH_UDP4), Path::Udp4);
        assert_eq!(Path::from_raw(sys::NETSPEC_PATH_TCP), Path::Tcp);
        assert_eq!(Path::from_raw(77), Path::Unknown(77));
    }

    /// A batch that sent `bytes` of messages of `adu` bytes sent `expected`.
    fn check(bytes: usize, adu: u32, expected: usize) {
        assert_eq!(messages(bytes, adu), expected, "{bytes} bytes of ADU {adu}");
    }

    #[test]
    fn a_batch_returns_the_messages_in_the_bytes_sent() {
        check(50 * 64, 64, 50);
        check(64, 64, 1);
        check(BATCH_MAX * 65535, 65535, BATCH_MAX);
        // The kernel never returns these, but they must not panic.
        check(0, 64, 0);
        check(100, 0, 0);
    }
}
