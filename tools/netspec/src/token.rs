//! Send contexts, the tokens the kernel gives for them, and sending.

use crate::{netspec, sys, Error, Event, Policies, Policy, Protocol};
use std::ffi::c_long;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::BitOr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

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
    /// Every path this crate knows, in number order.
    pub const ALL: &'static [Path] = &[Path::Generic, Path::Udp4, Path::Tcp];

    /// The path's number, which is also its bit in [`PathSet`](crate::PathSet).
    pub fn number(self) -> u32 {
        match self {
            Path::Generic => sys::NETSPEC_PATH_GENERIC,
            Path::Udp4 => sys::NETSPEC_PATH_UDP4,
            Path::Tcp => sys::NETSPEC_PATH_TCP,
            Path::Unknown(n) => n,
        }
    }

    pub(crate) fn from_raw(raw: u32) -> Path {
        match raw {
            sys::NETSPEC_PATH_GENERIC => Path::Generic,
            sys::NETSPEC_PATH_UDP4 => Path::Udp4,
            sys::NETSPEC_PATH_TCP => Path::Tcp,
            other => Path::Unknown(other),
        }
    }
}

/// The flags of one `customized_send()` call (`enum netspec_send_flags`):
/// netspec's own, not `MSG_*` flags, which the call refuses (`EINVAL`).
///
/// [`Token::send`] and its siblings set them for you;
/// [`Token::send_with_flags`] takes them as they are, and
/// [`Query::send_flags`](crate::Query::send_flags) reports those the kernel
/// takes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SendFlags(u32);

impl SendFlags {
    /// `NETSPEC_SEND_DONTWAIT`: do not block, as `MSG_DONTWAIT` on `send()`.
    pub const DONTWAIT: SendFlags = SendFlags(sys::NETSPEC_SEND_DONTWAIT);
    /// `NETSPEC_SEND_BATCH`: the buffer holds a batch of messages of the
    /// token's ADU; see [`Token::send_batch`].
    pub const BATCH: SendFlags = SendFlags(sys::NETSPEC_SEND_BATCH);

    /// No flag.
    pub const fn empty() -> Self {
        SendFlags(0)
    }

    /// Exactly these bits, known to this crate or not.
    pub const fn from_bits(bits: u32) -> Self {
        SendFlags(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: SendFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for SendFlags {
    type Output = SendFlags;
    fn bitor(self, other: SendFlags) -> SendFlags {
        SendFlags(self.0 | other.0)
    }
}

/// `{DONTWAIT, BATCH}`, then any unknown bits in hex.
impl fmt::Debug for SendFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut set = f.debug_set();
        let mut rest = self.0;
        for (name, flag) in [("DONTWAIT", SendFlags::DONTWAIT), ("BATCH", SendFlags::BATCH)] {
            if self.contains(flag) {
                set.entry(&format_args!("{name}"));
                rest &= !flag.0;
            }
        }
        if rest != 0 {
            set.entry(&format_args!("{rest:#x}"));
        }
        set.finish()
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
    no_signal: bool,
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
    /// by the [`Event::Mss`] policy; `TCP_MAXSEG` is the one socket option a
    /// TCP instance freezes ([`Event::Socket`]). A socket that is not
    /// connected (yet, or a listening one) fails to customize with
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
            no_signal: false,
            policies: Policies::default(),
        }
    }

    /// Every message is `adu` bytes; [`Token::send`] of any other length
    /// fails with `EINVAL`. Without an ADU, here or on the socket
    /// ([`set_adu`]), the kernel uses the generic path for UDP; a TCP
    /// context without one still takes [`Path::Tcp`], and its sends any
    /// length. An ADU other than the socket's fails to customize
    /// ([`Error::InvalidArgument`]); 0 takes the socket's. The most is what
    /// one datagram holds for UDP, 65535 for TCP (`EMSGSIZE` above); a UDP
    /// ADU too large for the specialized path's linear buffer (about 16 KB
    /// on a device with scatter-gather) takes the generic path. A TCP ADU
    /// that is a multiple of the MSS ([`Info::mss`]) makes segments that
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
    /// customize ([`Error::InvalidArgument`]; [`Query::takes`] says which it
    /// takes), and so does [`Policy::Reinforce`] of [`Event::Route`] without
    /// `CAP_NET_ADMIN` in the socket's network namespace
    /// ([`Error::PermissionDenied`]).
    /// Only contexts with the same policies share an instance.
    ///
    /// [`Query::takes`]: crate::Query::takes
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

    /// No `SIGPIPE`: every send behaves as with `MSG_NOSIGNAL`, which
    /// matters for a TCP connection its peer has closed (Rust programs
    /// ignore `SIGPIPE` anyway, unless they restored it).
    pub fn no_signal(mut self, no_signal: bool) -> Self {
        self.no_signal = no_signal;
        self
    }

    /// Asks the kernel for a token (`NETSPEC_OP_CUSTOMIZE`): a new
    /// descriptor, close-on-exec.
    ///
    /// The errors are those of `<linux/netspec.h>`: `ENOTSOCK`,
    /// `EPROTOTYPE` (not a socket of the context's protocol: a TCP socket in
    /// [`Context::udp`], a UDP one in [`Context::tcp`]), `ENOTCONN`
    /// ([`Error::NotConnected`]: a TCP socket that is not connected),
    /// `EAFNOSUPPORT` (a destination of another family), `EDESTADDRREQ`
    /// (unconnected UDP, no destination), `EMSGSIZE` (ADU too large),
    /// `EPIPE` ([`Error::SocketClosed`]: the socket is shut down for
    /// sending), `EMFILE` (no free descriptor, see `RLIMIT_NOFILE`),
    /// `EINVAL` ([`Error::InvalidArgument`]: a policy its event does not
    /// take, an ADU other than the socket's `SO_ADU`, a destination on a TCP
    /// context), `EPERM` ([`Error::PermissionDenied`]: [`Policy::Reinforce`]
    /// of [`Event::Route`] without `CAP_NET_ADMIN`), `EOPNOTSUPP`
    /// ([`Error::UnknownOperation`]: that policy on a kernel without
    /// `CONFIG_NETFILTER`), or what the LSM says about sending on the socket.
    pub fn customize(&self) -> Result<Token, Error> {
        let mut send_flags = 0;
        if self.dont_wait {
            send_flags |= libc::MSG_DONTWAIT as u32;
        }
        if self.no_signal {
            send_flags |= libc::MSG_NOSIGNAL as u32;
        }
        let mut c = sys::netspec_customize {
            fd: self.fd.as_raw_fd(),
            protocol: self.protocol.number(),
            adu: self.adu,
            send_flags,
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
        // SAFETY: a successful customize returns a new descriptor, the
        // token, which nothing else in this process owns yet.
        let fd = unsafe { OwnedFd::from_raw_fd(token as RawFd) };
        Ok(Token {
            fd,
            protocol: self.protocol,
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

/// What [`Token::info`] reports (`struct netspec_info`), and
/// [`instances`](crate::instances) for each instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// The instance's number in its network namespace, as
    /// [`instance`](crate::instance) takes it.
    pub id: u64,
    /// The protocol of the instance's socket.
    pub protocol: Protocol,
    /// The path sends take now.
    pub path: Path,
    /// The fixed message size, 0 for any.
    pub adu: u32,
    /// Every send applies `MSG_DONTWAIT` ([`Context::dont_wait`]).
    pub dont_wait: bool,
    /// Every send applies `MSG_NOSIGNAL` ([`Context::no_signal`]).
    pub no_signal: bool,
    /// The destination, when the context names one (not the connected peer).
    pub destination: Option<SocketAddr>,
    /// Tokens, in every process, that share this instance: one per
    /// customize. A descriptor duplicated from a token ([`Token::try_clone`],
    /// `fork()`, `SCM_RIGHTS`) is the same token.
    pub users: u32,
    /// The instance's policies, as [`Token::policies`] reported them.
    pub policies: Policies,
    /// The MSS a [`Path::Tcp`] instance holds frozen: the connection's
    /// `TCP_MAXSEG` when it was frozen, at customize time or by
    /// [`Policy::Respecialize`] of [`Event::Mss`]. 0 for other paths (an
    /// invalidated TCP instance included).
    pub mss: u32,
    /// The MSS option value that the instance's [`Policy::Reinforce`] of
    /// [`Event::Mss`] clamps the connection to, the frozen MSS plus the TCP
    /// and IP options every segment carries; 0 for no clamp.
    pub mss_clamp: u32,
    /// Messages sent through the instance.
    pub sends: u64,
    /// Of those, messages a specialized instance sent through the generic
    /// path because an invariant did not hold.
    pub fallbacks: u64,
    /// Times the instance resolved its route again.
    pub reroutes: u64,
    /// Events that broke an invariant of the specialized instance: changes
    /// its [`Policy::Reject`] refused, its invalidation, its
    /// respecializations, and the installing of its [`Policy::Reinforce`]
    /// reinforcement (the MSS clamp included).
    pub trips: u64,
    /// Packets of the instance that its reinforcement rewrote to the current
    /// route ([`Policy::Reinforce`] of [`Event::Route`]).
    pub rewrites: u64,
}

impl Info {
    fn from_raw(i: &sys::netspec_info) -> Info {
        Info {
            id: i.id,
            protocol: Protocol::from_raw(i.protocol),
            path: Path::from_raw(i.path),
            adu: i.adu,
            dont_wait: i.send_flags & libc::MSG_DONTWAIT as u32 != 0,
            no_signal: i.send_flags & libc::MSG_NOSIGNAL as u32 != 0,
            destination: destination(i.family, u16::from_be(i.port), &i.addr),
            users: i.users,
            policies: Policies::from_raw(&i.policy),
            mss: i.mss,
            mss_clamp: i.mss_clamp,
            sends: i.sends,
            fallbacks: i.fallbacks,
            reroutes: i.reroutes,
            trips: i.trips,
            rewrites: i.rewrites,
        }
    }
}

/// The destination of a context, from its family, port (host order) and
/// address bytes; `None` for the connected peer (`AF_UNSPEC`).
pub(crate) fn destination(family: u16, port: u16, addr: &[u8]) -> Option<SocketAddr> {
    let ip = match i32::from(family) {
        libc::AF_INET => IpAddr::from(<[u8; 4]>::try_from(addr.get(..4)?).ok()?),
        libc::AF_INET6 => IpAddr::from(<[u8; 16]>::try_from(addr.get(..16)?).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// A customized send path: a token, the file descriptor
/// `NETSPEC_OP_CUSTOMIZE` returned.
///
/// Dropping it closes the descriptor. The instance behind it goes with its
/// last token, which may live in another process: a forked child inherits
/// the descriptor, and a token passed with `SCM_RIGHTS` is adopted with
/// [`Token::try_from`].
#[derive(Debug)]
pub struct Token {
    fd: OwnedFd,
    protocol: Protocol,
    path: Path,
    adu: u32,
    policies: Policies,
}

impl Token {
    /// The protocol of the token's socket.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The path the kernel chose at customize time (or when the token was
    /// adopted with [`Token::try_from`]); [`Token::info`] tells the path now.
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
    /// Fails with `EINVAL` for a length other than the ADU, `EPIPE`
    /// ([`BrokenPipe`](io::ErrorKind::BrokenPipe)) once the socket has been
    /// closed, and otherwise as `send()` on the socket. A failed send sends
    /// nothing.
    ///
    /// On a TCP token it returns, as `send()` on a stream does, the bytes
    /// the stream took, which may be fewer than the message when a signal
    /// or a full buffer under [`send_nonblocking`](Token::send_nonblocking)
    /// stops it; the rest is not sent.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_with_flags(buf, SendFlags::empty())
    }

    /// [`send`](Token::send) that fails with `WouldBlock` instead of
    /// waiting for buffer space (`NETSPEC_SEND_DONTWAIT`).
    pub fn send_nonblocking(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_with_flags(buf, SendFlags::DONTWAIT)
    }

    /// Sends the messages that `msgs` holds back to back, each the token's
    /// [`adu`](Token::adu) long, at most [`BATCH_MAX`] of them, in one call
    /// (`customized_send()` with `NETSPEC_SEND_BATCH`); returns how many
    /// were sent.
    ///
    /// They are sent in order, each as [`send`](Token::send) would send it.
    /// On a specialized UDP token of a connected socket they go as UDP GSO
    /// packets of up to 64 messages: the receiver gets the datagrams
    /// `send()` would send, with their DF bit and one IP ID each, and the
    /// LSM, netfilter and the qdisc see one packet per 64 messages, as for
    /// `sendmsg()` with `UDP_SEGMENT`.
    /// **The count may be fewer than `msgs.len() / adu`**: when a message
    /// after the first fails (a signal, no buffer space under
    /// [`send_batch_nonblocking`](Token::send_batch_nonblocking)), the call
    /// returns the count of those before it and that message's error is not
    /// reported; send the rest, `&msgs[count * adu..]`, again to see it. The
    /// call fails only when the first message does, and then sends nothing.
    ///
    /// Fails with `EINVAL` for a token without an ADU, a length that is zero,
    /// not a multiple of the ADU or more than [`BATCH_MAX`] messages;
    /// otherwise as [`send`](Token::send).
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
        self.send_with_flags(msgs, SendFlags::BATCH)
    }

    /// [`send_batch_bytes`](Token::send_batch_bytes) that does not wait for
    /// buffer space, as [`send_batch_nonblocking`](Token::send_batch_nonblocking).
    pub fn send_batch_bytes_nonblocking(&self, msgs: &[u8]) -> io::Result<usize> {
        self.send_with_flags(msgs, SendFlags::BATCH | SendFlags::DONTWAIT)
    }

    /// `customized_send(token, buf, buf.len(), flags)` as it is: returns the
    /// bytes sent. A flag the kernel does not take fails with `EINVAL`.
    pub fn send_with_flags(&self, buf: &[u8], flags: SendFlags) -> io::Result<usize> {
        // SAFETY: customized_send only reads `buf.len()` bytes from `buf`.
        // The flags go through the variadic syscall() as a full register; the
        // kernel takes the low 32 bits.
        let ret = unsafe {
            libc::syscall(
                sys::SYS_customized_send,
                c_long::from(self.fd.as_raw_fd()),
                buf.as_ptr(),
                buf.len(),
                flags.bits() as c_long,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(ret as usize)
    }

    /// What the instance behind the token holds (`NETSPEC_OP_INFO`).
    ///
    /// Fails with [`Error::SocketClosed`] once the socket has been closed.
    pub fn info(&self) -> Result<Info, Error> {
        info(self.fd.as_fd())
    }

    /// Another descriptor of the same token (`F_DUPFD_CLOEXEC`): it sends
    /// through the same instance, and does not count as another user
    /// ([`Info::users`]); the token is released when every descriptor of it
    /// is closed.
    pub fn try_clone(&self) -> io::Result<Token> {
        Ok(Token {
            fd: self.fd.try_clone()?,
            protocol: self.protocol,
            path: self.path,
            adu: self.adu,
            policies: self.policies,
        })
    }
}

fn info(fd: BorrowedFd<'_>) -> Result<Info, Error> {
    let mut i = sys::netspec_info {
        token: fd.as_raw_fd(),
        ..Default::default()
    };
    netspec(sys::NETSPEC_OP_INFO, &mut i)?;
    Ok(Info::from_raw(&i))
}

/// Adopts a descriptor that is a token: one received with `SCM_RIGHTS`, or
/// inherited across an exec that was told to keep it.
///
/// Fails with [`Error::NotAToken`] for a descriptor that is not a token and
/// [`Error::SocketClosed`] for a token whose socket has been closed; the
/// descriptor is closed either way (duplicate it first to keep it).
impl TryFrom<OwnedFd> for Token {
    type Error = Error;

    fn try_from(fd: OwnedFd) -> Result<Token, Error> {
        let i = info(fd.as_fd())?;
        Ok(Token {
            fd,
            protocol: i.protocol,
            path: i.path,
            adu: i.adu,
            policies: i.policies,
        })
    }
}

impl AsFd for Token {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Token {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// The token's descriptor, to pass on (`SCM_RIGHTS`) or keep across exec.
impl From<Token> for OwnedFd {
    fn from(token: Token) -> OwnedFd {
        token.fd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_from_the_uapi_numbers() {
        for &p in Path::ALL {
            assert_eq!(Path::from_raw(p.number()), p);
        }
        assert_eq!(Path::from_raw(sys::NETSPEC_PATH_GENERIC), Path::Generic);
        assert_eq!(Path::from_raw(sys::NETSPEC_PATH_UDP4), Path::Udp4);
        assert_eq!(Path::from_raw(sys::NETSPEC_PATH_TCP), Path::Tcp);
        assert_eq!(Path::from_raw(77), Path::Unknown(77));
        assert_eq!(Path::Unknown(77).number(), 77);
    }

    #[test]
    fn send_flags_are_the_uapi_bits() {
        assert_eq!(SendFlags::DONTWAIT.bits(), sys::NETSPEC_SEND_DONTWAIT);
        assert_eq!(SendFlags::BATCH.bits(), sys::NETSPEC_SEND_BATCH);
        let both = SendFlags::BATCH | SendFlags::DONTWAIT;
        assert!(both.contains(SendFlags::BATCH) && both.contains(SendFlags::DONTWAIT));
        assert!(!SendFlags::BATCH.contains(both));
        assert!(SendFlags::BATCH.contains(SendFlags::empty()));
        assert_eq!(format!("{both:?}"), "{DONTWAIT, BATCH}");
        // MSG_DONTWAIT is not one of them: the kernel refuses it.
        assert_eq!(format!("{:?}", SendFlags::from_bits(libc::MSG_DONTWAIT as u32)), "{0x40}");
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

    #[test]
    fn info_reads_every_field_of_the_struct() {
        let mut raw = sys::netspec_info {
            protocol: sys::NETSPEC_PROTO_UDP,
            path: sys::NETSPEC_PATH_UDP4,
            adu: 64,
            send_flags: (libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) as u32,
            family: libc::AF_INET as u16,
            port: 9000u16.to_be(),
            users: 2,
            mss: 3,
            mss_clamp: 4,
            sends: 5,
            fallbacks: 6,
            reroutes: 7,
            trips: 8,
            rewrites: 9,
            id: 10,
            ..Default::default()
        };
        raw.addr[..4].copy_from_slice(&[10, 0, 0, 1]);
        raw.policy[sys::NETSPEC_EVENT_ROUTE as usize] = sys::NETSPEC_POLICY_REINFORCE as u8;
        let i = Info::from_raw(&raw);
        assert_eq!(
            i,
            Info {
                id: 10,
                protocol: Protocol::Udp,
                path: Path::Udp4,
                adu: 64,
                dont_wait: true,
                no_signal: true,
                destination: Some("10.0.0.1:9000".parse().unwrap()),
                users: 2,
                policies: Policies::default().with(Event::Route, Policy::Reinforce),
                mss: 3,
                mss_clamp: 4,
                sends: 5,
                fallbacks: 6,
                reroutes: 7,
                trips: 8,
                rewrites: 9,
            }
        );
    }

    #[test]
    fn destinations_decode_by_family() {
        let mut addr = [0u8; 16];
        addr[15] = 1;
        assert_eq!(destination(libc::AF_INET6 as u16, 53, &addr), Some("[::1]:53".parse().unwrap()));
        assert_eq!(destination(libc::AF_INET as u16, 53, &[127, 0, 0, 1]), Some("127.0.0.1:53".parse().unwrap()));
        assert_eq!(destination(libc::AF_UNSPEC as u16, 0, &addr), None);
        // Too short for the family: no destination, no panic.
        assert_eq!(destination(libc::AF_INET6 as u16, 53, &addr[..4]), None);
        assert_eq!(destination(libc::AF_INET as u16, 53, &[1, 2]), None);
    }
}
