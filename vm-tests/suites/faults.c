// SPDX-License-Identifier: GPL-2.0
/*
 * Faults under traffic: route flaps and MTU flaps under each route policy,
 * the device going down and up, the network namespace going away with a
 * live token, and a process exiting or killed with live tokens.  A token
 * loses no datagram that send() on the same socket state would deliver.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "link.h"
#include "text.h"

#define ADU 64
#define LOOPBACK 0x7f000001
#define ALIAS_ADDR 0x0a4d0001	/* 10.77.0.1 on lo:1 */
#define FLAPS 1000
#define MTU_FLAPS 500
#define UPDOWNS 100
#define SIOCSIFMTU 0x8922
#define CLONE_NEWNET 0x40000000
#define SIGKILL 9
/* 6.1's nolibc has no WIFSIGNALED. */
#define KILLED_BY(status, sig) (((status) & 0x7f) == (sig))

static unsigned char buf[ADU], got[ADU];
static unsigned short port;
static int rx;

struct ifreq_int {
	char name[16];
	int value;
	char pad[20];
};

static long if_ioctl(unsigned long req, const char *name, int value)
{
	struct ifreq_int ifr;
	long fd = net_socket(AF_INET, SOCK_DGRAM, 0), r;

	if (fd < 0)
		return fd;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.name, name, strlen(name));
	r = 0;
	if (req == SIOCSIFFLAGS) {
		r = my_syscall3(__NR_ioctl, fd, SIOCGIFFLAGS, &ifr);
		ifr.value = value ? (ifr.value | IFF_UP) : (ifr.value & ~IFF_UP);
	} else {
		ifr.value = value;
	}
	if (!r)
		r = my_syscall3(__NR_ioctl, fd, req, &ifr);
	close(fd);
	return r;
}

static long customize(int fd, int route_policy, struct netspec_customize *c)
{
	*c = netspec_udp_connected(fd, ADU);
	c->policy[NETSPEC_EVENT_ROUTE] = route_policy;
	return netspec_customize(c);
}

static struct netspec_info info_of(int token)
{
	struct netspec_info i;

	if (netspec_info(token, &i))
		memset(&i, 0xff, sizeof(i));
	return i;
}

static unsigned long drain(void)
{
	unsigned long n = 0;

	while (net_recvfrom(rx, got, sizeof(got), MSG_DONTWAIT, NULL, NULL) == ADU)
		n++;
	return n;
}

/*
 * FLAPS times: an address comes and goes on lo:1, each change a FIB change
 * that invalidates every cached IPv4 route; a datagram goes through the
 * token after each change.
 */
static void test_route_flaps(int policy, const char *name)
{
	unsigned long sent = 0, received = 0, changes = 0;
	struct netspec_customize c;
	struct netspec_info i;
	int fd = net_udp_sender(LOOPBACK, port), f;
	long t = customize(fd, policy, &c);

	for (f = 0; f < FLAPS && t > 0; f++) {
		changes += link_addr_up("lo:1", ALIAS_ADDR) == 0;
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		changes += if_ioctl(SIOCSIFFLAGS, "lo:1", 0) == 0;
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		received += drain();
	}
	received += drain();
	i = info_of(t);
	kt_line("# route flaps (%s): %lu changes, %lu sent, %lu received, %llu reroutes, %llu trips, %llu fallbacks",
		name, changes, sent, received, i.reroutes, i.trips, i.fallbacks);
	if (policy == NETSPEC_POLICY_RESPECIALIZE)
		kt_result(t > 0 && changes == 2 * FLAPS && sent == 2 * FLAPS &&
			  received == sent && i.path == NETSPEC_PATH_UDP4 &&
			  i.reroutes >= 2 * FLAPS && i.trips == 0,
			  "route_flaps_respecialize", "path %u", i.path);
	else
		kt_result(t > 0 && changes == 2 * FLAPS && sent == 2 * FLAPS &&
			  received == sent && i.path == NETSPEC_PATH_GENERIC &&
			  i.trips == 1 && i.fallbacks == 1 && i.reroutes == 0,
			  "route_flaps_invalidate", "path %u", i.path);
	netspec_cancel(t);
	close(fd);
}

/* MTU_FLAPS times the loopback MTU goes from 65536 to 1500 and back. */
static void test_mtu_flaps(void)
{
	unsigned long sent = 0, received = 0, changes = 0;
	struct netspec_customize c;
	struct netspec_info i;
	int fd = net_udp_sender(LOOPBACK, port), f;
	long t = customize(fd, 0, &c);

	for (f = 0; f < MTU_FLAPS && t > 0; f++) {
		changes += if_ioctl(SIOCSIFMTU, "lo", 1500) == 0;
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		changes += if_ioctl(SIOCSIFMTU, "lo", 65536) == 0;
		sent += netspec_send(t, buf, ADU, 0) == ADU;
		received += drain();
	}
	received += drain();
	i = info_of(t);
	kt_line("# MTU flaps: %lu changes, %lu sent, %lu received, %llu reroutes",
		changes, sent, received, i.reroutes);
	kt_result(t > 0 && changes == 2 * MTU_FLAPS && sent == 2 * MTU_FLAPS &&
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
	for (n = 0; n < UPDOWNS && t > 0; n++) {
		long a, b;

		if_ioctl(SIOCSIFFLAGS, "lo", 0);
		a = netspec_send(t, buf, ADU, MSG_DONTWAIT);
		b = net_sendto(twin, buf, ADU, MSG_DONTWAIT, NULL, 0);
		same += a == b;
		down_token = a;
		down_send = b;
		if_ioctl(SIOCSIFFLAGS, "lo", 1);
		a = netspec_send(t, buf, ADU, 0);
		b = net_sendto(twin, buf, ADU, 0, NULL, 0);
		same += a == b && a == ADU;
		token_rx += drain_from(sin.sin_port, &twin_rx);
	}
	net_sleep_ms(100);
	token_rx += drain_from(sin.sin_port, &twin_rx);
	kt_line("# device down/up: %d cycles, %lu of %d results equal to send()'s (while down both return %ld, %ld), received %lu from the token and %lu from send()",
		n, same, 2 * UPDOWNS, down_token, down_send, token_rx, twin_rx);
	kt_result(t > 0 && same == 2 * UPDOWNS && token_rx == twin_rx &&
		  token_rx >= UPDOWNS, "device_down_up_as_send",
		  "%lu equal results, %lu vs %lu received", same, token_rx, twin_rx);
	netspec_cancel(t);
	close(fd);
	close(twin);
}

/*
 * A child in a new network namespace customizes, sends, closes its
 * sockets and leaves the namespace, which then goes away: the token fails
 * with EBADF and cancels cleanly.  The child's exit status is the verdict.
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
	if (t <= 0 || netspec_send(t, buf, ADU, 0) != ADU ||
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
	return s == -EBADF && i == -EBADF && x == 0 ? 0 : 13;
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

/* A child customizes and sends, then exits (or waits to be killed). */
static void test_exit_kill(int kill_it)
{
	struct netspec_customize c;
	int status = -1, seen = 0, tries;
	long pid = fork();

	if (pid == 0) {
		int fd = net_udp_sender(LOOPBACK, port);

		if (customize(fd, 0, &c) <= 0 ||
		    netspec_send(c.token, buf, ADU, 0) != ADU)
			exit(1);
		if (!kill_it)
			exit(0);
		for (;;)
			net_sleep_ms(1000);
	}
	if (kill_it) {
		for (tries = 0; tries < 200 && !seen; tries++) {
			seen = netspec_proc_has_pid(pid) == 1;
			if (!seen)
				net_sleep_ms(10);
		}
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	drain();
	if (kill_it)
		kt_result(seen && KILLED_BY(status, SIGKILL) &&
			  netspec_proc_has_pid(pid) == 0,
			  "kill_9_leaves_no_instance", "seen %d status 0x%x", seen,
			  status);
	else
		kt_result(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
			  netspec_proc_has_pid(pid) == 0,
			  "exit_leaves_no_instance", "status 0x%x", status);
}

int main(void)
{
	kt_plan(1, 7);
	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	if (rx < 0) {
		kt_line("# cannot set up the receiver");
		return 1;
	}
	memset(buf, 0xa5, sizeof(buf));
	test_route_flaps(NETSPEC_POLICY_RESPECIALIZE, "respecialize");
	test_route_flaps(NETSPEC_POLICY_INVALIDATE, "invalidate");
	test_mtu_flaps();
	test_device_down_up();
	test_netns();
	test_exit_kill(0);
	test_exit_kill(1);
	return kt_exit_status();
}
