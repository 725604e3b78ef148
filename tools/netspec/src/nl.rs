//! The `netspec` generic netlink family (`<linux/netspec_nl.h>`): the
//! instances of the caller's network namespace and its code manager's
//! counters, read over a raw `NETLINK_GENERIC` socket.
//!
//! The codec (requests out, messages and attributes in) is plain functions
//! over bytes, tested here without a kernel; [`Genl`] is the socket.

use crate::token::destination;
use crate::{sys, Error, Event, Info, Path, Policies, Policy, Protocol};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// An instance, as the family lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Instance {
    /// The process that customized it first, in the caller's PID namespace;
    /// 0 if that process is not in it, or gone.
    pub pid: u32,
    /// What [`Token::info`](crate::Token::info) reports for a token of it.
    pub info: Info,
    /// Present when its specialized path would take code made for its
    /// context and has none, nor is any registered: the checksum mode to
    /// ask code for. `None` too from a kernel without code requests.
    pub code_wanted: Option<CodeCsum>,
}

/// Who sums the UDP checksum of the packets a loaded send function sends:
/// the mode a code request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeCsum {
    /// The device does (CHECKSUM_PARTIAL).
    Partial,
    /// The send does, while it copies the payload.
    Software,
    /// No checksum (SO_NO_CHECK).
    None,
    /// A mode this crate does not know.
    Unknown(u32),
}

impl CodeCsum {
    fn from_raw(v: u32) -> Self {
        match v {
            sys::NETSPEC_CODE_CSUM_PARTIAL => Self::Partial,
            sys::NETSPEC_CODE_CSUM_SOFTWARE => Self::Software,
            sys::NETSPEC_CODE_CSUM_NONE => Self::None,
            v => Self::Unknown(v),
        }
    }
}

/// The code manager's counters of the caller's network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Customizations that shared an instance.
    pub hits: u64,
    /// Customizations that created one.
    pub misses: u64,
    /// Specialized instances put on the generic path to make room.
    pub evictions: u64,
    /// Specialized instances the code manager holds now.
    pub versions: u32,
    /// The bound on them, sysctl `net.netspec.max_versions`.
    pub max_versions: u32,
    /// Requests for code made for an instance's context that reached a
    /// listener of the family's `code` group (an agent); `None` from a
    /// kernel whose family has no such requests.
    pub code_requests: Option<u64>,
    /// Requests for code that the namespace's limit held back (32 in 5
    /// seconds); `None` as for `code_requests`.
    pub code_requests_dropped: Option<u64>,
}

/// The instances of the caller's network namespace that the caller may see:
/// those its effective uid customized, or all of them with `CAP_NET_ADMIN`
/// in the namespace's user namespace. In the order of their ids.
///
/// Fails with [`Error::NotSupported`] on a kernel without the family.
pub fn instances() -> Result<Vec<Instance>, Error> {
    let mut genl = Genl::open()?;
    let replies = genl.request(sys::NETSPEC_CMD_INST_GET as u8, Kind::Dump, &[]).map_err(NlError::into_error)?;
    replies.iter().map(|attrs| instance_from(attrs).map_err(invalid)).collect()
}

/// The instance numbered `id` ([`Info::id`]), if the caller may see it
/// (as [`instances`] lists them).
pub fn instance(id: u64) -> Result<Option<Instance>, Error> {
    // The family numbers instances from 1, in 32 bits.
    let Some(id) = u32::try_from(id).ok().filter(|&id| id != 0) else {
        return Ok(None);
    };
    let mut genl = Genl::open()?;
    let id = id.to_ne_bytes();
    match genl.request(sys::NETSPEC_CMD_INST_GET as u8, Kind::Do, &[(sys::NETSPEC_A_INST_ID as u16, &id)]) {
        Ok(replies) => match replies.first() {
            Some(attrs) => instance_from(attrs).map(Some).map_err(invalid),
            None => Err(invalid("no reply to inst-get".into())),
        },
        Err(NlError::Errno(libc::ENOENT)) => Ok(None),
        Err(e) => Err(e.into_error()),
    }
}

/// The code manager's counters of the caller's network namespace.
///
/// Fails with [`Error::NotSupported`] on a kernel without the family.
pub fn stats() -> Result<Stats, Error> {
    let mut genl = Genl::open()?;
    let replies = genl.request(sys::NETSPEC_CMD_STATS_GET as u8, Kind::Do, &[]).map_err(NlError::into_error)?;
    match replies.first() {
        Some(attrs) => stats_from(attrs).map_err(invalid),
        None => Err(invalid("no reply to stats-get".into())),
    }
}

fn invalid(message: String) -> Error {
    Error::Other(io::Error::new(io::ErrorKind::InvalidData, format!("netspec netlink reply: {message}")))
}

/// A netlink request's failure: the kernel's errno, or the socket's.
#[derive(Debug)]
enum NlError {
    Errno(i32),
    Io(io::Error),
}

impl NlError {
    fn into_error(self) -> Error {
        match self {
            NlError::Errno(e) => Error::from_errno(e),
            NlError::Io(e) => Error::Other(e),
        }
    }
}

/// A generic netlink request: one reply (with an acknowledgement), or a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Do,
    Dump,
}

/// A `NETLINK_GENERIC` socket and the netspec family's id on it.
struct Genl {
    fd: OwnedFd,
    family: u16,
    seq: u32,
}

impl Genl {
    /// Opens the socket and resolves the family by name.
    fn open() -> Result<Genl, Error> {
        // SAFETY: socket() takes no pointers; its result is checked.
        let fd = unsafe {
            libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_GENERIC)
        };
        if fd < 0 {
            return Err(Error::Other(io::Error::last_os_error()));
        }
        // SAFETY: a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut genl = Genl { fd, family: libc::GENL_ID_CTRL as u16, seq: 0 };
        let name: &[u8] = sys::NETSPEC_FAMILY_NAME;
        let replies = match genl.request(
            libc::CTRL_CMD_GETFAMILY as u8,
            Kind::Do,
            &[(libc::CTRL_ATTR_FAMILY_NAME as u16, name)],
        ) {
            Ok(replies) => replies,
            // The controller knows no family of that name.
            Err(NlError::Errno(libc::ENOENT)) => return Err(Error::NotSupported),
            Err(e) => return Err(e.into_error()),
        };
        let id = replies
            .iter()
            .flatten()
            .find(|(ty, _)| i32::from(*ty) == libc::CTRL_ATTR_FAMILY_ID)
            .map(|(_, v)| uint(v))
            .ok_or_else(|| invalid("the controller gave no family id".into()))?
            .map_err(invalid)?;
        genl.family = u16::try_from(id).map_err(|_| invalid(format!("family id {id}")))?;
        Ok(genl)
    }

    /// Sends one request of command `cmd` to the family and collects the
    /// attributes of every reply.
    fn request(&mut self, cmd: u8, kind: Kind, attrs: &[(u16, &[u8])]) -> Result<Vec<Attrs>, NlError> {
        self.seq += 1;
        let flags = match kind {
            Kind::Do => libc::NLM_F_REQUEST | libc::NLM_F_ACK,
            Kind::Dump => libc::NLM_F_REQUEST | libc::NLM_F_DUMP,
        } as u16;
        // The controller's commands are of its version 1; the family's of its own.
        let version = if self.family == libc::GENL_ID_CTRL as u16 { 1 } else { sys::NETSPEC_FAMILY_VERSION as u8 };
        let msg = request(self.family, flags, self.seq, cmd, version, attrs);
        // SAFETY: the kernel reads msg.len() bytes from msg; an unconnected
        // netlink socket sends to the kernel.
        let sent = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if sent < 0 {
            return Err(NlError::Io(io::Error::last_os_error()));
        }
        let mut replies = Vec::new();
        loop {
            let datagram = self.recv().map_err(NlError::Io)?;
            let messages = messages(&datagram).map_err(|m| NlError::Io(io::Error::new(io::ErrorKind::InvalidData, m)))?;
            for m in messages {
                if m.seq != self.seq {
                    continue;
                }
                match m.end() {
                    Ok(End::Not) => {}
                    Ok(End::Ack | End::Done) => return Ok(replies),
                    Err(errno) => return Err(NlError::Errno(errno)),
                }
                if m.ty == self.family {
                    let attrs = genl_attrs(m.payload).map_err(|e| NlError::Io(io::Error::new(io::ErrorKind::InvalidData, e)))?;
                    replies.push(attrs);
                }
            }
        }
    }

    /// One datagram, however large: its length peeked first.
    fn recv(&self) -> io::Result<Vec<u8>> {
        let fd = self.fd.as_raw_fd();
        loop {
            // SAFETY: with a zero length the kernel writes nothing; with
            // MSG_TRUNC netlink returns the datagram's real length.
            let len = unsafe { libc::recv(fd, std::ptr::null_mut(), 0, libc::MSG_PEEK | libc::MSG_TRUNC) };
            if len < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let mut buf = vec![0u8; len as usize];
            // SAFETY: the kernel writes at most buf.len() bytes into buf.
            let got = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if got < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            buf.truncate(got as usize);
            return Ok(buf);
        }
    }
}

/// The attributes of one message: (type, payload).
type Attrs = Vec<(u16, Vec<u8>)>;

const NLMSG_HDRLEN: usize = std::mem::size_of::<libc::nlmsghdr>();
const GENL_HDRLEN: usize = std::mem::size_of::<libc::genlmsghdr>();
const NLA_HDRLEN: usize = std::mem::size_of::<libc::nlattr>();

/// Netlink's 4-byte alignment of messages and attributes.
fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// A generic netlink request: the netlink header, the generic header, the
/// attributes.
fn request(ty: u16, flags: u16, seq: u32, cmd: u8, version: u8, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut msg = vec![0u8; NLMSG_HDRLEN];
    msg.extend_from_slice(&[cmd, version, 0, 0]);
    for (attr, value) in attrs {
        let len = NLA_HDRLEN + value.len();
        msg.extend_from_slice(&(len as u16).to_ne_bytes());
        msg.extend_from_slice(&attr.to_ne_bytes());
        msg.extend_from_slice(value);
        msg.resize(align(msg.len()), 0);
    }
    let len = msg.len() as u32;
    msg[0..4].copy_from_slice(&len.to_ne_bytes());
    msg[4..6].copy_from_slice(&ty.to_ne_bytes());
    msg[6..8].copy_from_slice(&flags.to_ne_bytes());
    msg[8..12].copy_from_slice(&seq.to_ne_bytes());
    // nlmsg_pid 0: the kernel fills in the socket's port.
    msg
}

/// One netlink message of a datagram.
#[derive(Debug, PartialEq, Eq)]
struct Message<'a> {
    ty: u16,
    seq: u32,
    payload: &'a [u8],
}

/// Whether a message ends a request.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Not,
    Ack,
    Done,
}

impl Message<'_> {
    /// `NLMSG_ERROR` with 0 is the acknowledgement, with an errno the
    /// request's failure; `NLMSG_DONE` ends a dump, with an errno if the dump
    /// failed part way.
    fn end(&self) -> Result<End, i32> {
        let status = || -> i32 {
            self.payload.get(..4).map_or(0, |b| i32::from_ne_bytes(b.try_into().unwrap_or([0; 4])))
        };
        match i32::from(self.ty) {
            libc::NLMSG_ERROR if status() == 0 => Ok(End::Ack),
            libc::NLMSG_ERROR => Err(status().saturating_neg()),
            libc::NLMSG_DONE if status() < 0 => Err(status().saturating_neg()),
            libc::NLMSG_DONE => Ok(End::Done),
            _ => Ok(End::Not),
        }
    }
}

/// The messages of a datagram.
fn messages(buf: &[u8]) -> Result<Vec<Message<'_>>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while buf.len() - at >= NLMSG_HDRLEN {
        let field = |off: usize, n: usize| &buf[at + off..at + off + n];
        let len = u32::from_ne_bytes(field(0, 4).try_into().unwrap_or_default()) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() - at {
            return Err(format!("a message of {len} bytes at byte {at} of {}", buf.len()));
        }
        out.push(Message {
            ty: u16::from_ne_bytes(field(4, 2).try_into().unwrap_or_default()),
            seq: u32::from_ne_bytes(field(8, 4).try_into().unwrap_or_default()),
            payload: &buf[at + NLMSG_HDRLEN..at + len],
        });
        at = (at + align(len)).min(buf.len());
    }
    if at != buf.len() {
        return Err(format!("{} stray bytes at the end of the datagram", buf.len() - at));
    }
    Ok(out)
}

/// The attributes of a generic netlink message's payload.
fn genl_attrs(payload: &[u8]) -> Result<Attrs, String> {
    let attrs = payload.get(GENL_HDRLEN..).ok_or("a message shorter than its generic header")?;
    let mut out = Vec::new();
    let mut at = 0;
    while attrs.len() - at >= NLA_HDRLEN {
        let len = usize::from(u16::from_ne_bytes([attrs[at], attrs[at + 1]]));
        let ty = u16::from_ne_bytes([attrs[at + 2], attrs[at + 3]]) & libc::NLA_TYPE_MASK as u16;
        if len < NLA_HDRLEN || len > attrs.len() - at {
            return Err(format!("an attribute of {len} bytes at byte {at} of {}", attrs.len()));
        }
        out.push((ty, attrs[at + NLA_HDRLEN..at + len].to_vec()));
        at = (at + align(len)).min(attrs.len());
    }
    if at != attrs.len() {
        return Err(format!("{} stray bytes after the attributes", attrs.len() - at));
    }
    Ok(out)
}

/// An unsigned integer attribute of any width the family uses.
fn uint(v: &[u8]) -> Result<u64, String> {
    Ok(match *v {
        [a] => a.into(),
        [a, b] => u16::from_ne_bytes([a, b]).into(),
        [a, b, c, d] => u32::from_ne_bytes([a, b, c, d]).into(),
        [a, b, c, d, e, f, g, h] => u64::from_ne_bytes([a, b, c, d, e, f, g, h]),
        _ => return Err(format!("an integer of {} bytes", v.len())),
    })
}

/// The attribute `ty` of `attrs`, if there.
fn attr(attrs: &Attrs, ty: u32) -> Option<&[u8]> {
    attrs.iter().find(|(t, _)| u32::from(*t) == ty).map(|(_, v)| v.as_slice())
}

/// The unsigned integer attribute `ty`, 0 if missing.
fn uint_attr(attrs: &Attrs, ty: u32) -> Result<u64, String> {
    attr(attrs, ty).map_or(Ok(0), uint)
}

fn u32_attr(attrs: &Attrs, ty: u32) -> Result<u32, String> {
    let v = uint_attr(attrs, ty)?;
    u32::try_from(v).map_err(|_| format!("attribute {ty}: {v} is not a u32"))
}

fn policy_attr(attrs: &Attrs, ty: u32) -> Result<Policy, String> {
    let v = uint_attr(attrs, ty)?;
    Ok(u8::try_from(v).map_or(Policy::Unknown(u8::MAX), Policy::from_raw))
}

fn instance_from(attrs: &Attrs) -> Result<Instance, String> {
    use sys::*;
    let id = attr(attrs, NETSPEC_A_INST_ID).ok_or("an instance without an id")?;
    let port = match attr(attrs, NETSPEC_A_INST_PORT) {
        Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
        Some(v) => return Err(format!("a port of {} bytes", v.len())),
        None => 0,
    };
    let family = u16::try_from(uint_attr(attrs, NETSPEC_A_INST_FAMILY)?).map_err(|_| "a family above 65535")?;
    let send_flags = u32_attr(attrs, NETSPEC_A_INST_SEND_FLAGS)?;
    let policies = Policies::default()
        .with(Event::Socket, policy_attr(attrs, NETSPEC_A_INST_POLICY_SOCKET)?)
        .with(Event::Route, policy_attr(attrs, NETSPEC_A_INST_POLICY_ROUTE)?)
        .with(Event::Mss, policy_attr(attrs, NETSPEC_A_INST_POLICY_MSS)?);
    Ok(Instance {
        pid: u32_attr(attrs, NETSPEC_A_INST_PID)?,
        info: Info {
            id: uint(id)?,
            protocol: Protocol::from_raw(u32_attr(attrs, NETSPEC_A_INST_PROTOCOL)?),
            path: Path::from_raw(u32_attr(attrs, NETSPEC_A_INST_PATH)?),
            adu: u32_attr(attrs, NETSPEC_A_INST_ADU)?,
            dont_wait: send_flags & libc::MSG_DONTWAIT as u32 != 0,
            no_signal: send_flags & libc::MSG_NOSIGNAL as u32 != 0,
            destination: destination(family, port, attr(attrs, NETSPEC_A_INST_ADDR).unwrap_or_default()),
            users: u32_attr(attrs, NETSPEC_A_INST_USERS)?,
            policies,
            mss: u32_attr(attrs, NETSPEC_A_INST_MSS)?,
            mss_clamp: u32_attr(attrs, NETSPEC_A_INST_MSS_CLAMP)?,
            sends: uint_attr(attrs, NETSPEC_A_INST_SENDS)?,
            fallbacks: uint_attr(attrs, NETSPEC_A_INST_FALLBACKS)?,
            reroutes: uint_attr(attrs, NETSPEC_A_INST_REROUTES)?,
            trips: uint_attr(attrs, NETSPEC_A_INST_TRIPS)?,
            rewrites: uint_attr(attrs, NETSPEC_A_INST_REWRITES)?,
        },
        code_wanted: attr(attrs, NETSPEC_A_INST_CODE_WANTED)
            .map(|v| uint(v).and_then(|v| u32::try_from(v).map_err(|_| format!("a checksum mode of {v}"))))
            .transpose()?
            .map(CodeCsum::from_raw),
    })
}

fn stats_from(attrs: &Attrs) -> Result<Stats, String> {
    use sys::*;
    Ok(Stats {
        hits: uint_attr(attrs, NETSPEC_A_STATS_HITS)?,
        misses: uint_attr(attrs, NETSPEC_A_STATS_MISSES)?,
        evictions: uint_attr(attrs, NETSPEC_A_STATS_EVICTIONS)?,
        versions: u32_attr(attrs, NETSPEC_A_STATS_VERSIONS)?,
        max_versions: u32_attr(attrs, NETSPEC_A_STATS_MAX_VERSIONS)?,
        code_requests: attr(attrs, NETSPEC_A_STATS_CODE_REQUESTS).map(uint).transpose()?,
        code_requests_dropped: attr(attrs, NETSPEC_A_STATS_CODE_REQUESTS_DROPPED).map(uint).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sys::*;

    /// A datagram of the messages (type, seq, payload) back to back.
    fn datagram(msgs: &[(u16, u32, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (ty, seq, payload) in msgs {
            let mut m = vec![0u8; NLMSG_HDRLEN];
            m[0..4].copy_from_slice(&((NLMSG_HDRLEN + payload.len()) as u32).to_ne_bytes());
            m[4..6].copy_from_slice(&ty.to_ne_bytes());
            m[8..12].copy_from_slice(&seq.to_ne_bytes());
            m.extend_from_slice(payload);
            m.resize(align(m.len()), 0);
            out.extend_from_slice(&m);
        }
        out
    }

    /// A generic netlink payload: the generic header and the attributes.
    fn payload(cmd: u32, attrs: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let request = request(0, 0, 0, cmd as u8, 1, &attrs.iter().map(|(t, v)| (*t as u16, v.as_slice())).collect::<Vec<_>>());
        request[NLMSG_HDRLEN..].to_vec()
    }

    fn an_instance() -> Vec<(u32, Vec<u8>)> {
        vec![
            (NETSPEC_A_INST_ID, 7u32.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_PID, 42u32.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_PATH, NETSPEC_PATH_UDP4.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_PROTOCOL, NETSPEC_PROTO_UDP.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_ADU, 64u32.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_SEND_FLAGS, (libc::MSG_DONTWAIT as u32).to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_FAMILY, (libc::AF_INET as u16).to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_PORT, 9000u16.to_be_bytes().to_vec()),
            (NETSPEC_A_INST_ADDR, vec![10, 0, 0, 2]),
            (NETSPEC_A_INST_USERS, 2u32.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_POLICY_SOCKET, NETSPEC_POLICY_REJECT.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_POLICY_ROUTE, NETSPEC_POLICY_REINFORCE.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_POLICY_MSS, NETSPEC_POLICY_RESPECIALIZE.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_MSS, 0u32.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_MSS_CLAMP, 0u32.to_ne_bytes().to_vec()),
            // nla_put_u64_64bit pads where the u64 would not be 8-aligned.
            (NETSPEC_A_INST_PAD, vec![]),
            (NETSPEC_A_INST_SENDS, 100u64.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_FALLBACKS, 3u64.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_REROUTES, 1u64.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_TRIPS, 2u64.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_REWRITES, 0u64.to_ne_bytes().to_vec()),
            (NETSPEC_A_INST_CODE_WANTED, NETSPEC_CODE_CSUM_SOFTWARE.to_ne_bytes().to_vec()),
        ]
    }

    #[test]
    fn a_request_is_a_header_a_generic_header_and_aligned_attributes() {
        let msg = request(0x1234, 0x0305, 9, 3, 1, &[(2, b"netspec\0"), (5, &[1, 2, 3])]);
        // 16 + 4 + (4 + 8) + (4 + 3, padded to 8)
        assert_eq!(msg.len(), 40);
        assert_eq!(&msg[0..4], &40u32.to_ne_bytes());
        assert_eq!(&msg[4..6], &0x1234u16.to_ne_bytes());
        assert_eq!(&msg[6..8], &0x0305u16.to_ne_bytes());
        assert_eq!(&msg[8..12], &9u32.to_ne_bytes());
        assert_eq!(&msg[16..20], &[3, 1, 0, 0]);
        assert_eq!(&msg[20..22], &12u16.to_ne_bytes());
        assert_eq!(&msg[24..32], b"netspec\0");
        assert_eq!(&msg[32..34], &7u16.to_ne_bytes());
        assert_eq!(&msg[36..40], &[1, 2, 3, 0]);
        // And it reads back.
        let m = messages(&msg).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(genl_attrs(m[0].payload).unwrap(), vec![(2, b"netspec\0".to_vec()), (5, vec![1, 2, 3])]);
    }

    #[test]
    fn a_dump_reads_every_instance_up_to_done() {
        let family = 0x20;
        let mut second = an_instance();
        second[0].1 = 8u32.to_ne_bytes().to_vec();
        let buf = datagram(&[
            (family, 5, payload(NETSPEC_CMD_INST_GET, &an_instance())),
            (family, 5, payload(NETSPEC_CMD_INST_GET, &second)),
            (libc::NLMSG_DONE as u16, 5, 0i32.to_ne_bytes().to_vec()),
        ]);
        let m = messages(&buf).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].end(), Ok(End::Not));
        assert_eq!(m[2].end(), Ok(End::Done));
        let first = instance_from(&genl_attrs(m[0].payload).unwrap()).unwrap();
        let want = Instance {
            pid: 42,
            info: Info {
                id: 7,
                protocol: Protocol::Udp,
                path: Path::Udp4,
                adu: 64,
                dont_wait: true,
                no_signal: false,
                destination: Some("10.0.0.2:9000".parse().unwrap()),
                users: 2,
                policies: Policies::default()
                    .with(Event::Socket, Policy::Reject)
                    .with(Event::Route, Policy::Reinforce)
                    .with(Event::Mss, Policy::Respecialize),
                mss: 0,
                mss_clamp: 0,
                sends: 100,
                fallbacks: 3,
                reroutes: 1,
                trips: 2,
                rewrites: 0,
            },
            code_wanted: Some(CodeCsum::Software),
        };
        assert_eq!(first, want);
        let second = instance_from(&genl_attrs(m[1].payload).unwrap()).unwrap();
        assert_eq!(second.info.id, 8);
        // Absent: an instance that wants no code, or an older kernel.
        let mut none = an_instance();
        none.retain(|(t, _)| *t != NETSPEC_A_INST_CODE_WANTED);
        let buf = datagram(&[(family, 5, payload(NETSPEC_CMD_INST_GET, &none))]);
        let m = messages(&buf).unwrap();
        assert_eq!(instance_from(&genl_attrs(m[0].payload).unwrap()).unwrap().code_wanted, None);
    }

    #[test]
    fn errors_and_acks_end_a_request() {
        let mut nack = (-libc::ENOENT).to_ne_bytes().to_vec();
        nack.extend_from_slice(&[0; NLMSG_HDRLEN]); // the request's header, echoed
        let buf = datagram(&[
            (libc::NLMSG_ERROR as u16, 1, nack),
            (libc::NLMSG_ERROR as u16, 2, 0i32.to_ne_bytes().to_vec()),
            (libc::NLMSG_DONE as u16, 3, (-libc::EMSGSIZE).to_ne_bytes().to_vec()),
            (libc::NLMSG_DONE as u16, 4, vec![]),
        ]);
        let m = messages(&buf).unwrap();
        assert_eq!(m[0].end(), Err(libc::ENOENT));
        assert_eq!(m[1].end(), Ok(End::Ack));
        assert_eq!(m[2].end(), Err(libc::EMSGSIZE));
        assert_eq!(m[3].end(), Ok(End::Done));
    }

    #[test]
    fn stats_read_their_attributes() {
        let old_kernel = vec![
            (NETSPEC_A_STATS_HITS, 5u64.to_ne_bytes().to_vec()),
            (NETSPEC_A_STATS_PAD, vec![]),
            (NETSPEC_A_STATS_MISSES, 6u64.to_ne_bytes().to_vec()),
            (NETSPEC_A_STATS_EVICTIONS, 7u64.to_ne_bytes().to_vec()),
            (NETSPEC_A_STATS_VERSIONS, 8u32.to_ne_bytes().to_vec()),
            (NETSPEC_A_STATS_MAX_VERSIONS, 256u32.to_ne_bytes().to_vec()),
        ];
        let attrs = genl_attrs(&payload(NETSPEC_CMD_STATS_GET, &old_kernel)).unwrap();
        let mut want = Stats {
            hits: 5,
            misses: 6,
            evictions: 7,
            versions: 8,
            max_versions: 256,
            code_requests: None,
            code_requests_dropped: None,
        };
        assert_eq!(stats_from(&attrs).unwrap(), want);
        // A kernel with patch 0015 adds the code requests' counters.
        let mut with_code = old_kernel;
        with_code.push((NETSPEC_A_STATS_CODE_REQUESTS, 3u64.to_ne_bytes().to_vec()));
        with_code.push((NETSPEC_A_STATS_CODE_REQUESTS_DROPPED, 4u64.to_ne_bytes().to_vec()));
        let with = genl_attrs(&payload(NETSPEC_CMD_STATS_GET, &with_code)).unwrap();
        want.code_requests = Some(3);
        want.code_requests_dropped = Some(4);
        assert_eq!(stats_from(&with).unwrap(), want);
    }

    #[test]
    fn bad_replies_are_errors_not_panics() {
        let good = datagram(&[(0x20, 1, payload(NETSPEC_CMD_INST_GET, &an_instance()))]);
        // Every truncation, and every byte of the headers and first
        // attributes set to each of a few values.
        for cut in 0..good.len() {
            for m in messages(&good[..cut]).unwrap_or_default() {
                if let Ok(a) = genl_attrs(m.payload) {
                    let _ = instance_from(&a);
                }
            }
        }
        for at in 0..48 {
            for v in [0u8, 1, 3, 4, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[at] = v;
                if let Ok(m) = messages(&bad) {
                    for m in m {
                        let _ = m.end();
                        if let Ok(a) = genl_attrs(m.payload) {
                            let _ = instance_from(&a);
                            let _ = stats_from(&a);
                        }
                    }
                }
            }
        }
        assert!(messages(&good[..good.len() - 1]).is_err());
        assert!(instance_from(&vec![(NETSPEC_A_INST_PID as u16, vec![0; 4])]).is_err(), "no id");
        assert!(uint(&[0; 3]).is_err());
    }
}
