// SPDX-License-Identifier: GPL-2.0
/*
 * The guards of a specialized instance: the socket closed (also by another
 * task sharing the descriptor table while sends are in flight, which the
 * close never waits for nor interrupts), setsockopt() and connect() under
 * each socket policy, and the policies themselves.  Every datagram the
 * kernel accepted is received.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"

#define ADU 64
#define LOOPBACK 0x7f000001
#define ROUNDS 1000
#ifndef CLONE_FILES
#define CLONE_FILES 0x400
#endif
#define SIGCHLD 17
#define SO_RCVBUFFORCE 33
#define SYSCTL_SOCKET "/proc/sys/net/netspec/socket_policy"
#define SYSCTL_ROUTE "/proc/sys/net/netspec/route_policy"

static unsigned char buf[ADU], got[ADU];
static unsigned short port;
static int rx;

/* A UDP socket connected to the receiver, customized with the policies. */
static long customize(int fd, int sock_policy, int route_policy,
		      struct netspec_customize *c)
{
	*c = netspec_udp_connected(fd, ADU);
	c->policy[NETSPEC_EVENT_SOCKET] = sock_policy;
	c->policy[NETSPEC_EVENT_ROUTE] = route_policy;
	return netspec_customize(c);
}

/* The datagrams of ADU bytes waiting on the receiver; drains it. */
static unsigned long drain(void)
{
	return net_drain(rx, got, sizeof(got), ADU);
}

/* Whether one datagram sent through token arrives. */
static int delivers(int token)
{
	return netspec_send(token, buf, ADU, 0) == ADU &&
	       net_wait_readable(rx, 2000) == 1 && drain() == 1;
}

/* A child sharing this process's descriptor table but not its memory. */
static long clone_files(void)
{
	return my_syscall5(__NR_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
}

static void test_close(void)
{
	struct netspec_customize c;
	int fd = net_udp_sender(LOOPBACK, port), dup_fd;
	long t = customize(fd, 0, 0, &c), after, info, cancel, again;
	struct netspec_info i;

	kt_result(t > 0 && c.path == NETSPEC_PATH_UDP4 && delivers(t),
		  "token_sends_before_close", "token %ld path %u", t, c.path);
	close(fd);
	after = netspec_send(t, buf, ADU, 0);
	info = netspec_info(t, &i);
	cancel = netspec_cancel(t);
	again = netspec_cancel(t);
	kt_result(after == -EPIPE && info == -EPIPE && cancel == 0 &&
		  again == -EBADF && drain() == 0,
		  "close_makes_the_token_epipe",
		  "send %s info %s close %ld, again %s", errname(after),
		  errname(info), cancel, errname(again));

	/* Another descriptor of the socket keeps it, and the token, alive. */
	fd = net_udp_sender(LOOPBACK, port);
	t = customize(fd, 0, 0, &c);
	dup_fd = dup(fd);
	close(fd);
	kt_result(t > 0 && dup_fd >= 0 && delivers(t),
		  "a_dup_keeps_the_token_working", "token %ld dup %d", t, dup_fd);
	close(dup_fd);
	after = netspec_send(t, buf, ADU, 0);
	kt_result(after == -EPIPE && drain() == 0,
		  "closing_the_last_descriptor_ends_it", "send %s", errname(after));
	netspec_cancel(t);
}

/*
 * ROUNDS times: a token streams while a child sharing the descriptor table
 * closes the socket, once the first datagram is out and after a delay that
 * varies by round.  A send in flight holds the socket, as send() holds its
 * descriptor, so the close takes nothing from it: the sends go on until
 * one finds the socket gone (EPIPE), and every datagram the kernel
 * accepted must arrive.
 */
static void test_close_during_send(void)
{
	unsigned long accepted = 0, received = 0, ended = 0, other = 0;
	unsigned long rounds = 0, spins;
	volatile unsigned long v;
	struct netspec_customize c;
	int r, fd, status, go[2], told;
	long t, n, child;

	if (net_pipe(go)) {
		kt_result(0, "close_during_send_loses_nothing", "no pipe");
		return;
	}
	for (r = 0; r < ROUNDS; r++) {
		fd = net_udp_sender(LOOPBACK, port);
		t = customize(fd, 0, 0, &c);
		if (t <= 0 || c.path != NETSPEC_PATH_UDP4)
			break;
		child = clone_files();
		if (child == 0) {
			net_wait_byte(go[0]);	/* the first datagram is out */
			for (spins = (r & 63) * 200, v = 0; v < spins; v++)
				;
			close(fd);
			my_syscall1(__NR_exit, 0);
		}
		if (child < 0)
			break;
		for (n = 0, told = 0; n < 100000; n++) {
			long s = netspec_send(t, buf, ADU, 0);

			if (s == ADU) {
				if (!told++)
					net_send_byte(go[1], 'g');
				accepted++;
			} else if (s == -EPIPE) {
				ended++;
				break;
			} else {
				other++;
				break;
			}
		}
		if (!told)
			net_send_byte(go[1], 'g');	/* let the child go */
		waitpid(child, &status, 0);
		close(fd);	/* our copy is gone too: shared table */
		netspec_cancel(t);
		received += drain();
		rounds++;
	}
	close(go[0]);
	close(go[1]);
	kt_line("# close during send: %lu rounds, %lu accepted, %lu received, %lu ended by EPIPE",
		rounds, accepted, received, ended);
	kt_result(rounds == ROUNDS && accepted == received && !other &&
		  ended == ROUNDS && accepted >= ROUNDS,
		  "close_during_send_loses_nothing",
		  "%lu rounds, %lu accepted, %lu received, %lu ended, %lu other errors",
		  rounds, accepted, received, ended, other);
}

static void test_socket_policies(void)
{
	struct netspec_customize c, g;
	struct netspec_info i;
	int fd = net_udp_sender(LOOPBACK, port), gfd, prio = 3, tos = 0x10;
	int bad_pmtu = 99;
	struct sockaddr_in sin = net_sin(LOOPBACK, port);
	long t = customize(fd, 0, 0, &c), so, co, tg, pr;

	/* Reject refuses what the path froze, and only that. */
	so = net_setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	co = net_connect(fd, &sin, sizeof(sin));
	pr = net_setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio));
	i = netspec_info_of(t);
	kt_result(t > 0 && c.policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_REJECT &&
		  so == -EBUSY && co == -EBUSY && pr == 0 && i.trips == 2 &&
		  i.path == NETSPEC_PATH_UDP4 && delivers(t),
		  "reject_policy_refuses_only_what_the_path_froze",
		  "policy %u IP_TOS %s connect %s SO_PRIORITY %s trips %llu path %u",
		  c.policy[0], errname(so), errname(co), errname(pr), i.trips,
		  i.path);
	netspec_cancel(t);
	so = net_setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	kt_result(so == 0, "closing_the_token_lifts_the_guard", "setsockopt %s",
		  errname(so));
	close(fd);

	/*
	 * Invalidate lets the change through; the next send finds the socket
	 * changed and takes the generic path, for good.  A setsockopt that
	 * fails changes nothing, and demotes nothing.
	 */
	fd = net_udp_sender(LOOPBACK, port);
	t = customize(fd, NETSPEC_POLICY_INVALIDATE, 0, &c);
	pr = net_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &bad_pmtu,
			    sizeof(bad_pmtu));
	i = netspec_info_of(t);
	kt_result(t > 0 && pr == -EINVAL && delivers(t) &&
		  netspec_info_of(t).path == NETSPEC_PATH_UDP4 && !i.trips,
		  "a_failed_setsockopt_demotes_nothing",
		  "setsockopt %s path %u trips %llu", errname(pr),
		  netspec_info_of(t).path, i.trips);
	so = net_setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	i = netspec_info_of(t);
	kt_result(so == 0 && i.trips == 0 && i.path == NETSPEC_PATH_UDP4 &&
		  delivers(t) && netspec_info_of(t).path == NETSPEC_PATH_GENERIC &&
		  netspec_info_of(t).trips == 1 &&
		  netspec_info_of(t).fallbacks == 1 &&
		  i.policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_INVALIDATE &&
		  delivers(t), "invalidate_policy_lets_it_through_generic",
		  "setsockopt %s, then path %u trips %llu fallbacks %llu",
		  errname(so), netspec_info_of(t).path, netspec_info_of(t).trips,
		  netspec_info_of(t).fallbacks);
	/* A new customize of the context is specialized again. */
	tg = customize(fd, NETSPEC_POLICY_INVALIDATE, 0, &g);
	kt_result(tg > 0 && g.path == NETSPEC_PATH_UDP4 && delivers(tg),
		  "customize_again_respecializes", "token %ld path %u", tg, g.path);
	netspec_cancel(t);
	netspec_cancel(tg);
	close(fd);

	/* Respecialize: the next send rebuilds the instance for the change. */
	fd = net_udp_sender(LOOPBACK, port);
	t = customize(fd, NETSPEC_POLICY_RESPECIALIZE, 0, &c);
	so = net_setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	kt_result(t > 0 && so == 0 && delivers(t) &&
		  netspec_info_of(t).path == NETSPEC_PATH_UDP4 &&
		  netspec_info_of(t).trips == 1 &&
		  netspec_info_of(t).fallbacks == 0,
		  "respecialize_policy_rebuilds_for_the_change",
		  "setsockopt %s path %u trips %llu fallbacks %llu", errname(so),
		  netspec_info_of(t).path, netspec_info_of(t).trips,
		  netspec_info_of(t).fallbacks);
	netspec_cancel(t);
	close(fd);

	/* A generic instance reads the socket on every send: no guard. */
	gfd = net_udp_sender(LOOPBACK, port);
	g = netspec_udp_connected(gfd, 0);
	tg = netspec_customize(&g);
	so = net_setsockopt(gfd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	kt_result(tg > 0 && g.path == NETSPEC_PATH_GENERIC && so == 0,
		  "a_generic_instance_does_not_guard", "token %ld setsockopt %s",
		  tg, errname(so));
	netspec_cancel(tg);
	close(gfd);
}

/*
 * A respecialization binds an unbound socket before the message is copied,
 * as send() would: a send that then faults leaves the instance specialized
 * for the port the socket got, so the next send finds nothing changed.
 */
static void test_respecialize_then_fault(void)
{
	struct sockaddr_in none = { 0 }, sin = { 0 };	/* 0: AF_UNSPEC */
	socklen_t len = sizeof(sin);
	struct netspec_customize c;
	struct netspec_info i;
	long fd, t, dis, fault;

	fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	c = netspec_udp_to_ipv4(fd, ADU, net_htonl(LOOPBACK), net_htons(port));
	c.policy[NETSPEC_EVENT_SOCKET] = NETSPEC_POLICY_RESPECIALIZE;
	t = netspec_customize(&c);
	dis = net_connect(fd, &none, sizeof(none));	/* unbinds its port */
	fault = netspec_send(t, NULL, ADU, 0);
	i = netspec_info_of(t);
	net_getsockname(fd, &sin, &len);
	kt_result(t > 0 && c.path == NETSPEC_PATH_UDP4 && dis == 0 &&
		  fault == -EFAULT && i.trips == 1 &&
		  i.path == NETSPEC_PATH_UDP4 && sin.sin_port,
		  "a_respecialization_binds_before_its_send_faults",
		  "token %ld path %u, disconnect %s, send %s, trips %llu path %u port %u",
		  t, c.path, errname(dis), errname(fault), i.trips, i.path,
		  net_htons(sin.sin_port));
	kt_result(delivers(t) && netspec_info_of(t).trips == 1 &&
		  netspec_info_of(t).sends == 1 &&
		  netspec_info_of(t).fallbacks == 0 &&
		  netspec_info_of(t).path == NETSPEC_PATH_UDP4,
		  "after_a_faulting_respecialization_the_next_send_keeps_it",
		  "trips %llu sends %llu fallbacks %llu path %u",
		  netspec_info_of(t).trips, netspec_info_of(t).sends,
		  netspec_info_of(t).fallbacks, netspec_info_of(t).path);
	netspec_cancel(t);
	close(fd);
}

static void test_policy_values(void)
{
	struct netspec_customize c;
	int fd = net_udp_sender(LOOPBACK, port);
	long w = write_text(SYSCTL_SOCKET, "2"), w2, w3, bad[4];
	long t = customize(fd, 0, 0, &c);

	w2 = write_text(SYSCTL_ROUTE, "1");
	w3 = write_text(SYSCTL_SOCKET, "4");
	kt_result(w == 0 && w2 == -EINVAL && w3 == -EINVAL && t > 0 &&
		  c.policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_INVALIDATE &&
		  c.policy[NETSPEC_EVENT_ROUTE] == NETSPEC_POLICY_RESPECIALIZE,
		  "defaults_come_from_the_sysctls",
		  "write %s, route 1 %s, policies %u/%u", errname(w),
		  errname(w2), c.policy[0], c.policy[1]);
	netspec_cancel(t);
	write_text(SYSCTL_SOCKET, "1");

	bad[0] = customize(fd, NETSPEC_POLICY_REINFORCE + 1, 0, &c);
	bad[1] = customize(fd, 0, NETSPEC_POLICY_REJECT, &c);
	bad[2] = customize(fd, NETSPEC_POLICY_REINFORCE, 0, &c);
	c = netspec_udp_connected(fd, ADU);
	c.policy[5] = 1;
	bad[3] = netspec_customize(&c);
	kt_result(bad[0] == -EINVAL && bad[1] == -EINVAL && bad[2] == -EINVAL &&
		  bad[3] == -EINVAL && drain() == 0, "bad_policies_are_einval",
		  "%s %s %s %s", errname(bad[0]), errname(bad[1]),
		  errname(bad[2]), errname(bad[3]));
	close(fd);
}

int main(void)
{
	int size = 8 << 20;

	kt_plan(1, 16);
	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	if (rx < 0 || net_setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &size,
				     sizeof(size))) {
		kt_line("# cannot set up the receiver");
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	test_close();
	test_close_during_send();
	test_socket_policies();
	test_respecialize_then_fault();
	test_policy_values();
	return kt_exit_status();
}
