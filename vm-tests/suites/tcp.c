// SPDX-License-Identifier: GPL-2.0
/*
 * TCP instances: a connected TCP socket customized with NETSPEC_PROTO_TCP
 * freezes its connection's MSS, and the MSS guard applies the instance's
 * policy when a device MTU change makes the MSS grow or shrink under
 * traffic.  The reinforcement clamps the connection back to the frozen MSS,
 * which the receiver sees: its largest segment stays at the frozen MSS.
 * Every byte sent arrives, in order.
 *
 * The connection runs over a veth pair to a far network namespace (far.h),
 * whose MTU on this side sets the connection's MSS: 1000 gives 948 (less
 * 40 bytes of headers and 12 of timestamps), 1500 gives 1448, 800 gives 748.
 * Over IPv6 (60 bytes of headers), 1500 gives 1428 and 1280 gives 1208;
 * those tests run first, since an MTU under 1280 takes IPv6 off the link
 * and its addresses with it.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "link.h"
#include "text.h"
#include "genl.h"
#include "far.h"

#define TCA 0x0a5a0101		/* 10.90.1.1 on tca, here */
#define TCB 0x0a5a0102		/* 10.90.1.2 on tcb, the far side */
#define SOL_TCP 6
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_INFO 11
#define TCPI_RCV_MSS 20		/* offset of tcpi_rcv_mss in struct tcp_info */
#define SO_SNDBUFFORCE 32
#define SO_RCVBUFFORCE 33
#define ADU 1000
#define BATCH 16
#define PHASE 20		/* messages sent between two MTU changes */
#define FLAPS 100
#define MSS_1000 948
#define MSS_1500 1448
#define MSS_800 748
#define CLAMP_1000 960		/* MSS_1000 plus the timestamp option */
#define MSS6_1500 1428
#define MSS6_1280 1208

static unsigned char msg[ADU * BATCH], in[4096];
static unsigned char tx_byte, rx_byte;	/* the stream's pattern, mod 251 */
static int listener, listener6;
static unsigned short listen_port, listen_port6;
static struct in6_addr tca6, tcb6;	/* fd00:5a::1 and fd00:5a::2 */

/* Fills n bytes with the stream's next bytes. */
static void fill(unsigned char *p, unsigned int n)
{
	while (n--) {
		*p++ = tx_byte;
		tx_byte = tx_byte == 250 ? 0 : tx_byte + 1;
	}
}

/*
 * Reads n bytes from srv within a few seconds and checks they are the
 * stream's next ones; returns how many arrived in order.
 */
static unsigned long receive(int srv, unsigned long n)
{
	unsigned long got = 0;
	long r, i;

	while (got < n && net_wait_readable(srv, 5000) > 0) {
		r = net_recvfrom(srv, in, n - got < sizeof(in) ?
				 n - got : sizeof(in), MSG_DONTWAIT, NULL, NULL);
		if (r <= 0)
			break;
		for (i = 0; i < r; i++) {
			if (in[i] != rx_byte)
				return got;
			rx_byte = rx_byte == 250 ? 0 : rx_byte + 1;
			got++;
		}
	}
	return got;
}

/*
 * A TCP socket of family listening on addr (len bytes), with a large
 * receive buffer; addr gets the port the kernel chose.  The fd, or -errno.
 */
static long listen_on(int family, void *addr, socklen_t len)
{
	int size = 4 << 20;
	long fd, r;

	fd = net_socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	net_setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	r = net_bind(fd, addr, len);
	r = r ?: net_getsockname(fd, addr, &len);
	r = r ?: net_listen(fd, 8);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

static long setup(void)
{
	struct sockaddr_in sin = net_sin(TCB, 0);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	long r, here;

	tca6.s6_addr[0] = 0xfd;
	tca6.s6_addr[3] = 0x5a;
	tcb6 = tca6;
	tca6.s6_addr[15] = 1;
	tcb6.s6_addr[15] = 2;
	r = far_spawn();
	r = r ?: link_create("veth", "tca", "tcb", far_pid);
	r = r ?: link_addr_up("tca", TCA);
	r = r ?: link_addr6("tca", &tca6);
	if (r)
		return r;
	here = far_enter();
	if (here < 0)
		return here;
	r = net_if_up("lo");
	r = r ?: link_addr_up("tcb", TCB);
	r = r ?: link_addr6("tcb", &tcb6);
	listener = r ?: listen_on(AF_INET, &sin, sizeof(sin));
	listen_port = net_ntohs(sin.sin_port);
	s6.sin6_addr = tcb6;
	listener6 = listener < 0 ? listener :
		    listen_on(AF_INET6, &s6, sizeof(s6));
	listen_port6 = net_ntohs(s6.sin6_port);
	far_leave(here);
	return listener6 < 0 ? listener6 : 0;
}

/*
 * A connection of family to the far side's address addr (of len bytes),
 * accepted on lsn, made with the MTU of tca at mtu: its fd, the far end's
 * in *srv; -errno on failure.
 */
static long connect_to(int family, const void *addr, socklen_t len, int lsn,
		       int mtu, int *srv)
{
	int size = 4 << 20;
	long fd, r;

	r = link_set_mtu("tca", mtu);
	fd = r ?: net_socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	net_setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	r = net_connect(fd, addr, len);
	*srv = r ? -1 : net_accept(lsn);
	if (r || *srv < 0) {
		close(fd);
		return r ?: *srv;
	}
	tx_byte = 0;
	rx_byte = 0;
	return fd;
}

/* An IPv4 connection made with the MTU of tca at mtu. */
static long connect_at(int mtu, int *srv)
{
	struct sockaddr_in sin = net_sin(TCB, listen_port);

	return connect_to(AF_INET, &sin, sizeof(sin), listener, mtu, srv);
}

/* An IPv6 connection made with the MTU of tca at 1500. */
static long connect6(int *srv)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

	s6.sin6_addr = tcb6;
	s6.sin6_port = net_htons(listen_port6);
	return connect_to(AF_INET6, &s6, sizeof(s6), listener6, 1500, srv);
}

static long customize_tcp(int fd, int mss_policy, struct netspec_customize *c)
{
	*c = netspec_tcp_connected(fd, ADU);
	c->policy[NETSPEC_EVENT_MSS] = mss_policy;
	return netspec_customize(c);
}

/*
 * Sends n messages through token and reads them on srv: the number that
 * were sent and arrived in order, n if all of them did.
 */
static unsigned long phase(long token, int srv, unsigned int n)
{
	unsigned int i, sent = 0;

	for (i = 0; i < n; i++) {
		fill(msg, ADU);
		if (netspec_send(token, msg, ADU, 0) != ADU)
			break;
		sent++;
	}
	return receive(srv, (unsigned long)sent * ADU) ==
	       (unsigned long)sent * ADU ? sent : 0;
}

static long maxseg(int fd)
{
	return net_getsockopt_int(fd, SOL_TCP, TCP_MAXSEG);
}

/* The largest segment the receiver srv has seen (tcpi_rcv_mss). */
static long rcv_mss(int srv)
{
	unsigned char ti[104];
	socklen_t len = sizeof(ti);
	unsigned int v;

	memset(ti, 0, sizeof(ti));
	if (my_syscall5(__NR_getsockopt, srv, SOL_TCP, TCP_INFO, ti, &len) ||
	    len < TCPI_RCV_MSS + 4)
		return -1;
	memcpy(&v, ti + TCPI_RCV_MSS, sizeof(v));
	return v;
}

/*
 * The instance whose NETSPEC_OP_INFO is *i as the netspec generic netlink
 * family lists it, into *nl: 0, or -errno (-ESRCH if the family does not
 * list it as this process's).
 */
static long nl_inst_of(const struct netspec_info *i, struct netspec_nl_inst *nl)
{
	long r = netspec_nl_inst(i->id, nl);

	if (!r && nl->pid != (unsigned int)getpid())
		r = -ESRCH;
	return r;
}

static void test_customize(void)
{
	struct netspec_customize c;
	struct netspec_nl_inst nl;
	struct netspec_info i;
	long fd, t, mss, listed;
	int srv;

	fd = connect_at(1500, &srv);
	t = fd < 0 ? fd : customize_tcp(fd, 0, &c);
	i = netspec_info_of(t);
	mss = fd < 0 ? fd : maxseg(fd);
	/* The token is a new descriptor; the netspec family lists the
	 * instance as this process's, on the TCP path, for TCP, with the
	 * frozen MSS (what /proc/net/netspec showed).
	 */
	listed = t < 0 ? t : nl_inst_of(&i, &nl);
	kt_result(t >= 0 && t != fd && c.token == t &&
		  c.path == NETSPEC_PATH_TCP && i.path == NETSPEC_PATH_TCP &&
		  i.protocol == NETSPEC_PROTO_TCP && i.mss == MSS_1500 &&
		  mss == MSS_1500 && i.mss_clamp == 0 &&
		  c.policy[NETSPEC_EVENT_MSS] == NETSPEC_POLICY_RESPECIALIZE &&
		  listed == 0 && nl.path == NETSPEC_PATH_TCP &&
		  nl.protocol == NETSPEC_PROTO_TCP && nl.mss == MSS_1500,
		  "tcp_customize_freezes_the_mss",
		  "token %ld (%s) path %u mss %u TCP_MAXSEG %ld policy %u, listed: %s",
		  t, t < 0 ? errname(t) : "fd", c.path, i.mss, mss,
		  c.policy[NETSPEC_EVENT_MSS], errname(listed));

	/* Messages one by one and in batches arrive in order. */
	if (t >= 0) {
		unsigned long ok = phase(t, srv, PHASE);
		long r;

		fill(msg, sizeof(msg));
		r = netspec_send_batch(t, msg, sizeof(msg), 0);
		ok += receive(srv, sizeof(msg)) == sizeof(msg) &&
		      r == sizeof(msg) ? BATCH : 0;
		i = netspec_info_of(t);
		kt_result(ok == PHASE + BATCH && i.sends == PHASE + BATCH &&
			  i.fallbacks == 0 && i.trips == 0,
			  "tcp_stream_arrives_in_order",
			  "%lu of %u in order, %llu sends, %llu fallbacks",
			  ok, PHASE + BATCH, i.sends, i.fallbacks);
	} else {
		kt_result(0, "tcp_stream_arrives_in_order", "no token");
	}

	/*
	 * TCP_MAXSEG, the one option a TCP instance froze, is refused under
	 * the default socket policy (reject); any other option goes through
	 * untouched (TCP_NODELAY: TCP's sendmsg() reads it on every send).
	 */
	{
		int v = 500, one = 1;
		long r = net_setsockopt(fd, SOL_TCP, TCP_MAXSEG, &v, sizeof(v));
		long nd = net_setsockopt(fd, SOL_TCP, TCP_NODELAY, &one,
					 sizeof(one));

		i = netspec_info_of(t);
		kt_result(r == -EBUSY && i.trips == 1 &&
			  maxseg(fd) == MSS_1500 && nd == 0 &&
			  net_getsockopt_int(fd, SOL_TCP, TCP_NODELAY) == 1 &&
			  i.path == NETSPEC_PATH_TCP &&
			  i.policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_REJECT,
			  "tcp_maxseg_change_is_EBUSY",
			  "%s, %llu trips; TCP_NODELAY %s, path %u",
			  errname(r), i.trips, errname(nd), i.path);
	}

	/* A wrong length sends nothing. */
	{
		long r = netspec_send(t, msg, ADU - 1, 0);

		i = netspec_info_of(t);
		kt_result(r == -EINVAL && i.sends == PHASE + BATCH &&
			  net_wait_readable(srv, 100) == 0,
			  "tcp_wrong_length_is_EINVAL", "%s", errname(r));
	}
	netspec_cancel(t);
	close(fd);
	close(srv);
}

static void test_errors(void)
{
	struct netspec_customize c;
	long tcp = net_socket(AF_INET, SOCK_STREAM, 0);
	long udp = net_udp_sender(TCB, 9);
	long r1, r2, r3, r4, r5;

	r1 = customize_tcp(tcp, 0, &c);
	r2 = customize_tcp(udp, 0, &c);
	c = netspec_udp_connected(tcp, ADU);
	r3 = netspec_customize(&c);
	c = netspec_udp_to_ipv4(tcp, ADU, net_htonl(TCB), net_htons(9));
	c.protocol = NETSPEC_PROTO_TCP;
	r4 = netspec_customize(&c);
	c = netspec_udp_connected(udp, ADU);
	c.policy[NETSPEC_EVENT_MSS] = NETSPEC_POLICY_REJECT;
	r5 = netspec_customize(&c);
	kt_result(r1 == -ENOTCONN && r2 == -EPROTOTYPE && r3 == -EPROTOTYPE &&
		  r4 == -EINVAL && r5 == -EINVAL,
		  "tcp_customize_errors",
		  "unconnected %s, TCP on UDP %s, UDP on TCP %s, TCP with a destination %s, MSS reject %s",
		  errname(r1), errname(r2), errname(r3), errname(r4),
		  errname(r5));
	close(tcp);
	close(udp);
}

static const char *const policy_names[] = {
	[NETSPEC_POLICY_INVALIDATE] = "invalidate",
	[NETSPEC_POLICY_RESPECIALIZE] = "respecialize",
	[NETSPEC_POLICY_REINFORCE] = "reinforce",
};

/*
 * A connection (fd, the far end in *srv) with a token under MSS policy,
 * customized into *c, for the test named prefix and the policy's name
 * (into name): over IPv6 at MTU 1500 if v6, else over IPv4 at MTU 1000.
 * The token, or -errno after reporting the test failed.
 */
static long start(const char *prefix, int policy, int v6, char *name,
		  long *fd, int *srv, struct netspec_customize *c)
{
	long t;

	strcpy(name, prefix);
	strcpy(name + strlen(name), policy_names[policy]);
	*fd = v6 ? connect6(srv) : connect_at(1000, srv);
	t = *fd < 0 ? *fd : customize_tcp(*fd, policy, c);
	if (t < 0) {
		kt_result(0, name, "connect or customize: %s", errname(t));
		if (*fd >= 0) {
			close(*fd);
			close(*srv);
		}
	}
	return t;
}

/*
 * The MSS grows (MTU 1000 to 1500), shrinks (to 800) and grows back, with
 * messages through the token after each change.
 */
static void test_mss_changes(int policy)
{
	struct netspec_customize c;
	struct netspec_info i1, i2, i3;
	struct netspec_nl_inst nl;
	unsigned long ok = 0;
	long fd, t, m0, m1, m2, m3, rcv1, rcv3, listed;
	int srv, good = 0;
	char name[64];

	t = start("mss_changes_", policy, 0, name, &fd, &srv, &c);
	if (t < 0)
		return;
	m0 = maxseg(fd);
	ok += phase(t, srv, PHASE);
	link_set_mtu("tca", 1500);
	ok += phase(t, srv, PHASE);
	i1 = netspec_info_of(t);
	m1 = maxseg(fd);
	rcv1 = rcv_mss(srv);
	link_set_mtu("tca", 800);
	ok += phase(t, srv, PHASE);
	i2 = netspec_info_of(t);
	m2 = maxseg(fd);
	link_set_mtu("tca", 1500);
	ok += phase(t, srv, PHASE);
	i3 = netspec_info_of(t);
	m3 = maxseg(fd);
	rcv3 = rcv_mss(srv);
	listed = nl_inst_of(&i3, &nl);

	kt_line("# MSS changes under %s: %lu of %u messages in order; TCP_MAXSEG %ld, grown %ld, shrunk %ld, grown back %ld; frozen MSS %u, %u, %u; clamp %u; largest segment received %ld, then %ld; trips %llu, %llu, %llu; fallbacks %llu, %llu, %llu; path %u",
		policy_names[policy], ok, 4 * PHASE, m0, m1, m2, m3,
		i1.mss, i2.mss, i3.mss, i3.mss_clamp, rcv1, rcv3,
		i1.trips, i2.trips, i3.trips,
		i1.fallbacks, i2.fallbacks, i3.fallbacks, i3.path);
	if (ok == 4 * PHASE && m0 == MSS_1000) {
		switch (policy) {
		case NETSPEC_POLICY_INVALIDATE:
			good = i1.path == NETSPEC_PATH_GENERIC &&
			       i1.trips == 1 && i1.fallbacks == 1 &&
			       m1 == MSS_1500 && rcv1 > MSS_1000 &&
			       m2 == MSS_800 && m3 == MSS_1500 &&
			       i3.trips == 1 && i3.fallbacks == 1;
			break;
		case NETSPEC_POLICY_RESPECIALIZE:
			good = i1.path == NETSPEC_PATH_TCP &&
			       i1.mss == MSS_1500 && i1.trips == 1 &&
			       m1 == MSS_1500 && rcv1 > MSS_1000 &&
			       i2.mss == MSS_800 && i2.trips == 2 &&
			       i3.mss == MSS_1500 && i3.trips == 3 &&
			       i3.fallbacks == 0 && i3.mss_clamp == 0;
			break;
		case NETSPEC_POLICY_REINFORCE:
			/* Clamped when it grew; below the frozen MSS, every
			 * send is a fallback; grown back, the clamp holds.
			 */
			good = i1.path == NETSPEC_PATH_TCP &&
			       i1.mss == MSS_1000 && i1.trips == 1 &&
			       i1.mss_clamp == CLAMP_1000 &&
			       i1.fallbacks == 0 && m1 == MSS_1000 &&
			       rcv1 > 0 && rcv1 <= MSS_1000 &&
			       m2 == MSS_800 && i2.fallbacks == PHASE &&
			       m3 == MSS_1000 && i3.fallbacks == PHASE &&
			       i3.trips == 1 && i3.mss == MSS_1000 &&
			       rcv3 > 0 && rcv3 <= MSS_1000 &&
			       i3.policy[NETSPEC_EVENT_MSS] ==
			       NETSPEC_POLICY_REINFORCE && i3.rewrites == 0 &&
			       /* As the netspec family lists it. */
			       listed == 0 &&
			       nl.policy_mss == NETSPEC_POLICY_REINFORCE &&
			       nl.rewrites == 0 && nl.mss == MSS_1000 &&
			       nl.mss_clamp == CLAMP_1000;
			break;
		}
	}
	kt_result(good, name, "see the line above");

	if (policy == NETSPEC_POLICY_REINFORCE) {
		/* A connection made beside it grows: the clamp is only the
		 * instance's.  Cancelled, the instance takes its clamp with
		 * it, and the connection grows too.
		 */
		long other, m_other, m_after = -1;
		int osrv, n;

		link_set_mtu("tca", 1000);
		other = connect_at(1000, &osrv);
		link_set_mtu("tca", 1500);
		tx_byte = 0;
		fill(msg, ADU);
		net_sendto(other, msg, ADU, 0, NULL, 0);
		rx_byte = 0;
		receive(osrv, ADU);
		m_other = maxseg(other);
		netspec_cancel(t);
		for (n = 0; n < 100; n++) {
			m_after = maxseg(fd);
			if (m_after == MSS_1500)
				break;
			net_sleep_ms(20);
		}
		kt_result(m_other == MSS_1500 && m_after == MSS_1500,
			  "mss_clamp_is_the_instances_only",
			  "TCP_MAXSEG of a connection beside it %ld, of its own after cancel %ld",
			  m_other, m_after);
		close(other);
		close(osrv);
	} else {
		netspec_cancel(t);
	}
	close(fd);
	close(srv);
	link_set_mtu("tca", 1500);
}

/*
 * An IPv6 connection: the guard sees a device MTU change on the next send
 * without checking the route (the route's MTU is the device's, read
 * through the socket's cached route).  The MSS shrinks (MTU 1500 to 1280)
 * and grows back, with messages through the token after each change.
 */
static void test_mss_ipv6(int policy)
{
	struct netspec_customize c;
	struct netspec_info i0, i1, i2;
	unsigned long ok = 0;
	long fd, t, m1, m2;
	int srv, good = 0;
	char name[64];

	t = start("mss_ipv6_", policy, 1, name, &fd, &srv, &c);
	if (t < 0)
		return;
	ok += phase(t, srv, PHASE);
	i0 = netspec_info_of(t);
	link_set_mtu("tca", 1280);
	ok += phase(t, srv, PHASE);
	i1 = netspec_info_of(t);
	m1 = maxseg(fd);
	link_set_mtu("tca", 1500);
	ok += phase(t, srv, PHASE);
	i2 = netspec_info_of(t);
	m2 = maxseg(fd);
	kt_line("# IPv6 MSS changes under %s: %lu of %u messages in order; path %u, %u, %u; frozen MSS %u, %u, %u; TCP_MAXSEG %ld, %ld; trips %llu, %llu, %llu; fallbacks %llu, %llu, %llu",
		policy_names[policy], ok, 3 * PHASE, c.path, i1.path, i2.path,
		i0.mss, i1.mss, i2.mss, m1, m2, i0.trips, i1.trips, i2.trips,
		i0.fallbacks, i1.fallbacks, i2.fallbacks);
	if (ok == 3 * PHASE && c.path == NETSPEC_PATH_TCP &&
	    i0.mss == MSS6_1500 && i0.trips == 0 && i0.fallbacks == 0 &&
	    m1 == MSS6_1280 && m2 == MSS6_1500) {
		switch (policy) {
		case NETSPEC_POLICY_INVALIDATE:
			good = i1.path == NETSPEC_PATH_GENERIC &&
			       i1.trips == 1 && i1.fallbacks == 1 &&
			       i2.trips == 1 && i2.fallbacks == 1;
			break;
		case NETSPEC_POLICY_RESPECIALIZE:
			good = i1.path == NETSPEC_PATH_TCP &&
			       i1.mss == MSS6_1280 && i1.trips == 1 &&
			       i2.mss == MSS6_1500 && i2.trips == 2 &&
			       i2.fallbacks == 0;
			break;
		}
	}
	kt_result(good, name, "see the line above");
	netspec_cancel(t);
	close(fd);
	close(srv);
	link_set_mtu("tca", 1500);
}

/* FLAPS grow-and-shrink flaps, one message after each change. */
static void test_mss_flaps(int policy)
{
	struct netspec_customize c;
	struct netspec_info i;
	unsigned long ok = 0;
	long fd, t, m;
	int srv, n, good = 0;
	char name[64];

	t = start("mss_flaps_", policy, 0, name, &fd, &srv, &c);
	if (t < 0)
		return;
	for (n = 0; n < FLAPS; n++) {
		link_set_mtu("tca", 1500);
		ok += phase(t, srv, 1);
		link_set_mtu("tca", 1000);
		ok += phase(t, srv, 1);
	}
	i = netspec_info_of(t);
	m = maxseg(fd);
	kt_line("# %d MSS flaps under %s: %lu of %d messages in order, %llu sends, %llu trips, %llu fallbacks, frozen MSS %u, clamp %u, TCP_MAXSEG %ld",
		FLAPS, policy_names[policy], ok, 2 * FLAPS, i.sends, i.trips,
		i.fallbacks, i.mss, i.mss_clamp, m);
	if (ok == 2 * FLAPS && i.sends == 2 * FLAPS) {
		switch (policy) {
		case NETSPEC_POLICY_INVALIDATE:
			good = i.trips == 1 && i.fallbacks == 1 &&
			       i.path == NETSPEC_PATH_GENERIC;
			break;
		case NETSPEC_POLICY_RESPECIALIZE:
			good = i.trips == 2 * FLAPS && i.fallbacks == 0 &&
			       i.mss == MSS_1000 && m == MSS_1000;
			break;
		case NETSPEC_POLICY_REINFORCE:
			good = i.trips == 1 && i.fallbacks == 0 &&
			       i.mss == MSS_1000 && m == MSS_1000 &&
			       i.mss_clamp == CLAMP_1000;
			break;
		}
	}
	kt_result(good, name, "see the line above");
	netspec_cancel(t);
	close(fd);
	close(srv);
	link_set_mtu("tca", 1500);
}

int main(void)
{
	long r;
	int p;

	kt_plan(1, 15);
	r = setup();
	kt_result(r == 0, "tcp_far_namespace", "%s", errname(r));
	test_customize();
	test_errors();
	/* Before any MTU under 1280 takes IPv6 off tca. */
	test_mss_ipv6(NETSPEC_POLICY_INVALIDATE);
	test_mss_ipv6(NETSPEC_POLICY_RESPECIALIZE);
	for (p = NETSPEC_POLICY_INVALIDATE; p <= NETSPEC_POLICY_REINFORCE; p++)
		test_mss_changes(p);
	for (p = NETSPEC_POLICY_INVALIDATE; p <= NETSPEC_POLICY_REINFORCE; p++)
		test_mss_flaps(p);
	far_end();
	return kt_exit_status();
}
