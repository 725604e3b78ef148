//! Safe Rust API to the `netspec()` and `customized_send()` system calls.
//!
//! netspec lets an application that knows its send context ask the kernel once
//! for a specialized send path. [`query`] says what the kernel offers: its
//! operations, the protocols it can specialize, its paths, the flags
//! `customized_send()` takes and the policies each event takes from the
//! caller. [`Context`] describes a send context and [`Context::customize`]
//! turns it into a [`Token`], whose [`send`](Token::send) goes through the
//! specialized path, as does [`send_batch`](Token::send_batch), many
//! messages in one call.
//!
//! ```no_run
//! match netspec::query() {
//!     Ok(q) => println!("netspec: {:?}, batches of up to {}", q.paths, q.batch_max),
//!     Err(netspec::Error::NotSupported) => println!("no netspec on this kernel"),
//!     Err(e) => eprintln!("{e}"),
//! }
//! ```
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
//! socket.connect("127.0.0.1:9000")?;
//! let token = netspec::Context::udp(&socket).adu(64).customize()?;
//! token.send(&[0u8; 64])?;
//! println!("{:?}", token.info()?.path);
//! # Ok(())
//! # }
//! ```
//!
//! A connected TCP socket is customized with [`Context::tcp`]: its token
//! sends to the peer, and its instance freezes the connection's MSS
//! ([`Info::mss`], what `TCP_MAXSEG` reports) and guards it ([`Event::Mss`]).
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let stream = std::net::TcpStream::connect("127.0.0.1:9000")?;
//! let token = netspec::Context::tcp(&stream).adu(1024).customize()?;
//! // A stream may take part of a message: send returns what it took.
//! let sent = token.send(&[0u8; 1024])?;
//! let info = token.info()?;
//! println!("{sent} bytes, {:?} with MSS {}", info.path, info.mss);
//! # Ok(())
//! # }
//! ```
//!
//! A specialized path freezes some of the socket's options, its peer and the
//! route, or for TCP the MSS. [`Context::on`] chooses what happens when one
//! of them changes: a [`Policy`] for each [`Event`]. [`set_adu`] declares the
//! message size on the socket itself (`SO_ADU`), for every context of the
//! socket.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use netspec::{Event, Policy};
//! let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
//! socket.connect("127.0.0.1:9000")?;
//! netspec::set_adu(&socket, 64)?;
//! let token = netspec::Context::udp(&socket)
//!     .on(Event::Socket, Policy::Respecialize)
//!     .customize()?;
//! assert_eq!(token.adu(), 64);
//! # Ok(())
//! # }
//! ```
//!
//! A token is a file descriptor ([`AsFd`](std::os::fd::AsFd)), and behaves
//! as one: the threads of a process share it, a forked child inherits it and
//! can send through it, it can be passed to another process with
//! `SCM_RIGHTS` ([`Token`] is `TryFrom<OwnedFd>` on the receiving side), and
//! exec closes it. Dropping a [`Token`] closes its descriptor; the instance
//! goes with its last token, in whatever process that is.
//!
//! Closing the socket (its last descriptor) ends its tokens: sends fail with
//! `EPIPE` and [`Token::info`] with [`Error::SocketClosed`].
//!
//! [`instances`] and [`stats`] read the kernel's `netspec` generic netlink
//! family: the instances of the caller's network namespace that the caller
//! may see, and the code manager's counters.
//!
//! Architecture invariant: every kernel fact (struct layouts, operation,
//! protocol, path, flag and attribute numbers, `SO_ADU`, the syscall
//! numbers) comes from `netspec-sys`, which takes them from the series;
//! this crate adds only safety and meaning.

#![warn(missing_docs)]

use netspec_sys as sys;
use std::ffi::{c_long, c_void};
use std::fmt;
use std::io;

mod adu;
mod error;
mod nl;
mod policy;
mod token;

pub use adu::{adu, set_adu};
pub use error::Error;
pub use nl::{instance, instances, stats, CodeCsum, Instance, Stats};
pub use policy::{Event, Policies, Policy, PolicySet};
pub use token::{Context, Info, Path, SendFlags, Token, BATCH_MAX};

/// An operation of the `netspec()` system call (`enum netspec_op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// `NETSPEC_OP_QUERY`: what the kernel supports; see [`query`].
    Query,
    /// `NETSPEC_OP_CUSTOMIZE`: a token for a send context; see [`Context`].
    Customize,
    /// `NETSPEC_OP_INFO`: a token's instance and counters; see [`Token::info`].
    Info,
}

impl Op {
    /// Every operation this crate knows, in number order.
    pub const ALL: &'static [Op] = &[Op::Query, Op::Customize, Op::Info];

    /// The operation's number, which is also its bit in [`OpSet`].
    pub fn number(self) -> u32 {
        match self {
            Op::Query => sys::NETSPEC_OP_QUERY,
            Op::Customize => sys::NETSPEC_OP_CUSTOMIZE,
            Op::Info => sys::NETSPEC_OP_INFO,
        }
    }
}

/// A protocol whose send path the kernel may specialize (`enum netspec_proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// `NETSPEC_PROTO_UDP`: UDP over IPv4 or IPv6.
    Udp,
    /// `NETSPEC_PROTO_TCP`: TCP over IPv4 or IPv6, on a connected socket.
    Tcp,
    /// A protocol newer than this crate.
    Unknown(u32),
}

impl Protocol {
    /// Every protocol this crate knows, in number order.
    pub const ALL: &'static [Protocol] = &[Protocol::Udp, Protocol::Tcp];

    /// The protocol's number, which is also its bit in [`ProtocolSet`].
    pub fn number(self) -> u32 {
        match self {
            Protocol::Udp => sys::NETSPEC_PROTO_UDP,
            Protocol::Tcp => sys::NETSPEC_PROTO_TCP,
            Protocol::Unknown(n) => n,
        }
    }

    pub(crate) fn from_raw(raw: u32) -> Protocol {
        match raw {
            sys::NETSPEC_PROTO_UDP => Protocol::Udp,
            sys::NETSPEC_PROTO_TCP => Protocol::Tcp,
            other => Protocol::Unknown(other),
        }
    }
}

/// A set of numbered members, as the kernel reports them in bitmaps: bit n
/// set for member number n. Bits of members newer than this crate are kept.
macro_rules! bit_set {
    ($(#[$doc:meta])* $set:ident of $member:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $set(u64);

        impl $set {
            /// The set with exactly these bits, as the kernel reports them.
            pub fn from_bits(bits: u64) -> Self {
                $set(bits)
            }

            /// The raw bits, unknown members included.
            pub fn bits(self) -> u64 {
                self.0
            }

            #[doc = concat!("Whether the ", $what, " is in the set.")]
            pub fn contains(self, member: $member) -> bool {
                $crate::has_bit(self.0, member.number().into())
            }

            #[doc = concat!("The ", $what, "s this crate knows that are in the set.")]
            pub fn iter(self) -> impl Iterator<Item = $member> {
                $member::ALL.iter().copied().filter(move |&m| self.contains(m))
            }
        }

        /// `{A, B, 0x100}`: the known members, then any unknown bits in hex.
        impl ::std::fmt::Debug for $set {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::fmt_set(f, self.iter(), self.0, $member::ALL.iter().map(|m| u32::from(m.number())))
            }
        }
    };
}
pub(crate) use bit_set;

bit_set!(
    /// The operations a kernel supports ([`Query::ops`]).
    OpSet of Op, "operation"
);
bit_set!(
    /// The protocols a kernel can specialize ([`Query::protocols`]).
    ProtocolSet of Protocol, "protocol"
);
bit_set!(
    /// The send paths a kernel has ([`Query::paths`]).
    PathSet of Path, "path"
);

pub(crate) fn has_bit(bits: u64, n: u32) -> bool {
    n < 64 && bits & (1 << n) != 0
}

/// `{Query, Udp, 0x100}`: the known members, then any unknown bits in hex.
pub(crate) fn fmt_set<T: fmt::Debug>(
    f: &mut fmt::Formatter<'_>,
    known: impl Iterator<Item = T>,
    bits: u64,
    numbers: impl Iterator<Item = u32>,
) -> fmt::Result {
    let unknown = numbers.fold(bits, |rest, n| if n < 64 { rest & !(1 << n) } else { rest });
    let mut set = f.debug_set();
    set.entries(known);
    if unknown != 0 {
        set.entry(&format_args!("{unknown:#x}"));
    }
    set.finish()
}

/// What the running kernel reported to [`query`] (`struct netspec_query`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Query {
    /// The operations the kernel supports.
    pub ops: OpSet,
    /// The protocols whose send path the kernel can specialize.
    pub protocols: ProtocolSet,
    /// The send paths the kernel has; [`Path::Generic`] always.
    pub paths: PathSet,
    /// The flags `customized_send()` takes.
    pub send_flags: SendFlags,
    /// The most messages one batch may hold ([`BATCH_MAX`] on a kernel of
    /// this crate's series).
    pub batch_max: u32,
    policies: [PolicySet; Event::ALL.len()],
}

impl Query {
    /// Whether the kernel supports `op`.
    pub fn supports(&self, op: Op) -> bool {
        self.ops.contains(op)
    }

    /// Whether the kernel can specialize the send path of `protocol`.
    pub fn can_specialize(&self, protocol: Protocol) -> bool {
        self.protocols.contains(protocol)
    }

    /// Whether the kernel has `path`.
    pub fn has_path(&self, path: Path) -> bool {
        self.paths.contains(path)
    }

    /// The policies `event` takes from this caller in
    /// [`Context::on`]; [`Policy::Default`] is never listed, and always
    /// taken. [`Policy::Reinforce`] of [`Event::Route`] is listed only for a
    /// caller with `CAP_NET_ADMIN` in its network namespace, on a kernel with
    /// `CONFIG_NETFILTER`.
    pub fn policies(&self, event: Event) -> PolicySet {
        self.policies[event.index()]
    }

    /// Whether a [`Context::on`]`(event, policy)` would be taken from this
    /// caller, by what the kernel reported.
    pub fn takes(&self, event: Event, policy: Policy) -> bool {
        policy == Policy::Default || self.policies(event).contains(policy)
    }
}

/// `Query { ops: {..}, ..., policies: {Socket: {..}, ...} }`.
impl fmt::Debug for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct ByEvent<'a>(&'a Query);
        impl fmt::Debug for ByEvent<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut m = f.debug_map();
                for &e in Event::ALL {
                    m.entry(&e, &self.0.policies(e));
                }
                m.finish()
            }
        }
        f.debug_struct("Query")
            .field("ops", &self.ops)
            .field("protocols", &self.protocols)
            .field("paths", &self.paths)
            .field("send_flags", &self.send_flags)
            .field("batch_max", &self.batch_max)
            .field("policies", &ByEvent(self))
            .finish()
    }
}

impl Query {
    fn from_raw(q: &sys::netspec_query) -> Query {
        let mut policies = [PolicySet::default(); Event::ALL.len()];
        for &e in Event::ALL {
            policies[e.index()] = PolicySet::from_bits(q.policies[e.index()].into());
        }
        Query {
            ops: OpSet(q.ops),
            protocols: ProtocolSet(q.protocols),
            paths: PathSet(q.paths),
            // The flags are u32 in customized_send(); no kernel reports more.
            send_flags: SendFlags::from_bits(q.send_flags as u32),
            batch_max: q.batch_max,
            policies,
        }
    }
}

/// Asks the running kernel what netspec it offers (`NETSPEC_OP_QUERY`).
///
/// Fails with [`Error::NotSupported`] on a kernel without netspec, which is
/// how a program finds out whether it can specialize at all.
pub fn query() -> Result<Query, Error> {
    let mut q = sys::netspec_query::default();
    netspec(sys::NETSPEC_OP_QUERY, &mut q)?;
    Ok(Query::from_raw(&q))
}

/// A `netspec()` argument struct of the UAPI header: plain integers, so any
/// bytes the kernel writes into it make a valid value.
pub(crate) trait ArgStruct {}
impl ArgStruct for sys::netspec_query {}
impl ArgStruct for sys::netspec_customize {}
impl ArgStruct for sys::netspec_info {}

/// The call, `netspec(op, arg, sizeof(*arg))`, its errno mapped to an [`Error`].
pub(crate) fn netspec<T: ArgStruct>(op: u32, arg: &mut T) -> Result<c_long, Error> {
    let size = std::mem::size_of::<T>();
    let arg: *mut c_void = (arg as *mut T).cast();
    // SAFETY: `arg` is a live, writable T and the size passed is its own, so
    // the kernel reads and writes only inside it; T is plain integers
    // (ArgStruct). Every argument goes through the variadic syscall() as a
    // full register: op widened (the kernel takes the low 32 bits), size as
    // the size_t it is.
    let ret = unsafe { libc::syscall(sys::SYS_netspec, c_long::from(op), arg, size) };
    if ret < 0 {
        let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        return Err(Error::from_errno(errno));
    }
    Ok(ret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_report_known_members_and_keep_unknown_bits() {
        let ops = OpSet::from_bits(1 << sys::NETSPEC_OP_QUERY | 1 << sys::NETSPEC_OP_INFO | 1 << 40);
        assert!(ops.contains(Op::Query) && ops.contains(Op::Info) && !ops.contains(Op::Customize));
        assert_eq!(ops.bits() >> 40, 1);
        assert_eq!(format!("{ops:?}"), "{Query, Info, 0x10000000000}");

        let protocols = ProtocolSet::from_bits(1 << sys::NETSPEC_PROTO_TCP);
        assert!(protocols.contains(Protocol::Tcp) && !protocols.contains(Protocol::Udp));
        assert!(!protocols.contains(Protocol::Unknown(70)));
        assert_eq!(format!("{protocols:?}"), "{Tcp}");
        assert_eq!(format!("{:?}", ProtocolSet::default()), "{}");

        let paths = PathSet::from_bits(1 << sys::NETSPEC_PATH_GENERIC | 1 << sys::NETSPEC_PATH_UDP4 | 1 << 9);
        assert!(paths.contains(Path::Udp4) && paths.contains(Path::Unknown(9)) && !paths.contains(Path::Tcp));
        assert_eq!(format!("{paths:?}"), "{Generic, Udp4, 0x200}");
    }

    #[test]
    fn query_reads_every_field_of_the_struct() {
        let mut raw = sys::netspec_query {
            batch_max: 1024,
            ops: 1 << sys::NETSPEC_OP_CUSTOMIZE,
            protocols: 1 << sys::NETSPEC_PROTO_UDP,
            paths: 1 << sys::NETSPEC_PATH_TCP,
            send_flags: sys::NETSPEC_SEND_BATCH.into(),
            ..Default::default()
        };
        raw.policies[sys::NETSPEC_EVENT_SOCKET as usize] = 1 << sys::NETSPEC_POLICY_REJECT;
        raw.policies[sys::NETSPEC_EVENT_ROUTE as usize] =
            1 << sys::NETSPEC_POLICY_INVALIDATE | 1 << sys::NETSPEC_POLICY_REINFORCE;
        let q = Query::from_raw(&raw);
        assert!(q.supports(Op::Customize) && !q.supports(Op::Query));
        assert!(q.can_specialize(Protocol::Udp) && !q.can_specialize(Protocol::Tcp));
        assert!(q.has_path(Path::Tcp) && !q.has_path(Path::Generic));
        assert!(q.send_flags.contains(SendFlags::BATCH) && !q.send_flags.contains(SendFlags::DONTWAIT));
        assert_eq!(q.batch_max, 1024);
        assert!(q.takes(Event::Socket, Policy::Reject) && !q.takes(Event::Socket, Policy::Invalidate));
        assert!(q.takes(Event::Route, Policy::Reinforce) && !q.takes(Event::Route, Policy::Respecialize));
        assert!(q.takes(Event::Mss, Policy::Default) && !q.takes(Event::Mss, Policy::Invalidate));
        assert_eq!(
            format!("{q:?}"),
            "Query { ops: {Customize}, protocols: {Udp}, paths: {Tcp}, send_flags: {BATCH}, \
             batch_max: 1024, policies: {Socket: {Reject}, Route: {Invalidate, Reinforce}, Mss: {}} }"
        );
    }
}
