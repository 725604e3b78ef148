//! Safe Rust API to the `netspec()` system call.
//!
//! netspec lets an application that knows its send context ask the kernel once
//! for a specialized send path. [`query`] says which ABI version the kernel
//! speaks, which operations it supports and which protocols it can
//! specialize; [`Context`] describes a send context and
//! [`Context::customize`] turns it into a [`Token`], whose
//! [`send`](Token::send) goes through the specialized path, as does
//! [`send_batch`](Token::send_batch), many messages in one call.
//!
//! ```no_run
//! match netspec::query() {
//!     Ok(q) if q.supports(netspec::Op::Query) => println!("netspec ABI {}", q.abi_version),
//!     Ok(_) => println!("netspec without QUERY?"),
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
//! A specialized path freezes the socket's options, its peer and the route,
//! or for TCP the MSS. [`Context::on`] chooses what happens when one of them
//! changes: a [`Policy`] for each [`Event`]. [`set_adu`] declares the message size on
//! the socket itself (`SO_ADU`), for every context of the socket.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use netspec::{Event, Policy};
//! let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
//! socket.connect("127.0.0.1:9000")?;
//! netspec::set_adu(&socket, 64)?;
//! let token = netspec::Context::udp(&socket)
//!     .on(Event::Socket, Policy::Invalidate)
//!     .customize()?;
//! assert_eq!(token.adu(), 64);
//! // Allowed, and the token's instance leaves the specialized path.
//! socket.set_ttl(8)?;
//! # Ok(())
//! # }
//! ```
//!
//! Closing the socket ends its tokens: sends and [`Token::info`] fail with
//! `EBADF`, while [`Token::cancel`] still releases them.
//!
//! A token belongs to the process that made it: the threads of the process
//! share it, a forked child cannot use it, and exec or exit releases it.
//! Dropping a [`Token`] cancels it (only in the process that made it).
//!
//! Architecture invariant: every kernel fact (struct layouts, operation and
//! protocol numbers, the syscall number) comes from `netspec-sys`, which takes
//! them from the series; this crate adds only safety and meaning.

#![warn(missing_docs)]

use netspec_sys as sys;
use std::ffi::{c_long, c_void};
use std::fmt;
use std::io;

mod adu;
mod error;
mod policy;
mod token;

pub use adu::{adu, set_adu};
pub use error::Error;
pub use policy::{Event, Policies, Policy};
pub use token::{Context, Info, Path, Token, BATCH_MAX};

/// An operation of the `netspec()` system call (`enum netspec_op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// `NETSPEC_OP_QUERY`: what the kernel supports; see [`query`].
    Query,
    /// `NETSPEC_OP_CUSTOMIZE`: a token for a send context; see [`Context`].
    Customize,
    /// `NETSPEC_OP_CANCEL`: release a token; see [`Token::cancel`].
    Cancel,
    /// `NETSPEC_OP_INFO`: a token's instance and counters; see [`Token::info`].
    Info,
}

impl Op {
    /// Every operation this crate knows, in number order.
    pub const ALL: &'static [Op] = &[Op::Query, Op::Customize, Op::Cancel, Op::Info];

    /// The operation's number, which is also its bit in [`OpSet`].
    pub fn number(self) -> u32 {
        match self {
            Op::Query => sys::NETSPEC_OP_QUERY,
            Op::Customize => sys::NETSPEC_OP_CUSTOMIZE,
            Op::Cancel => sys::NETSPEC_OP_CANCEL,
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
    /// `NETSPEC_PROTO_TCP`: TCP over IPv4 or IPv6.
    Tcp,
}

impl Protocol {
    /// Every protocol this crate knows, in number order.
    pub const ALL: &'static [Protocol] = &[Protocol::Udp, Protocol::Tcp];

    /// The protocol's number, which is also its bit in [`ProtocolSet`].
    pub fn number(self) -> u32 {
        match self {
            Protocol::Udp => sys::NETSPEC_PROTO_UDP,
            Protocol::Tcp => sys::NETSPEC_PROTO_TCP,
        }
    }
}

/// The operations a kernel supports: bit n set for operation number n.
///
/// Bits of operations newer than this crate are kept; see [`OpSet::bits`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpSet(u64);

impl OpSet {
    /// The set with exactly these bits, as the kernel reports them.
    pub fn from_bits(bits: u64) -> Self {
        OpSet(bits)
    }

    /// The raw bits, unknown operations included.
    pub fn bits(self) -> u64 {
        self.0
    }

    /// Whether `op` is in the set.
    pub fn contains(self, op: Op) -> bool {
        bit_set(self.0, op.number())
    }

    /// The operations this crate knows that are in the set.
    pub fn iter(self) -> impl Iterator<Item = Op> {
        Op::ALL.iter().copied().filter(move |&op| self.contains(op))
    }
}

impl fmt::Debug for OpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_set(f, self.iter(), self.0, Op::ALL.iter().map(|o| o.number()))
    }
}

/// The protocols a kernel can specialize: bit n set for protocol number n.
///
/// Bits of protocols newer than this crate are kept; see [`ProtocolSet::bits`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ProtocolSet(u64);

impl ProtocolSet {
    /// The set with exactly these bits, as the kernel reports them.
    pub fn from_bits(bits: u64) -> Self {
        ProtocolSet(bits)
    }

    /// The raw bits, unknown protocols included.
    pub fn bits(self) -> u64 {
        self.0
    }

    /// Whether `protocol` is in the set.
    pub fn contains(self, protocol: Protocol) -> bool {
        bit_set(self.0, protocol.number())
    }

    /// The protocols this crate knows that are in the set.
    pub fn iter(self) -> impl Iterator<Item = Protocol> {
        Protocol::ALL
            .iter()
            .copied()
            .filter(move |&p| self.contains(p))
    }
}

impl fmt::Debug for ProtocolSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_set(
            f,
            self.iter(),
            self.0,
            Protocol::ALL.iter().map(|p| p.number()),
        )
    }
}

fn bit_set(bits: u64, n: u32) -> bool {
    n < 64 && bits & (1 << n) != 0
}

/// `{Query, Udp, 0x100}`: the known members, then any unknown bits in hex.
fn fmt_set<T: fmt::Debug>(
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// The kernel's `NETSPEC_ABI_VERSION`: bumped when the meaning of an
    /// existing operation or field changes. 1 or more on a netspec kernel.
    pub abi_version: u32,
    /// The operations the kernel supports.
    pub ops: OpSet,
    /// The protocols whose send path the kernel can specialize.
    pub protocols: ProtocolSet,
    /// The size of `struct netspec_query` the kernel knows. Larger than this
    /// crate's means the kernel has fields this crate did not ask for.
    pub kernel_struct_size: u32,
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
}

/// Asks the running kernel what netspec it offers (`NETSPEC_OP_QUERY`).
///
/// Fails with [`Error::NotSupported`] on a kernel without netspec, which is
/// how a program finds out whether it can specialize at all.
pub fn query() -> Result<Query, Error> {
    let mut q = sys::netspec_query::default();
    netspec(sys::NETSPEC_OP_QUERY, &mut q)?;
    Ok(Query {
        abi_version: q.abi_version,
        ops: OpSet(q.ops),
        protocols: ProtocolSet(q.protocols),
        kernel_struct_size: q.size,
    })
}

/// A `netspec()` argument struct of the UAPI header: plain integers, so any
/// bytes the kernel writes into it make a valid value.
pub(crate) trait ArgStruct {}
impl ArgStruct for sys::netspec_query {}
impl ArgStruct for sys::netspec_customize {}
impl ArgStruct for sys::netspec_cancel {}
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
        assert!(ops.contains(Op::Query) && ops.contains(Op::Info) && !ops.contains(Op::Cancel));
        assert_eq!(ops.bits() >> 40, 1);
        assert_eq!(format!("{ops:?}"), "{Query, Info, 0x10000000000}");

        let protocols = ProtocolSet::from_bits(1 << sys::NETSPEC_PROTO_TCP);
        assert!(protocols.contains(Protocol::Tcp) && !protocols.contains(Protocol::Udp));
        assert_eq!(format!("{protocols:?}"), "{Tcp}");
        assert_eq!(format!("{:?}", ProtocolSet::default()), "{}");
    }
}
