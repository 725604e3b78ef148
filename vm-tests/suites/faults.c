// SPDX-License-Identifier: GPL-2.0
/*
 * Faults under traffic: route flaps between two next hops and MTU flaps
 * under each route policy, a reinforced instance whose frozen route's
 * device goes down or whose new route prefers another source, a path MTU
 * drop reported by ICMP, the device going down and up, the network
 * namespace going away with a live token, and a process exiting or killed
 * with live tokens (fork then exec is in the udp suite).  A token loses no
 * datagram that send() on the same socket state would deliver.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "link.h"
#include "text.h"
#include "genl.h"
#include "far.h"

#define ADU 64
#define LOOPBACK 0x7f000001
#define NSA1 0x0a580101	/* 10.88.1.1 on nsa1, here */
#define GW1 0x0a580102		/* 10.88.1.2 on nsb1, the first next hop */
#define NSA2 0x0a580201	/* 10.88.2.1 on nsa2, here */
#define GW2 0x0a580202		/* 10.88.2.2 on nsb2, the second next hop */
#define FAR_NET 0x0a590000	/* 10.89.0.0/24, behind both */
#define FAR 0x0a590001		/* 10.89.0.1 on the far side's lo:1 */
#define SO_RCVBUFFORCE 33
#define FLAPS 1000
#define MTU_FLAPS 500
#define UPDOWNS 100
#define FLAPS_REBUILD 100
#define LOCKED_MTU 1500		/* the veth's: only the lock changes */
#define IPPROTO_UDP_ 17
#define BIG_ADU 1200		/* fits a 1500-byte link, not a 1000-byte path */
#define PMTU 1000
#define PMTU_SENDS 100
#define EXC_MTU1 1300		/* BIG_ADU's datagrams fit it... */
#define EXC_MTU2 1100		/* ...and not this */
#define ROUTE_FLUSH "/proc/sys/net/ipv4/route/flush"
#define CLONE_NEWNET 0x40000000
#define SIGKILL 9
/* 6.1's nolibc has no WIFSIGNALED. */
#define KILLED_BY(status, sig) (((status) & 0x7f) == (sig))

static unsigned char buf[ADU], got[ADU], big[BIG_ADU], big_got[BIG_ADU];
static unsigned short port;
static int rx;

static long customize(int fd, int route_policy, struct netspec_customize *c)
{
	*c = netspec_udp_connected(fd, ADU);
	c->policy[NETSPEC_EVENT_ROUTE] = route_policy;
	return netspec_customize(c);
}

/* The datagrams of ADU bytes waiting on the receiver; drains it. */
static unsigned long drain(void)
{
	return net_drain(rx, got, sizeof(got), ADU);
}

/* The far side (far.h), reached from here through two veth pairs, each a
 * next hop to FAR_NET, with a receiver on FAR.
 */
static int far_rx;
static unsigned short far_port;

static long far_setup(void)
{
	int size = 8 << 20;
	long r, here;

	r = far_spawn();
	r = r ?: link_create("veth", "nsa1", "nsb1", far_pid);
	r = r ?: link_create("veth", "nsa2", "nsb2", far_pid);
	r = r ?: link_addr_up("nsa1", NSA1);
	r = r ?: link_addr_up("nsa2", NSA2);
	if (r)
		return r;
	/* Configure the far side from inside its namespace, open the
	 * receiver there, and come back.
	 */
	here = far_enter();
	if (here < 0)
		return here;
	r = net_if_up("lo");
	r = r ?: link_addr_up("nsb1", GW1);
	r = r ?: link_addr_up("nsb2", GW2);
	r = r ?: link_addr_up("lo:1", FAR);
	far_rx = r ? -1 : net_udp_receiver(FAR, &far_port);
	if (far_rx >= 0)
		net_setsockopt(far_rx, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	far_leave(here);
	if (r || far_rx < 0)
		return r ?: -EIO;
	return link_route_replace(FAR_NET, 24, GW1);
}

/* Packets the far side's device name has received, from its /proc. */
static unsigned long long far_rx_packets(const char *name)
{
	static char text[4096];
	char path[48], *p;

	far_path(path, "/net/dev");
	if (read_text(path, text, sizeof(text)) < 0 || !(p = find(text, name)))
		return 0;
	p += strlen(name);
	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9')	/* bytes */
		p++;
	while (*p == ' ')
		p++;
	return parse_uint(p);
}

static unsigned long far_drain(void)
{
	return net_drain(far_rx, got, sizeof(got), ADU);
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

/*
 * FLAPS times the route to FAR_NET moves from the first next hop to the
 * second and back ("ip route replace"), each a FIB change that invalidates
 * the cached routes; a datagram goes through the token after each change,
 * and one through send() on the same socket.  Every one must arrive,
 * through the next hop the route named when it was sent: each far-side
 * device must have received at least 2 * FLAPS packets.  Under reinforce,
 * the reinforcement must have rewritten every datagram of the token and
 * none of send()'s.
 */
static void test_route_flaps(int policy, const char *name)
{
	unsigned long sent = 0, twin = 0, received = 0, changes = 0;
	int ok;
	unsigned long long rx1 = far_rx_packets("nsb1:");
	unsigned long long rx2 = far_rx_packets("nsb2:");
	struct sockaddr_in sin = net_sin(FAR, far_port);
	struct netspec_customize c;
	struct netspec_nl_inst nl;
	struct netspec_info i;
	int fd = net_socket(AF_INET, SOCK_DGRAM, 0), f;
	long t = net_connect(fd, &sin, sizeof(sin)) ?: customize(fd, policy, &c);

	for (f = 0; f < FLAPS && t >= 0; f++) {
		changes += link_route_replace(FAR_NET, 24, GW2) == 0;
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		twin += net_sendto(fd, buf, ADU, 0, NULL, 0) == ADU;
		changes += link_route_replace(FAR_NET, 24, GW1) == 0;
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		twin += net_sendto(fd, buf, ADU, 0, NULL, 0) == ADU;
		received += far_drain();
	}
	while (received < sent + twin && net_wait_readable(far_rx, 2000) == 1)
		received += far_drain();
	rx1 = far_rx_packets("nsb1:") - rx1;
	rx2 = far_rx_packets("nsb2:") - rx2;
	i = netspec_info_of(t);
	kt_line("# route flaps between two next hops (%s): %lu changes, %lu sent through the token and %lu through send(), %lu received, %llu and %llu packets through each next hop, %llu reroutes, %llu trips, %llu fallbacks, %llu rewrites",
		name, changes, sent, twin, received, rx1, rx2, i.reroutes,
		i.trips, i.fallbacks, i.rewrites);
	ok = t >= 0 && changes == 2 * FLAPS && sent == 2 * FLAPS &&
	     twin == 2 * FLAPS && received == sent + twin &&
	     rx1 >= 2 * FLAPS && rx2 >= 2 * FLAPS;
	if (policy == NETSPEC_POLICY_RESPECIALIZE) {
		kt_result(ok && i.path == NETSPEC_PATH_UDP4 &&
			  i.reroutes >= 2 * FLAPS && i.trips == 0 &&
			  i.rewrites == 0,
			  "route_flaps_respecialize", "path %u", i.path);
	} else if (policy == NETSPEC_POLICY_REINFORCE) {
		/* The policy in effect, as customize returned it, as INFO
		 * reports it, and as the netspec family lists this process's
		 * instance (where /proc/net/netspec showed it).
		 */
		long r = nl_inst_of(&i, &nl);

		kt_result(ok && i.path == NETSPEC_PATH_UDP4 &&
			  i.reroutes >= 2 * FLAPS && i.trips == 1 &&
			  i.fallbacks == 0 && i.rewrites == sent &&
			  c.policy[NETSPEC_EVENT_ROUTE] == NETSPEC_POLICY_REINFORCE &&
			  i.policy[NETSPEC_EVENT_ROUTE] == NETSPEC_POLICY_REINFORCE &&
			  r == 0 && nl.policy_route == NETSPEC_POLICY_REINFORCE,
			  "route_flaps_reinforce",
			  "path %u, %llu rewrites, route policy %u, listed: %s, policy %u",
			  i.path, i.rewrites, i.policy[NETSPEC_EVENT_ROUTE],
			  errname(r), r ? 0 : nl.policy_route);
	} else {
		kt_result(ok && i.path == NETSPEC_PATH_GENERIC &&
			  i.trips == 1 && i.fallbacks == 1 && i.reroutes == 0,
			  "route_flaps_invalidate", "path %u", i.path);
	}
	netspec_cancel(t);
	close(fd);
}

/*
 * A reinforced instance whose frozen route's device goes down: the route
 * moves to the second next hop and the first device goes down, so that a
 * packet on the frozen route would be dropped; the reinforcement must take
 * all of them through the second next hop.
 */
static void test_reinforce_device_down(void)
{
	unsigned long sent = 0, received = 0;
	unsigned long long rx2 = far_rx_packets("nsb2:");
	struct sockaddr_in sin = net_sin(FAR, far_port);
	struct netspec_customize c;
	struct netspec_info i;
	int fd = net_socket(AF_INET, SOCK_DGRAM, 0), n;
	long t = net_connect(fd, &sin, sizeof(sin)) ?:
		 customize(fd, NETSPEC_POLICY_REINFORCE, &c);
	long r = link_route_replace(FAR_NET, 24, GW2) ?:
		 net_if_set_up("nsa1", 0);

	for (n = 0; n < UPDOWNS && t >= 0 && !r; n++) {
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		received += far_drain();
	}
	while (received < sent && net_wait_readable(far_rx, 2000) == 1)
		received += far_drain();
	rx2 = far_rx_packets("nsb2:") - rx2;
	i = netspec_info_of(t);
	kt_line("# reinforce with the frozen route's device down: %lu sent, %lu received, %llu through the second next hop, %llu rewrites, path %u",
		sent, received, rx2, i.rewrites, i.path);
	kt_result(t >= 0 && !r && sent == UPDOWNS && received == sent &&
		  rx2 >= sent && i.rewrites == sent &&
		  i.path == NETSPEC_PATH_UDP4, "reinforce_around_a_down_device",
		  "%s", errname(r));
	netspec_cancel(t);
	close(fd);
	net_if_set_up("nsa1", 1);
	link_route_replace(FAR_NET, 24, GW1);
}

#define NONE_CAME (~0U)	/* neither a DF bit nor a unicast source */

/* The DF bit of the next UDP datagram to far_port that raw, a raw UDP
 * socket of the far side, sees: 1, 0, or NONE_CAME.
 */
static unsigned int next_df(long raw)
{
	unsigned char pkt[128];
	long n, ihl;

	while (net_wait_readable(raw, 2000) == 1) {
		n = net_recvfrom(raw, pkt, sizeof(pkt), 0, NULL, NULL);
		if (n < 20)
			continue;
		ihl = (pkt[0] & 0xf) * 4;
		if (n < ihl + 8 || pkt[9] != IPPROTO_UDP_ ||
		    (pkt[ihl + 2] << 8 | pkt[ihl + 3]) != far_port)
			continue;
		return !!(pkt[6] & 0x40);
	}
	return NONE_CAME;
}

/* The source address (network order) of the next datagram the far
 * receiver gets, or NONE_CAME.
 */
static unsigned int next_source(void)
{
	struct sockaddr_in from;
	socklen_t len;

	while (net_wait_readable(far_rx, 2000) == 1) {
		len = sizeof(from);
		if (net_recvfrom(far_rx, got, sizeof(got), 0, &from, &len) == ADU)
			return from.sin_addr.s_addr;
	}
	return NONE_CAME;
}

/*
 * A reinforced instance of a socket bound to no address, with the far
 * receiver as its context's destination.  FLAPS times its route changes
 * in what the reinforcement's hook cannot rewrite, and a datagram goes
 * through the token, then one through sendto() on the same socket; the
 * instance must be rebuilt for each new route instead (a reroute, no
 * trip), and every datagram must leave as sendto()'s does:
 *  - new_source: the route moves to the other next hop, whose device's
 *    address is the source the route prefers: every datagram must come
 *    from it;
 *  - new_df: the route's MTU is locked, then unlocked, on the same next
 *    hop: IP_PMTUDISC_WANT sets DF only on the unlocked route
 *    (ip_dont_fragment()), and the IP ID is chosen from DF: every
 *    datagram must carry the route's DF, seen by a raw socket there.
 */
static void test_reinforce_rebuild(int df)
{
	static const char *const what[] = { "source", "DF" };
	unsigned long sent = 0, twin = 0, seen = 0, right = 0;
	struct sockaddr_in to = net_sin(FAR, far_port);
	struct netspec_customize c;
	struct netspec_info i;
	int fd = net_socket(AF_INET, SOCK_DGRAM, 0), f, k;
	long here = df ? far_enter() : -1, raw = -1, r = 0, t;
	unsigned int want, v;

	if (here >= 0) {
		raw = net_socket(AF_INET, SOCK_RAW, IPPROTO_UDP_);
		far_leave(here);
		r = raw < 0 ? raw : 0;
	}
	r = r ?: link_route_replace(FAR_NET, 24, GW1);
	c = netspec_udp_to_ipv4(fd, ADU, net_htonl(FAR), net_htons(far_port));
	c.policy[NETSPEC_EVENT_ROUTE] = NETSPEC_POLICY_REINFORCE;
	t = r ?: netspec_customize(&c);
	for (f = 0; f < FLAPS_REBUILD && t >= 0 && !r; f++) {
		r = df ? link_route_replace_mtu(FAR_NET, 24, GW1,
						f & 1 ? LOCKED_MTU : 0) :
			 link_route_replace(FAR_NET, 24, f & 1 ? GW1 : GW2);
		want = df ? !(f & 1) : net_htonl(f & 1 ? NSA1 : NSA2);
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		twin += net_sendto(fd, buf, ADU, 0, &to, sizeof(to)) == ADU;
		for (k = 0; k < 2; k++) {
			v = df ? next_df(raw) : next_source();
			seen += v != NONE_CAME;
			right += v == want;
		}
	}
	far_drain();
	i = netspec_info_of(t);
	kt_line("# reinforce across a %s change: %lu sent through the token and %lu through sendto(), %lu seen, %lu with the route's %s, %llu reroutes, %llu trips, %llu fallbacks, %llu rewrites",
		what[df], sent, twin, seen, right, what[df], i.reroutes,
		i.trips, i.fallbacks, i.rewrites);
	kt_result(t >= 0 && !r && sent == FLAPS_REBUILD && twin == FLAPS_REBUILD &&
		  seen == sent + twin && right == seen &&
		  i.path == NETSPEC_PATH_UDP4 && i.reroutes >= FLAPS_REBUILD - df &&
		  i.trips == 0 && i.fallbacks == 0 && i.rewrites == 0,
		  df ? "reinforce_rebuilds_for_a_new_df" :
		  "reinforce_rebuilds_for_a_new_source_address",
		  "%s, path %u", errname(t < 0 ? t : r), i.path);
	netspec_cancel(t);
	close(fd);
	if (raw >= 0)
		close(raw);
	link_route_replace(FAR_NET, 24, GW1);
}

/* MTU_FLAPS times the loopback MTU goes from 65536 to 1500 and back. */
static void test_mtu_flaps(void)
{
	unsigned long sent = 0, received = 0, changes = 0;
	struct netspec_customize c;
	struct netspec_info i;
	int fd = net_udp_sender(LOOPBACK, port), f;
	long t = customize(fd, 0, &c);

	for (f = 0; f < MTU_FLAPS && t >= 0; f++) {
		changes += link_set_mtu("lo", 1500) == 0;
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		changes += link_set_mtu("lo", 65536) == 0;
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		received += drain();
	}
	received += drain();
	i = netspec_info_of(t);
	kt_line("# MTU flaps: %lu changes, %lu sent, %lu received, %llu reroutes",
		changes, sent, received, i.reroutes);
	kt_result(t >= 0 && changes == 2 * MTU_FLAPS && sent == 2 * MTU_FLAPS &&
		  received == sent && i.path == NETSPEC_PATH_UDP4 &&
		  i.reroutes >= 2 * MTU_FLAPS, "mtu_flaps_respecialize",
		  "%lu changes, %lu sent, %lu received, path %u",
		  changes, sent, received, i.path);
	netspec_cancel(t);
	close(fd);
}

/* Drains the receiver, counting the datagrams that came from port. */
static unsigned long drain_from(unsigned short from, unsigned long *others)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	unsigned long n = 0;

	while (net_recvfrom(rx, got, sizeof(got), MSG_DONTWAIT, &sin, &len) == ADU) {
		if (sin.sin_port == from)
			n++;
		else
			(*others)++;
		len = sizeof(sin);
	}
	return n;
}

/*
 * UPDOWNS times lo goes down and up; in each state a datagram goes through
 * the token and one through send() on a twin socket.  The token must
 * return what send() returns, and deliver as many datagrams.
 */
static void test_device_down_up(void)
{
	unsigned long token_rx = 0, twin_rx = 0, same = 0;
	struct netspec_customize c;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = net_udp_sender(LOOPBACK, port);
	int twin = net_udp_sender(LOOPBACK, port), n;
	long t = customize(fd, 0, &c), down_token = 0, down_send = 0;

	net_getsockname(fd, &sin, &len);
	for (n = 0; n < UPDOWNS && t >= 0; n++) {
		long a, b;

		net_if_set_up("lo", 0);
		/* customized_send()'s own flag for send()'s MSG_DONTWAIT. */
		a = netspec_send(t, buf, ADU, NETSPEC_SEND_DONTWAIT);
		b = net_sendto(twin, buf, ADU, MSG_DONTWAIT, NULL, 0);
		same += a == b;
		down_token = a;
		down_send = b;
		net_if_set_up("lo", 1);
		a = netspec_send(t, buf, ADU, 0);
		b = net_sendto(twin, buf, ADU, 0, NULL, 0);
		same += a == b && a == ADU;
		token_rx += drain_from(sin.sin_port, &twin_rx);
	}
	net_sleep_ms(100);
	token_rx += drain_from(sin.sin_port, &twin_rx);
	kt_line("# device down/up: %d cycles, %lu of %d results equal to send()'s (while down both return %ld, %ld), received %lu from the token and %lu from send()",
		n, same, 2 * UPDOWNS, down_token, down_send, token_rx, twin_rx);
	kt_result(t >= 0 && same == 2 * UPDOWNS && token_rx == twin_rx &&
		  token_rx >= UPDOWNS, "device_down_up_as_send",
		  "%lu equal results, %lu vs %lu received", same, token_rx, twin_rx);
	netspec_cancel(t);
	close(fd);
	close(twin);
}

/*
 * A child in a new network namespace customizes, sends, closes its
 * sockets and leaves the namespace, which then goes away: the token, whose
 * socket is closed, fails with EPIPE (sends and INFO alike) and closes
 * cleanly.  The child's exit status is the verdict.
 */
static int netns_child(void)
{
	struct netspec_customize c;
	unsigned short p;
	int r, fd;
	long t, s, i, x;

	if (net_unshare(CLONE_NEWNET) || net_if_up("lo"))
		return 10;
	r = net_udp_receiver(LOOPBACK, &p);
	fd = net_udp_sender(LOOPBACK, p);
	t = customize(fd, 0, &c);
	if (t < 0 || netspec_send(t, buf, ADU, 0) != ADU ||
	    net_wait_readable(r, 2000) != 1)
		return 11;
	close(fd);
	close(r);
	if (net_unshare(CLONE_NEWNET))
		return 12;
	net_sleep_ms(300);	/* the old namespace's cleanup work runs */
	s = netspec_send(t, buf, ADU, 0);
	i = netspec_info(t, &(struct netspec_info){ 0 });
	x = netspec_cancel(t);
	return s == -EPIPE && i == -EPIPE && x == 0 ? 0 : 13;
}

static void test_netns(void)
{
	int status = -1;
	long pid = fork();

	if (pid == 0)
		exit(netns_child());
	waitpid(pid, &status, 0);
	kt_result(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "netns_goes_away_with_a_live_token", "child status 0x%x", status);
}

/*
 * A child customizes and sends, then exits (or waits to be killed): through
 * a socket of its own, and through one it inherited from this process,
 * which keeps it open.  The netspec family lists an instance while it has
 * a token and its socket is open, so the second shows that the exit closed
 * the token itself, not only the socket (a token left behind would leave
 * that instance listed under the child's pid).
 */
static void test_exit_kill(int kill_it)
{
	struct netspec_customize c;
	int status = -1, tries;
	int kept = net_udp_sender(LOOPBACK, port);
	long seen = 0, left, pid = fork();

	if (pid == 0) {
		int fd = net_udp_sender(LOOPBACK, port);

		if (customize(fd, 0, &c) < 0 ||
		    netspec_send(c.token, buf, ADU, 0) != ADU ||
		    customize(kept, 0, &c) < 0 ||
		    netspec_send(c.token, buf, ADU, 0) != ADU)
			exit(1);
		if (!kill_it)
			exit(netspec_nl_count_pid(getpid()) == 2 ? 0 : 2);
		for (;;)
			net_sleep_ms(1000);
	}
	if (kill_it) {
		for (tries = 0; tries < 200 && seen != 2; tries++) {
			seen = netspec_nl_count_pid(pid);
			if (seen != 2)
				net_sleep_ms(10);
		}
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	left = netspec_nl_count_pid(pid);
	drain();
	if (kill_it)
		kt_result(seen == 2 && KILLED_BY(status, SIGKILL) && left == 0,
			  "kill_9_leaves_no_instance",
			  "seen %ld status 0x%x, %ld left", seen, status, left);
	else
		kt_result(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
			  left == 0, "exit_leaves_no_instance",
			  "status 0x%x, %ld left", status, left);
	close(kept);
}

/* A raw ICMP socket in the far namespace; -errno if it cannot be made. */
static long far_icmp_socket(void)
{
	long here = far_enter(), fd;

	if (here < 0)
		return here;
	fd = net_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	far_leave(here);
	return fd;
}

/*
 * What the first next hop sends when a packet of fd's flow, adu bytes of
 * payload, does not fit its next link: an ICMP "fragmentation needed" with
 * that link's MTU, quoting the packet's IP header and UDP header.
 */
static long send_frag_needed(long icmp, int fd, unsigned int adu,
			     unsigned int mtu)
{
	unsigned char m[8 + 20 + 8] = { 3, 4 };	/* unreachable, frag. needed */
	unsigned char *q = m + 8, *u = q + 20;
	unsigned int tot = 20 + 8 + adu, far = net_htonl(FAR);
	unsigned short port = net_htons(far_port), cs;
	struct sockaddr_in me, to = net_sin(NSA1, 0);
	socklen_t len = sizeof(me);

	if (net_getsockname(fd, &me, &len))
		return -EBADF;
	m[6] = mtu >> 8;
	m[7] = mtu;
	q[0] = 0x45;
	q[2] = tot >> 8;
	q[3] = tot;
	q[6] = 0x40;	/* DF */
	q[8] = 64;
	q[9] = 17;	/* UDP */
	memcpy(q + 12, &me.sin_addr, 4);
	memcpy(q + 16, &far, 4);
	cs = net_csum(q, 20);
	q[10] = cs >> 8;
	q[11] = cs;
	memcpy(u, &me.sin_port, 2);
	memcpy(u + 2, &port, 2);
	u[4] = (8 + adu) >> 8;
	u[5] = 8 + adu;
	cs = net_csum(m, sizeof(m));
	m[2] = cs >> 8;
	m[3] = cs;
	return net_sendto(icmp, m, sizeof(m), 0, &to, sizeof(to));
}

/*
 * Sends BIG_ADU-byte datagrams through token t until want of them went, in
 * at most twice as many tries (an ICMP leaves one EMSGSIZE pending, which
 * a send reports); the number sent, the EMSGSIZE answers added to
 * *emsgsize.
 */
static unsigned long send_big(long t, unsigned long want,
			      unsigned long *emsgsize)
{
	unsigned long sent = 0, n;

	for (n = 0; n < 2 * want && sent < want && t >= 0; n++) {
		long s = netspec_send(t, big, BIG_ADU, 0);

		sent += s == BIG_ADU;
		*emsgsize += s == -EMSGSIZE;
	}
	return sent;
}

/*
 * A path MTU drop: after 10 datagrams of BIG_ADU bytes through the token,
 * the first next hop reports a path MTU of PMTU by ICMP.  The socket then
 * has EMSGSIZE pending, which the next send reports once, as send()
 * would; every later datagram must go, through the generic path (the
 * route no longer fits the ADU unfragmented), in fragments of at most
 * PMTU bytes, and arrive whole.  While no route fits, the instance must
 * not resolve one at every send.
 */
static void test_pmtu(void)
{
	unsigned long before = 0, after = 0, emsgsize = 0, received = 0;
	unsigned long long rx1 = far_rx_packets("nsb1:");
	struct sockaddr_in sin = net_sin(FAR, far_port);
	struct netspec_customize c;
	struct netspec_info i0, i;
	int fd = net_socket(AF_INET, SOCK_DGRAM, 0), n;
	long icmp = far_icmp_socket(), r, t;
	long long t0;
	unsigned int secs = 0;

	t = net_connect(fd, &sin, sizeof(sin));
	if (!t) {
		c = netspec_udp_connected(fd, BIG_ADU);
		t = netspec_customize(&c);
	}
	for (n = 0; n < 10 && t >= 0; n++)
		before += netspec_send(t, big, BIG_ADU, 0) == BIG_ADU;
	i0 = netspec_info_of(t);
	r = icmp < 0 ? icmp : send_frag_needed(icmp, fd, BIG_ADU, PMTU);
	net_sleep_ms(50);
	t0 = net_now_ns();
	after = send_big(t, PMTU_SENDS, &emsgsize);
	/* Whole seconds the sends took, rounded up, without a division. */
	for (t0 = net_now_ns() - t0; t0 > 0; t0 -= 1000000000ULL)
		secs++;
	while (received < before + after &&
	       net_wait_readable(far_rx, 2000) == 1)
		received += net_drain(far_rx, big_got, sizeof(big_got),
				      BIG_ADU);
	rx1 = far_rx_packets("nsb1:") - rx1;
	i = netspec_info_of(t);
	kt_line("# path MTU drop to %d by ICMP: %lu sent before (path %u, %llu fallbacks), ICMP %s, %lu sent after with %lu EMSGSIZE in %u s or less, %lu received, %llu packets through the next hop, %llu fallbacks, %llu reroutes, path %u",
		PMTU, before, i0.path, i0.fallbacks,
		r == 36 ? "sent" : errname(r), after, emsgsize, secs, received,
		rx1, i.fallbacks, i.reroutes, i.path);
	kt_result(t >= 0 && r == 36 && before == 10 && i0.fallbacks == 0 &&
		  i0.path == NETSPEC_PATH_UDP4 && after == PMTU_SENDS &&
		  emsgsize <= 1 && received == before + after &&
		  rx1 >= before + 2 * after && i.fallbacks == after &&
		  i.reroutes >= 1, "pmtu_drop_by_icmp_loses_nothing",
		  "ICMP %s, %lu after, %lu received, %llu fallbacks, %llu reroutes",
		  r == 36 ? "sent" : errname(r), after, received,
		  i.fallbacks, i.reroutes);
	/* No route fits the ADU now, and none changes: the instance tries
	 * again at most once a second, not at each of the sends.
	 */
	kt_result(t >= 0 && i.reroutes >= 1 && i.reroutes <= 1 + secs &&
		  secs < PMTU_SENDS / 2,
		  "a_failed_reroute_is_not_retried_at_every_send",
		  "%llu reroutes for %lu sends in %u s or less", i.reroutes,
		  after, secs);
	netspec_cancel(t);
	close(fd);
	if (icmp >= 0)
		close(icmp);
}

/*
 * A path MTU drop on a route that already has a nexthop exception.  The
 * first ICMP (EXC_MTU1, which the datagram fits) creates the exception and
 * makes the cached route stale: the instance reroutes onto the exception's
 * route and stays specialized.  The second (EXC_MTU2, which it does not
 * fit) updates that route in place, and dst_check() still passes: only
 * the instance's MTU check sees it.  From then on every datagram must go
 * through the generic path, which fragments it without DF as send() does,
 * and arrive whole.  The exceptions are flushed before and after.
 */
static void test_pmtu_exception(void)
{
	unsigned long first = 0, mid = 0, after = 0, emsgsize = 0, received = 0;
	struct sockaddr_in sin = net_sin(FAR, far_port);
	struct netspec_customize c;
	struct netspec_info i1, i2, i3;
	int fd = net_socket(AF_INET, SOCK_DGRAM, 0), n;
	long icmp = far_icmp_socket(), r1 = -1, r2 = -1, t;

	write_text(ROUTE_FLUSH, "1");
	t = net_connect(fd, &sin, sizeof(sin));
	if (!t) {
		c = netspec_udp_connected(fd, BIG_ADU);
		c.policy[NETSPEC_EVENT_ROUTE] = NETSPEC_POLICY_RESPECIALIZE;
		t = netspec_customize(&c);
	}
	for (n = 0; n < 5 && t >= 0; n++)
		first += netspec_send(t, big, BIG_ADU, 0) == BIG_ADU;
	i1 = netspec_info_of(t);
	if (icmp >= 0 && t >= 0)
		r1 = send_frag_needed(icmp, fd, BIG_ADU, EXC_MTU1);
	net_sleep_ms(50);
	mid = send_big(t, 5, &emsgsize);
	i2 = netspec_info_of(t);
	if (icmp >= 0 && t >= 0)
		r2 = send_frag_needed(icmp, fd, BIG_ADU, EXC_MTU2);
	net_sleep_ms(50);
	after = send_big(t, 10, &emsgsize);
	while (received < first + mid + after &&
	       net_wait_readable(far_rx, 2000) == 1)
		received += net_drain(far_rx, big_got, sizeof(big_got),
				      BIG_ADU);
	i3 = netspec_info_of(t);
	kt_line("# PMTU %d then %d on the exception: %lu, %lu, %lu sent (%lu EMSGSIZE), %lu received; fallbacks %llu, %llu, %llu; reroutes %llu, %llu; path %u, %u",
		EXC_MTU1, EXC_MTU2, first, mid, after, emsgsize, received,
		i1.fallbacks, i2.fallbacks, i3.fallbacks, i2.reroutes,
		i3.reroutes, i2.path, i3.path);
	kt_result(t >= 0 && r1 == 36 && r2 == 36 && first == 5 && mid == 5 &&
		  after == 10 && emsgsize <= 2 && i1.fallbacks == 0 &&
		  i2.fallbacks == 0 && i2.path == NETSPEC_PATH_UDP4 &&
		  i2.reroutes >= 1 && i3.fallbacks == after &&
		  received == first + mid + after,
		  "pmtu_update_in_place_of_an_exception_goes_generic",
		  "%lu/%lu/%lu sent, %lu received, fallbacks %llu/%llu/%llu",
		  first, mid, after, received, i1.fallbacks, i2.fallbacks,
		  i3.fallbacks);
	netspec_cancel(t);
	close(fd);
	if (icmp >= 0)
		close(icmp);
	write_text(ROUTE_FLUSH, "1");
}

int main(void)
{
	long r;

	kt_plan(1, 15);
	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	if (rx < 0) {
		kt_line("# cannot set up the receiver");
		return 1;
	}
	memset(buf, 0xa5, sizeof(buf));
	r = far_setup();
	kt_result(r == 0, "two_next_hops_to_a_far_namespace", "%s", errname(r));
	test_route_flaps(NETSPEC_POLICY_RESPECIALIZE, "respecialize");
	test_route_flaps(NETSPEC_POLICY_INVALIDATE, "invalidate");
	test_route_flaps(NETSPEC_POLICY_REINFORCE, "reinforce");
	test_reinforce_device_down();
	test_reinforce_rebuild(0);
	test_reinforce_rebuild(1);
	test_pmtu();
	test_pmtu_exception();
	far_end();
	test_mtu_flaps();
	test_device_down_up();
	test_netns();
	test_exit_kill(0);
	test_exit_kill(1);
	return kt_exit_status();
}
