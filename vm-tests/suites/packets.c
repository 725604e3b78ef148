// SPDX-License-Identifier: GPL-2.0
/*
 * A token's packets are send()'s, byte for byte on the wire, in every
 * context where they are built differently: an unconnected socket with a
 * destination under each IP_MTU_DISCOVER mode (DF and the IP ID depend on
 * it), a connected socket (the IDs run on from one path to the other), a
 * frame corked by send(MSG_MORE) (the token's datagram joins it), ADUs
 * of 4 KB (specialized) and 60 KB (which customize sends to the generic
 * path), and a TTL changed after customize, by IP_TTL or by the
 * namespace's net.ipv4.ip_default_ttl.  An IPv6 socket sending to a
 * v4-mapped address, connected or not, takes the IPv4 path and sends
 * send()'s IPv4 packets; an IPv6-only one fails as send() does, one
 * reconnected to an IPv6 peer goes generic and sends IPv6, and one made
 * IPv6-only after a disconnect fails as send() does.
 *
 * Each test sends the same payload through send() and through the token
 * and captures both packets on lo: every IP and UDP header field and the
 * payload must be equal; the IP ID, which is per packet, is compared as
 * what it is: consecutive on a connected socket (the socket's counter),
 * zero where send()'s is zero, non-zero where send()'s is non-zero (the
 * hashed generator of an unconnected socket, which is zero once in 65536:
 * of three packets, one zero is let pass).  The namespace's SNMP counters
 * move as send() moves them: one UDP datagram and one IP packet a send.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "capture.h"
#include "snmp.h"

#define ADU 64
#define CORKED 20
#define ADU_4K 4096
#define ADU_60K 60000
#define LOOPBACK 0x7f000001
#define ROUNDS 3
#define DEFAULT_TTL "/proc/sys/net/ipv4/ip_default_ttl"
#define IPV6_V6ONLY 26
#define ENETUNREACH 101

/* Where a send goes: to the socket's peer, or to the receiver's address
 * named as a struct sockaddr_in or, v4-mapped, as a struct sockaddr_in6.
 */
enum { TO_PEER, TO_V4, TO_MAPPED };

static unsigned char payload[ADU_60K + CORKED], got[ADU_60K + CORKED];
static unsigned char pa[CAP_MAX], pb[CAP_MAX];
static unsigned short port;
static int rx, cap;

static long customize(int fd, unsigned int adu, int to,
		      struct netspec_customize *c)
{
	struct sockaddr_in6 s6 = net_sin6_mapped(LOOPBACK, port);

	if (to == TO_MAPPED)
		*c = netspec_udp_to_ipv6(fd, adu, &s6.sin6_addr, s6.sin6_port);
	else if (to == TO_V4)
		*c = netspec_udp_to_ipv4(fd, adu, net_htonl(LOOPBACK),
					 net_htons(port));
	else
		*c = netspec_udp_connected(fd, adu);
	return netspec_customize(c);
}

/* send() of len bytes of payload (see TO_PEER); the bytes sent or -errno. */
static long plain_send(int fd, unsigned long len, int to, int flags)
{
	struct sockaddr_in sin = net_sin(LOOPBACK, port);
	struct sockaddr_in6 s6 = net_sin6_mapped(LOOPBACK, port);

	if (to == TO_MAPPED)
		return net_sendto(fd, payload, len, flags, &s6, sizeof(s6));
	return net_sendto(fd, payload, len, flags, to == TO_V4 ? &sin : NULL,
			  to == TO_V4 ? sizeof(sin) : 0);
}

/* Whether the receiver gets one datagram of len bytes equal to want. */
static int received(const unsigned char *want, unsigned long len)
{
	return net_wait_readable(rx, 1000) == 1 &&
	       net_recvfrom(rx, got, sizeof(got), MSG_DONTWAIT, NULL, NULL) ==
	       (long)len && !memcmp(got, want, len);
}

/*
 * Whether the token's IDs are zero where send()'s are: all ROUNDS of them
 * where all of send()'s are, else at most one (the hashed generator gives
 * zero once in 65536); NULL if so, else what is wrong.
 */
static const char *ids_zero_alike(unsigned int za, unsigned int zb)
{
	return (za == ROUNDS ? zb != ROUNDS : zb > 1) ?
	       "IDs zero where send()'s are not, or the reverse" : NULL;
}

/* Whether the n IDs of id[] run on one after the other, as a connected
 * socket's counter gives them; NULL if so, else what is wrong.
 */
static const char *ids_consecutive(const unsigned int *id, unsigned int n)
{
	unsigned int k;

	for (k = 1; k < n; k++)
		if (id[k] != ((id[k - 1] + 1) & 0xffff))
			return "IDs not consecutive";
	return NULL;
}

/*
 * The same len bytes through send() (captured into pa) and through the
 * token (into pb); NULL if both were sent, captured, received and are the
 * same datagram but for the ID, and each moved the SNMP counters as the
 * other did, else what went wrong.
 */
static const char *send_both(int fd, long token, unsigned long len, int to,
			     unsigned int seq, long *la, long *lb)
{
	struct snmp_out s0, s1, s2;
	const char *why;

	net_fill(payload, len, seq);
	cap_flush(cap, pa, sizeof(pa));
	s0 = snmp_out_read();
	if (plain_send(fd, len, to, 0) != (long)len)
		return "send() failed";
	s1 = snmp_out_read();
	*la = cap_next(cap, port, pa, sizeof(pa));
	if (netspec_send(token, payload, len, 0) != (long)len)
		return "customized_send() failed";
	s2 = snmp_out_read();
	*lb = cap_next(cap, port, pb, sizeof(pb));
	if (*la < 0 || *lb < 0)
		return "not captured";
	if (!received(payload, len) || !received(payload, len))
		return "not received";
	why = cap_same_but_id(pa, *la, pb, *lb);
	if (why) {
		cap_print("send()", pa, *la);
		cap_print("token", pb, *lb);
		return why;
	}
	/* The namespace's counters: one datagram and one IP packet each. */
	why = snmp_out_moved(s0, s1, 1, 1);
	if (why) {
		kt_line("# send(): %s", why);
		return "send()'s SNMP counters";
	}
	why = snmp_out_moved(s1, s2, 1, 1);
	if (why) {
		kt_line("# token: %s", why);
		return "the token's SNMP counters are not send()'s";
	}
	return NULL;
}

/*
 * An unconnected socket with the destination in the context, under each
 * path MTU discovery mode: DF as send() sets it, and the ID from the same
 * generator (zero for DO and PROBE, which set DF without ignoring it;
 * hashed for the others).
 */
static void test_pmtu_modes(void)
{
	static const struct {
		int mode;
		const char *name;
	} modes[] = {
		{ IP_PMTUDISC_DONT, "unconnected_pmtudisc_dont_packets_are_send_s" },
		{ IP_PMTUDISC_WANT, "unconnected_pmtudisc_want_packets_are_send_s" },
		{ IP_PMTUDISC_DO, "unconnected_pmtudisc_do_packets_are_send_s" },
		{ IP_PMTUDISC_PROBE, "unconnected_pmtudisc_probe_packets_are_send_s" },
		{ IP_PMTUDISC_OMIT, "unconnected_pmtudisc_omit_packets_are_send_s" },
	};
	unsigned int m;

	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct netspec_customize c;
		int fd = net_socket(AF_INET, SOCK_DGRAM, 0), k, za = 0, zb = 0;
		long so = net_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER,
					 &modes[m].mode, sizeof(int));
		long t = customize(fd, ADU, TO_V4, &c), la = 0, lb = 0;
		const char *why = t > 0 ? NULL : "customize failed";
		unsigned int ida[ROUNDS], idb[ROUNDS], df = 0;

		for (k = 0; k < ROUNDS && !why; k++) {
			why = send_both(fd, t, ADU, TO_V4, m * 10 + k, &la, &lb);
			ida[k] = cap_id(pa);
			idb[k] = cap_id(pb);
			za += !ida[k];
			zb += !idb[k];
			df = cap_df(pb);
		}
		if (!why)
			why = ids_zero_alike(za, zb);
		if (!why && c.path != NETSPEC_PATH_UDP4)
			why = "not specialized";
		if (k == ROUNDS)
			kt_line("# mode %d: DF %u, IDs of send() %u %u %u, of the token %u %u %u",
				modes[m].mode, df, ida[0], ida[1], ida[2],
				idb[0], idb[1], idb[2]);
		kt_result(!so && !why, modes[m].name,
			  "IP_MTU_DISCOVER %s, customize %s path %u: %s",
			  errname(so), errname(t), c.path, why ? why : "?");
		close(t);
		close(fd);
	}
}

/* A connected socket: the socket's ID counter, one after the other. */
static void test_connected_ids(void)
{
	struct netspec_customize c;
	int fd = net_udp_sender(LOOPBACK, port), k;
	long t = customize(fd, ADU, TO_PEER, &c), la = 0, lb = 0;
	const char *why = t > 0 && c.path == NETSPEC_PATH_UDP4 ? NULL :
			  "customize failed or not specialized";
	unsigned int id[2 * ROUNDS];

	for (k = 0; k < ROUNDS && !why; k++) {
		why = send_both(fd, t, ADU, TO_PEER, 100 + k, &la, &lb);
		id[2 * k] = cap_id(pa);
		id[2 * k + 1] = cap_id(pb);
	}
	if (!why)
		why = ids_consecutive(id, 2 * ROUNDS);
	if (!why)
		kt_line("# connected: IDs %u %u %u %u %u %u", id[0], id[1],
			id[2], id[3], id[4], id[5]);
	kt_result(!why, "connected_socket_ids_run_on_between_send_and_token",
		  "%s", why ? why : "");
	close(t);
	close(fd);
}

/*
 * send(MSG_MORE) corks a frame on the socket; the token's datagram joins
 * it and sends it, as a plain send() does: one datagram with both
 * payloads.  The path cannot build that frame, so that send goes through
 * the generic path: a fallback, not a trip, and the instance stays
 * specialized.
 */
static void test_cork(void)
{
	static unsigned char want[CORKED + ADU];
	struct netspec_customize c;
	struct netspec_info i0, i1;
	int fd = net_udp_sender(LOOPBACK, port), ok;
	long t = customize(fd, ADU, TO_PEER, &c), m1, s1, m2, s2, la, lb;
	const char *why;

	/* send() twice: corked, then the rest. */
	cap_flush(cap, pa, sizeof(pa));
	net_fill(payload, CORKED + ADU, 200);
	memcpy(want, payload, sizeof(want));
	m1 = plain_send(fd, CORKED, TO_PEER, 0x8000 /* MSG_MORE */);
	memmove(payload, payload + CORKED, ADU);
	s1 = net_sendto(fd, payload, ADU, 0, NULL, 0);
	la = cap_next(cap, port, pa, sizeof(pa));
	ok = received(want, CORKED + ADU);

	/* Corked by send(), then the token. */
	i0 = netspec_info_of(t);
	net_fill(payload, CORKED + ADU, 200);
	m2 = plain_send(fd, CORKED, TO_PEER, 0x8000);
	memmove(payload, payload + CORKED, ADU);
	s2 = netspec_send(t, payload, ADU, 0);
	lb = cap_next(cap, port, pb, sizeof(pb));
	ok = ok && received(want, CORKED + ADU);
	i1 = netspec_info_of(t);
	why = la < 0 || lb < 0 ? "not captured" : cap_same_but_id(pa, la, pb, lb);
	kt_result(t > 0 && c.path == NETSPEC_PATH_UDP4 && m1 == CORKED &&
		  s1 == ADU && m2 == CORKED && s2 == ADU && ok && !why &&
		  la == 20 + 8 + CORKED + ADU &&
		  cap_id(pb) == (unsigned short)(cap_id(pa) + 1) &&
		  i1.sends == i0.sends + 1 && i1.fallbacks == i0.fallbacks + 1 &&
		  i1.trips == i0.trips && i1.path == NETSPEC_PATH_UDP4,
		  "token_send_joins_a_frame_corked_by_send_msg_more",
		  "sends %s %s / %s %s, one datagram of both %d, packets %s (%ld bytes), fallbacks %llu -> %llu, trips %llu, path %u",
		  errname(m1), errname(s1), errname(m2), errname(s2), ok,
		  why ? why : "same", la, i0.fallbacks, i1.fallbacks, i1.trips,
		  i1.path);
	close(t);
	close(fd);
}

/*
 * Large ADUs over loopback: 4 KB fits a linear buffer and is specialized;
 * 60 KB would go in page fragments on an SG device, which the path does
 * not build, so customize says generic.  Both send send()'s packets.
 */
static void test_big_adus(void)
{
	static const struct {
		unsigned int adu, path;
		const char *name;
	} big[] = {
		{ ADU_4K, NETSPEC_PATH_UDP4, "adu_4k_is_specialized_and_sends_send_s_packets" },
		{ ADU_60K, NETSPEC_PATH_GENERIC, "adu_60k_is_generic_and_sends_send_s_packets" },
	};
	unsigned int b;

	for (b = 0; b < 2; b++) {
		struct netspec_customize c;
		int fd = net_udp_sender(LOOPBACK, port);
		long t = customize(fd, big[b].adu, TO_PEER, &c), la = 0, lb = 0;
		const char *why = t > 0 ? send_both(fd, t, big[b].adu, TO_PEER,
						     300 + b, &la, &lb) :
					  "customize failed";

		if (!why && la != 20 + 8 + (long)big[b].adu)
			why = "captured length";
		if (!why && cap_id(pb) != (unsigned short)(cap_id(pa) + 1))
			why = "IDs not consecutive";
		kt_result(!why && c.path == big[b].path &&
			  netspec_info_of(t).path == big[b].path, big[b].name,
			  "customize %s path %u (expected %u): %s", errname(t),
			  c.path, big[b].path, why ? why : "same");
		close(t);
		close(fd);
	}
}

/*
 * The TTL is read per send, as send() reads it: IP_TTL set after
 * customize, and the namespace's default TTL changed after customize,
 * reach the next token datagram.
 */
static void test_ttl(void)
{
	struct netspec_customize c;
	int fd = net_udp_sender(LOOPBACK, port), ttl = 17;
	long t = customize(fd, ADU, TO_PEER, &c), la = 0, lb = 0, so, w;
	const char *why;

	so = net_setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	why = send_both(fd, t, ADU, TO_PEER, 400, &la, &lb);
	kt_result(t > 0 && !so && !why && cap_ttl(pb) == 17 &&
		  netspec_info_of(t).path == NETSPEC_PATH_UDP4 &&
		  !netspec_info_of(t).fallbacks,
		  "ip_ttl_set_after_customize_reaches_the_next_token_datagram",
		  "IP_TTL %s: %s, TTL %u, path %u", errname(so),
		  why ? why : "same", lb > 0 ? cap_ttl(pb) : 0,
		  netspec_info_of(t).path);
	close(t);
	close(fd);

	fd = net_udp_sender(LOOPBACK, port);
	t = customize(fd, ADU, TO_PEER, &c);
	w = write_text(DEFAULT_TTL, "99");
	why = send_both(fd, t, ADU, TO_PEER, 401, &la, &lb);
	write_text(DEFAULT_TTL, "64");
	kt_result(t > 0 && !w && !why && cap_ttl(pb) == 99 &&
		  netspec_info_of(t).path == NETSPEC_PATH_UDP4 &&
		  !netspec_info_of(t).fallbacks,
		  "ip_default_ttl_changed_after_customize_reaches_the_next_token_datagram",
		  "sysctl %s: %s, TTL %u, path %u", errname(w),
		  why ? why : "same", lb > 0 ? cap_ttl(pb) : 0,
		  netspec_info_of(t).path);
	close(t);
	close(fd);
}

/*
 * Drops what a failed test left on the receiver, so that the next test's
 * verdict is its own.
 */
static void drain_rx(void)
{
	net_drain(rx, got, sizeof(got), -1);
}

/*
 * An IPv6 socket, not IPv6-only, sending to a v4-mapped address:
 * udpv6_sendmsg() hands the datagram to udp_sendmsg(), and the token
 * takes the IPv4 path.  Connected, the IDs run on from the socket's
 * counter; with the destination in the context, they are zero or hashed
 * as send()'s are.
 */
static void test_v4_mapped(void)
{
	static const struct {
		int to;
		const char *name;
	} cases[] = {
		{ TO_PEER, "ipv6_socket_connected_to_a_v4_mapped_peer_sends_send_s_packets" },
		{ TO_MAPPED, "ipv6_socket_to_a_v4_mapped_destination_sends_send_s_packets" },
	};
	unsigned int n;

	for (n = 0; n < 2; n++) {
		struct netspec_customize c = { 0 };
		struct sockaddr_in6 s6 = net_sin6_mapped(LOOPBACK, port);
		int fd = net_socket(AF_INET6, SOCK_DGRAM, 0), to = cases[n].to;
		long r = to == TO_PEER ? net_connect(fd, &s6, sizeof(s6)) : 0;
		long t = r ?: customize(fd, ADU, to, &c), la = 0, lb = 0;
		const char *why = t > 0 ? NULL : "connect or customize failed";
		unsigned int id[2 * ROUNDS], za = 0, zb = 0, k;
		struct netspec_info i;

		drain_rx();
		for (k = 0; k < ROUNDS && !why; k++) {
			why = send_both(fd, t, ADU, to, 500 + 10 * n + k, &la,
					&lb);
			id[2 * k] = cap_id(pa);
			id[2 * k + 1] = cap_id(pb);
			za += !id[2 * k];
			zb += !id[2 * k + 1];
		}
		if (!why && la != 20 + 8 + ADU)
			why = "not send()'s IPv4 datagram";
		if (!why)
			why = to == TO_PEER ? ids_consecutive(id, 2 * ROUNDS) :
					      ids_zero_alike(za, zb);
		i = netspec_info_of(t);
		kt_result(!why && c.path == NETSPEC_PATH_UDP4 &&
			  i.path == NETSPEC_PATH_UDP4 && !i.fallbacks,
			  cases[n].name,
			  "connect %s customize %s path %u now %u fallbacks %llu: %s",
			  errname(r), errname(t), c.path, i.path, i.fallbacks,
			  why ? why : "same");
		close(t);
		close(fd);
	}
}

/*
 * An IPv6-only socket cannot send to a v4-mapped address: customize
 * leaves it generic, and the token fails as send() does, sending nothing.
 */
static void test_v6only(void)
{
	struct netspec_customize c = { 0 };
	int fd = net_socket(AF_INET6, SOCK_DGRAM, 0), one = 1;
	long so = net_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				 sizeof(one));
	long t, r1, r2, stray;
	struct netspec_info i;

	drain_rx();
	t = so ?: customize(fd, ADU, TO_MAPPED, &c);
	net_fill(payload, ADU, 600);
	r1 = plain_send(fd, ADU, TO_MAPPED, 0);
	r2 = t > 0 ? netspec_send(t, payload, ADU, 0) : t;
	stray = net_wait_readable(rx, 50);
	i = netspec_info_of(t);
	kt_result(t > 0 && c.path == NETSPEC_PATH_GENERIC &&
		  i.path == NETSPEC_PATH_GENERIC && r1 == -ENETUNREACH &&
		  r2 == -ENETUNREACH && !stray,
		  "ipv6_only_socket_to_a_v4_mapped_destination_fails_as_send",
		  "customize %s path %u now %u, send() %s, token %s, at 4: %ld",
		  errname(t), c.path, i.path, errname(r1), errname(r2), stray);
	if (t > 0)
		close(t);
	close(fd);
}

/* An IPv6 receiver on ::1, at the IPv4 receiver's port; its fd. */
static int receiver6(struct sockaddr_in6 *lo6)
{
	int fd = net_socket(AF_INET6, SOCK_DGRAM, 0), one = 1;

	memset(lo6, 0, sizeof(*lo6));
	lo6->sin6_family = AF_INET6;
	lo6->sin6_port = net_htons(port);
	lo6->sin6_addr.s6_addr[15] = 1;
	if (fd >= 0 &&
	    (net_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	     net_bind(fd, lo6, sizeof(*lo6)))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether fd has one ADU-byte datagram waiting, which it reads. */
static int got_one(int fd)
{
	return net_wait_readable(fd, 1000) == 1 &&
	       net_recvfrom(fd, got, sizeof(got), MSG_DONTWAIT, NULL, NULL) ==
	       ADU;
}

/*
 * connect() of an IPv6 socket from a v4-mapped peer to an IPv6 one sets
 * sk_v6_daddr and inet_dport and leaves inet_daddr as it was: with an IPv6
 * receiver on the IPv4 one's port, none of the IPv4 state the guard of an
 * IPv4 socket compares differs.  (The kernel refuses that connect() while
 * the socket's source is the v4-mapped one a connect() chose; a socket
 * connected to an IPv6 peer first keeps an IPv6 source.)  Under the
 * socket policy INVALIDATE, the token goes generic and its datagram
 * reaches the IPv6 receiver, as send()'s does; nothing reaches the IPv4
 * receiver.
 */
static void test_v4_mapped_reconnect(void)
{
	struct sockaddr_in6 s6 = net_sin6_mapped(LOOPBACK, port), lo6;
	struct netspec_customize c = netspec_udp_connected(-1, ADU);
	int fd = net_socket(AF_INET6, SOCK_DGRAM, 0), rx6 = receiver6(&lo6);
	long r, t = -1, s1 = 0, a1 = 0, s2 = 0, a2 = 0, s3 = 0, a3 = 0, r3;
	struct netspec_info i0 = { 0 }, i1 = { 0 };

	drain_rx();
	r = rx6 < 0 ? -1 : net_connect(fd, &lo6, sizeof(lo6));
	r = r ?: net_connect(fd, &s6, sizeof(s6));
	if (!r) {
		c.fd = fd;
		c.policy[NETSPEC_EVENT_SOCKET] = NETSPEC_POLICY_INVALIDATE;
		t = netspec_customize(&c);
	}
	net_fill(payload, ADU, 700);
	if (t > 0) {
		s1 = netspec_send(t, payload, ADU, 0);
		a1 = received(payload, ADU);
		i0 = netspec_info_of(t);
		r = net_connect(fd, &lo6, sizeof(lo6));
		s2 = plain_send(fd, ADU, TO_PEER, 0);
		a2 = got_one(rx6);
		s3 = netspec_send(t, payload, ADU, 0);
		a3 = got_one(rx6);
		i1 = netspec_info_of(t);
	}
	r3 = net_wait_readable(rx, 50);
	kt_result(t > 0 && c.path == NETSPEC_PATH_UDP4 && s1 == ADU && a1 &&
		  !r && s2 == ADU && a2 && s3 == ADU && a3 && !r3 &&
		  i1.path == NETSPEC_PATH_GENERIC && i1.trips == i0.trips + 1,
		  "ipv6_socket_of_a_v4_mapped_peer_reconnected_to_ipv6_goes_generic",
		  "customize %s path %u, token %s at 4: %ld; reconnect %s, send() %s at 6: %ld, token %s at 6: %ld, at 4: %ld; path %u, trips %llu -> %llu",
		  errname(t), c.path, errname(s1), a1, errname(r), errname(s2),
		  a2, errname(s3), a3, r3, i1.path, i0.trips, i1.trips);
	if (t > 0)
		close(t);
	close(fd);
	close(rx6);
}

/*
 * A disconnect unbinds a socket bound by its first send (or by customize);
 * IPV6_V6ONLY can then be set, and the socket bound to its old port again,
 * its addresses as recorded.  send() to a v4-mapped address then fails
 * with ENETUNREACH: so does the token, generic (socket policy INVALIDATE).
 * The control takes the same steps without IPV6_V6ONLY: send() and the
 * token both deliver, so it is the option that stops them.
 */
static void test_v6only_after_disconnect(int v6only)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 none = { .sin6_family = AF_UNSPEC };
	struct sockaddr_in6 s6 = net_sin6_mapped(LOOPBACK, port);
	struct netspec_customize c;
	int fd = net_socket(AF_INET6, SOCK_DGRAM, 0), one = 1;
	struct sockaddr_in6 now = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(any);
	long t, r = 0, s1 = 0, a1 = 0, s2 = 0, a2 = 0, s3 = 0, a3 = 0, stray;
	struct netspec_info i0 = { 0 }, i1 = { 0 };
	int ok;

	drain_rx();
	c = netspec_udp_to_ipv6(fd, ADU, &s6.sin6_addr, s6.sin6_port);
	c.policy[NETSPEC_EVENT_SOCKET] = NETSPEC_POLICY_INVALIDATE;
	t = netspec_customize(&c);
	net_fill(payload, ADU, 800 + v6only);
	if (t > 0) {
		s1 = netspec_send(t, payload, ADU, 0);
		a1 = received(payload, ADU);
		i0 = netspec_info_of(t);
		r = net_getsockname(fd, &any, &len);
		r = r ?: net_connect(fd, &none, sizeof(none));
		if (v6only)
			r = r ?: net_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
						&one, sizeof(one));
		r = r ?: net_bind(fd, &any, sizeof(any));
		len = sizeof(now);
		r = r ?: net_getsockname(fd, &now, &len);
		/* Bound by customize, and bound again to that port. */
		if (!r && (!any.sin6_port || now.sin6_port != any.sin6_port))
			r = -EINVAL;
		s2 = plain_send(fd, ADU, TO_MAPPED, 0);
		a2 = s2 == ADU && received(payload, ADU);
		s3 = netspec_send(t, payload, ADU, 0);
		a3 = s3 == ADU && received(payload, ADU);
		i1 = netspec_info_of(t);
	}
	stray = net_wait_readable(rx, 50);
	ok = t > 0 && c.path == NETSPEC_PATH_UDP4 && s1 == ADU && a1 && !r &&
	     !stray;
	if (v6only)
		ok = ok && s2 == -ENETUNREACH && s3 == -ENETUNREACH &&
		     i1.path == NETSPEC_PATH_GENERIC && i1.trips == i0.trips + 1;
	else
		ok = ok && s2 == ADU && a2 && s3 == ADU && a3;
	kt_result(ok, v6only ?
		  "ipv6_only_set_after_a_disconnect_stops_the_v4_mapped_token" :
		  "a_disconnect_and_rebind_alone_keep_the_v4_mapped_token_sending",
		  "customize %s path %u, token %s at 4: %ld; disconnect,%s rebind to port %u %s; send() %s at 4: %ld, token %s at 4: %ld, stray %ld; path %u, trips %llu -> %llu",
		  errname(t), c.path, errname(s1), a1,
		  v6only ? " IPV6_V6ONLY," : "", net_ntohs(any.sin6_port),
		  errname(r), errname(s2), a2, errname(s3), a3, stray, i1.path,
		  i0.trips, i1.trips);
	if (t > 0)
		close(t);
	close(fd);
}

int main(void)
{
	int size = 8 << 20;

	kt_plan(1, 17);
	net_if_up("lo");
	cap = cap_open(CAP_LO);
	rx = net_udp_receiver(LOOPBACK, &port);
	if (cap < 0 || rx < 0 ||
	    net_setsockopt(rx, SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, &size,
			   sizeof(size))) {
		kt_line("# setup: capture %d receiver %d", cap, rx);
		return 1;
	}
	test_pmtu_modes();
	test_connected_ids();
	test_cork();
	test_big_adus();
	test_ttl();
	test_v4_mapped();
	test_v6only();
	test_v4_mapped_reconnect();
	test_v6only_after_disconnect(0);
	test_v6only_after_disconnect(1);
	return kt_exit_status();
}
