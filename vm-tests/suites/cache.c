// SPDX-License-Identifier: GPL-2.0
/*
 * The code manager: the bound on specialized instances
 * (net.netspec.max_versions), least-recently-used eviction to the generic
 * path with no datagram lost, a bound of zero, and cancel freeing
 * instances.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"

#define ADU 32
#define LOOPBACK 0x7f000001
#define SYSCTL "/proc/sys/net/netspec/max_versions"

static unsigned char buf[ADU], got[ADU];

static unsigned long long evictions(void)
{
	static char text[8192];
	char *p;

	if (read_text("/proc/net/netspec", text, sizeof(text)) < 0)
		return ~0ULL;
	p = find(text, "evictions ");
	return p ? parse_uint(p + 10) : ~0ULL;
}

static unsigned int path_of(int token)
{
	struct netspec_info i;

	return netspec_info(token, &i) ? ~0U : i.path;
}

/* One datagram through token arrives at rx intact. */
static int delivers(int token, int rx, unsigned char mark)
{
	memset(buf, mark, sizeof(buf));
	if (netspec_send(token, buf, ADU, 0) != ADU)
		return 0;
	if (net_wait_readable(rx, 1000) <= 0)
		return 0;
	return net_recvfrom(rx, got, sizeof(got), MSG_DONTWAIT, NULL, NULL) ==
	       ADU && !memcmp(buf, got, ADU);
}

int main(void)
{
	struct netspec_customize c;
	unsigned long long ev0;
	int rx, a, b, d, ta, tb, td, t0;
	unsigned short port;

	kt_plan(1, 10);
	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	if (rx < 0) {
		kt_line("# cannot set up the receiver");
		return 1;
	}
	a = net_udp_sender(LOOPBACK, port);
	b = net_udp_sender(LOOPBACK, port);
	d = net_udp_sender(LOOPBACK, port);

	kt_result(write_text(SYSCTL, "2") == 0, "max_versions_is_writable",
		  "cannot write 2 to " SYSCTL);
	ev0 = evictions();

	c = netspec_udp_connected(a, ADU);
	ta = netspec_customize(&c);
	c = netspec_udp_connected(b, ADU);
	tb = netspec_customize(&c);
	kt_result(ta > 0 && tb > 0 && path_of(ta) == NETSPEC_PATH_UDP4 &&
		  path_of(tb) == NETSPEC_PATH_UDP4, "two_versions_fit_a_bound_of_2",
		  "tokens %d %d paths %u %u", ta, tb, path_of(ta), path_of(tb));

	/* a is used after b was made: b is the least recently used. */
	net_sleep_ms(50);
	kt_result(delivers(ta, rx, 1), "send_through_a", "lost");
	net_sleep_ms(50);

	c = netspec_udp_connected(d, ADU);
	td = netspec_customize(&c);
	kt_result(td > 0 && path_of(td) == NETSPEC_PATH_UDP4 &&
		  path_of(ta) == NETSPEC_PATH_UDP4 &&
		  path_of(tb) == NETSPEC_PATH_GENERIC,
		  "third_version_evicts_the_least_recently_used",
		  "paths a=%u b=%u d=%u", path_of(ta), path_of(tb), path_of(td));
	kt_result(evictions() == ev0 + 1, "eviction_is_counted",
		  "evictions %llu, expected %llu", evictions(), ev0 + 1);
	kt_result(delivers(tb, rx, 2) && delivers(ta, rx, 3) &&
		  delivers(td, rx, 4), "evicted_and_kept_tokens_all_deliver",
		  "a datagram was lost");

	/* A new token for b's context makes a new, specialized instance. */
	c = netspec_udp_connected(b, ADU);
	t0 = netspec_customize(&c);
	kt_result(t0 > 0 && c.path == NETSPEC_PATH_UDP4 &&
		  path_of(tb) == NETSPEC_PATH_GENERIC,
		  "evicted_context_customizes_anew", "path %u, old %u", c.path,
		  path_of(tb));
	netspec_cancel(t0);

	write_text(SYSCTL, "0");
	c = netspec_udp_connected(b, ADU);
	t0 = netspec_customize(&c);
	kt_result(t0 > 0 && c.path == NETSPEC_PATH_GENERIC && delivers(t0, rx, 5),
		  "bound_of_zero_gives_the_generic_path", "path %u", c.path);
	netspec_cancel(t0);

	netspec_cancel(ta);
	netspec_cancel(tb);
	netspec_cancel(td);
	kt_result(netspec_proc_has_pid(getpid()) == 0, "cancel_frees_every_instance",
		  "/proc/net/netspec still lists this process");
	kt_result(write_text(SYSCTL, "256") == 0, "max_versions_restored", "write failed");

	return kt_exit_status();
}
