//! What a specialized instance does when one of its invariants breaks.

use crate::sys;
use std::fmt;

/// A change that breaks an invariant of a specialized path
/// (`enum netspec_event`); see [`Context::on`](crate::Context::on).
///
/// Closing the socket is not one: it always ends the tokens (`EPIPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// `NETSPEC_EVENT_SOCKET`: a change of a socket option the instance
    /// froze, or of the socket's addresses: a `setsockopt()` or `connect()`,
    /// or the same change made by a BPF program (`bpf_setsockopt()`).
    /// [`Policy::Reject`] refuses it in `setsockopt()` or `connect()`; the
    /// other policies act on the next send, which compares the socket with
    /// the state the instance froze.
    ///
    /// A UDP/IPv4 instance freezes `SO_BINDTODEVICE`, `SO_BINDTOIFINDEX`,
    /// `SO_MARK`, `SO_NO_CHECK`, `SO_TIMESTAMPING`, `SO_DONTROUTE`, `SO_ADU`
    /// ([`set_adu`]), `IP_TOS`, `IP_MTU_DISCOVER`, `IP_OPTIONS`,
    /// `IP_UNICAST_IF`, `IP_TRANSPARENT`, `IP_FREEBIND`, `UDP_CORK`,
    /// `UDP_SEGMENT` and the socket's connection; a TCP instance,
    /// `TCP_MAXSEG`. Every other option changes freely and takes effect on
    /// the next send, as for `send()`: `IP_TTL`, `SO_PRIORITY`, the buffer
    /// sizes.
    ///
    /// [`set_adu`]: crate::set_adu
    Socket,
    /// `NETSPEC_EVENT_ROUTE`: the cached route to the destination is no
    /// longer valid (a route, address, device or MTU change).
    Route,
    /// `NETSPEC_EVENT_MSS`: the MSS of a TCP instance's connection is no
    /// longer the one frozen at customize time ([`Info::mss`]), after a
    /// path MTU, route or device MTU change; the next send sees it. Every
    /// instance has a policy for it, and only [`Path::Tcp`] ones use it.
    ///
    /// [`Info::mss`]: crate::Info::mss
    /// [`Path::Tcp`]: crate::Path::Tcp
    Mss,
}

impl Event {
    /// Every event this crate knows, in number order.
    pub const ALL: &'static [Event] = &[Event::Socket, Event::Route, Event::Mss];

    /// The event's number, its index in the policy bytes of the UAPI structs.
    pub fn number(self) -> u32 {
        match self {
            Event::Socket => sys::NETSPEC_EVENT_SOCKET,
            Event::Route => sys::NETSPEC_EVENT_ROUTE,
            Event::Mss => sys::NETSPEC_EVENT_MSS,
        }
    }

    pub(crate) fn index(self) -> usize {
        self.number() as usize
    }
}

/// What a specialized instance does about an [`Event`] (`enum netspec_policy`).
///
/// Each event takes only some policies; customize fails with
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// `NETSPEC_POLICY_DEFAULT`: the network namespace's default, sysctl
    /// `net.netspec.socket_policy`, `net.netspec.route_policy` or
    /// `net.netspec.mss_policy`. Only ever asked for: the kernel reports the
    /// policy it resolved it to.
    #[default]
    Default,
    /// `NETSPEC_POLICY_REJECT` ([`Event::Socket`] only): the change fails
    /// with `EBUSY` while the instance is specialized. A change that cannot
    /// be refused (one a BPF program made, or one that raced the customize)
    /// is handled as [`Policy::Invalidate`].
    Reject,
    /// `NETSPEC_POLICY_INVALIDATE`: the instance goes to the generic path for
    /// good, and its tokens keep sending through it; the next customize of
    /// the same context specializes for the new state. The send that finds
    /// the change is a trip and a [`fallback`](crate::Info::fallbacks); the
    /// sends after it are the generic path's own.
    Invalidate,
    /// `NETSPEC_POLICY_RESPECIALIZE`: the instance is specialized for the
    /// new state. For the socket, it is rebuilt for the socket's new options
    /// (a trip); for the route, the route is resolved again
    /// ([`Info::reroutes`](crate::Info::reroutes)); for the MSS, the new MSS
    /// is frozen ([`Info::mss`](crate::Info::mss)), which counts as a trip.
    Respecialize,
    /// `NETSPEC_POLICY_REINFORCE` ([`Event::Route`] and [`Event::Mss`]): the
    /// instance keeps the state it was specialized for, and a reinforcement
    /// offsets the change; it goes with the instance.
    ///
    /// For the route, a netfilter hook rewrites the instance's packets
    /// (route, TTL, DF bit) to what the current route gives them
    /// ([`Info::rewrites`](crate::Info::rewrites)). A hook on every packet
    /// of the namespace is its administrator's to ask for: customize fails
    /// with [`Error::PermissionDenied`](crate::Error::PermissionDenied)
    /// (`EPERM`) without `CAP_NET_ADMIN` in the socket's network namespace
    /// (a namespace default of reinforce applies to anyone), and with
    /// [`Error::UnknownOperation`](crate::Error::UnknownOperation)
    /// (`EOPNOTSUPP`) on a kernel without `CONFIG_NETFILTER`.
    ///
    /// For the MSS, which needs no netfilter, an MSS that grew past the
    /// frozen one is clamped back to it, as the TCPMSS target's rewritten
    /// MSS option would clamp it ([`Info::mss_clamp`](crate::Info::mss_clamp));
    /// an MSS that shrank cannot be, and the sends count as
    /// [`fallbacks`](crate::Info::fallbacks) while it stays below.
    Reinforce,
    /// A policy newer than this crate.
    Unknown(u8),
}

impl Policy {
    /// Every policy this crate knows, in number order.
    pub const ALL: &'static [Policy] = &[
        Policy::Default,
        Policy::Reject,
        Policy::Invalidate,
        Policy::Respecialize,
        Policy::Reinforce,
    ];

    /// The policy's number, its byte in the UAPI structs and its bit in
    /// [`PolicySet`].
    pub fn number(self) -> u8 {
        // The UAPI numbers are bytes; the netspec-sys tests check they fit.
        match self {
            Policy::Default => sys::NETSPEC_POLICY_DEFAULT as u8,
            Policy::Reject => sys::NETSPEC_POLICY_REJECT as u8,
            Policy::Invalidate => sys::NETSPEC_POLICY_INVALIDATE as u8,
            Policy::Respecialize => sys::NETSPEC_POLICY_RESPECIALIZE as u8,
            Policy::Reinforce => sys::NETSPEC_POLICY_REINFORCE as u8,
            Policy::Unknown(n) => n,
        }
    }

    pub(crate) fn from_raw(raw: u8) -> Policy {
        match u32::from(raw) {
            sys::NETSPEC_POLICY_DEFAULT => Policy::Default,
            sys::NETSPEC_POLICY_REJECT => Policy::Reject,
            sys::NETSPEC_POLICY_INVALIDATE => Policy::Invalidate,
            sys::NETSPEC_POLICY_RESPECIALIZE => Policy::Respecialize,
            sys::NETSPEC_POLICY_REINFORCE => Policy::Reinforce,
            _ => Policy::Unknown(raw),
        }
    }
}

crate::bit_set!(
    /// The policies an event takes, as [`Query::policies`](crate::Query::policies)
    /// reports them: bit n set for policy number n.
    PolicySet of Policy, "policy"
);

/// A policy for every [`Event`], as asked for or as the kernel resolved them
/// (the `policy` bytes of `struct netspec_customize` and `struct netspec_info`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Policies([Policy; Event::ALL.len()]);

impl Policies {
    /// The policy for `event`.
    pub fn get(&self, event: Event) -> Policy {
        self.0[event.index()]
    }

    /// The same policies, with `policy` for `event`.
    pub fn with(mut self, event: Event, policy: Policy) -> Self {
        self.0[event.index()] = policy;
        self
    }

    /// The policies in the bytes the kernel wrote.
    pub(crate) fn from_raw(bytes: &[u8]) -> Self {
        let mut p = Policies::default();
        for &e in Event::ALL {
            p.0[e.index()] = Policy::from_raw(bytes[e.index()]);
        }
        p
    }

    /// Writes the policies into a UAPI struct's bytes; the others stay zero.
    pub(crate) fn write_raw(&self, bytes: &mut [u8]) {
        for &e in Event::ALL {
            bytes[e.index()] = self.get(e).number();
        }
    }
}

/// `{Socket: Reject, Route: Respecialize, Mss: Respecialize}`.
impl fmt::Debug for Policies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for &e in Event::ALL {
            m.entry(&e, &self.get(e));
        }
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_the_uapi_ones_in_order() {
        assert_eq!(Event::ALL.len(), sys::NETSPEC_EVENTS as usize);
        for (i, e) in Event::ALL.iter().enumerate() {
            assert_eq!(e.number() as usize, i, "{e:?}");
        }
    }

    /// `raw` maps to `policy` and back.
    fn check(raw: u8, policy: Policy) {
        assert_eq!(Policy::from_raw(raw), policy, "policy byte {raw}");
        assert_eq!(policy.number(), raw, "{policy:?}");
    }

    #[test]
    fn policies_map_from_the_uapi_numbers() {
        check(sys::NETSPEC_POLICY_DEFAULT as u8, Policy::Default);
        check(sys::NETSPEC_POLICY_REJECT as u8, Policy::Reject);
        check(sys::NETSPEC_POLICY_INVALIDATE as u8, Policy::Invalidate);
        check(sys::NETSPEC_POLICY_RESPECIALIZE as u8, Policy::Respecialize);
        check(sys::NETSPEC_POLICY_REINFORCE as u8, Policy::Reinforce);
        check(200, Policy::Unknown(200));
    }

    #[test]
    fn policy_sets_are_bits_of_the_policy_numbers() {
        for &p in Policy::ALL {
            assert_eq!(Policy::from_raw(p.number()), p);
        }
        let socket = PolicySet::from_bits(0b1110);
        assert_eq!(format!("{socket:?}"), "{Reject, Invalidate, Respecialize}");
        assert!(!socket.contains(Policy::Default) && !socket.contains(Policy::Reinforce));
        let newer = PolicySet::from_bits(1 << sys::NETSPEC_POLICY_REINFORCE | 1 << 6);
        assert!(newer.contains(Policy::Unknown(6)));
        assert_eq!(format!("{newer:?}"), "{Reinforce, 0x40}");
    }

    #[test]
    fn policies_go_to_their_event_bytes_and_back() {
        let p = Policies::default()
            .with(Event::Route, Policy::Invalidate)
            .with(Event::Socket, Policy::Reject);
        let mut c = sys::netspec_customize::default();
        p.write_raw(&mut c.policy);
        let mut want = sys::netspec_customize::default().policy;
        want[sys::NETSPEC_EVENT_SOCKET as usize] = sys::NETSPEC_POLICY_REJECT as u8;
        want[sys::NETSPEC_EVENT_ROUTE as usize] = sys::NETSPEC_POLICY_INVALIDATE as u8;
        assert_eq!(c.policy, want);
        assert_eq!(Policies::from_raw(&c.policy), p);
        assert_eq!(format!("{p:?}"), "{Socket: Reject, Route: Invalidate, Mss: Default}");
        assert_eq!(
            format!("{:?}", Policies::default()),
            "{Socket: Default, Route: Default, Mss: Default}"
        );
    }

    #[test]
    fn reinforce_goes_to_the_route_byte_and_back() {
        let p = Policies::default().with(Event::Route, Policy::Reinforce);
        let mut i = sys::netspec_info::default();
        p.write_raw(&mut i.policy);
        let mut want = sys::netspec_info::default().policy;
        want[sys::NETSPEC_EVENT_ROUTE as usize] = sys::NETSPEC_POLICY_REINFORCE as u8;
        assert_eq!(i.policy, want);
        assert_eq!(Policies::from_raw(&i.policy), p);
        assert_eq!(format!("{p:?}"), "{Socket: Default, Route: Reinforce, Mss: Default}");
    }

    #[test]
    fn mss_policies_go_to_the_mss_byte_and_back() {
        let p = Policies::default()
            .with(Event::Mss, Policy::Reinforce)
            .with(Event::Route, Policy::Respecialize);
        let mut i = sys::netspec_info::default();
        p.write_raw(&mut i.policy);
        let mut want = sys::netspec_info::default().policy;
        want[sys::NETSPEC_EVENT_ROUTE as usize] = sys::NETSPEC_POLICY_RESPECIALIZE as u8;
        want[sys::NETSPEC_EVENT_MSS as usize] = sys::NETSPEC_POLICY_REINFORCE as u8;
        assert_eq!(i.policy, want);
        assert_eq!(Policies::from_raw(&i.policy), p);
        assert_eq!(p.get(Event::Socket), Policy::Default);
        assert_eq!(format!("{p:?}"), "{Socket: Default, Route: Respecialize, Mss: Reinforce}");
    }
}
