// SPDX-License-Identifier: GPL-2.0
/*
 * The code manager: the bound on specialized instances
 * (net.netspec.max_versions), eviction by CLOCK (second chance: a version
 * used since the hand passed it is passed over once) to the generic path
 * with no datagram lost, a lowered bound taking effect at once, a bound of
 * zero, and closing tokens freeing instances.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "genl.h"

#define ADU 32
#define LOOPBACK 0x7f000001
#define SYSCTL "/proc/sys/net/netspec/max_versions"

static unsigned char buf[ADU], got[ADU];

static unsigned long long evictions(void)
{
	struct netspec_nl_stats s;

	return netspec_nl_stats(&s) ? ~0ULL : s.evictions;
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
	int rx, a, b, d, ta, tb, td, t0, t1;
	unsigned short port;

	kt_plan(1, 13);
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

	/* a is used, b is not: the hand passes a over and takes b. */
	kt_result(delivers(ta, rx, 1), "send_through_a", "lost");

	c = netspec_udp_connected(d, ADU);
	td = netspec_customize(&c);
	kt_result(td > 0 && path_of(td) == NETSPEC_PATH_UDP4 &&
		  path_of(ta) == NETSPEC_PATH_UDP4 &&
		  path_of(tb) == NETSPEC_PATH_GENERIC,
		  "third_version_evicts_the_first_unused",
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

	/*
	 * That customize made room by evicting a, the first version the hand
	 * found unused after clearing a's and d's marks; closing its token
	 * left d alone.  Now both versions are used when a third comes: the
	 * hand clears both marks, goes round once, and takes the first in its
	 * list, d.
	 */
	c = netspec_udp_connected(b, ADU);
	t1 = netspec_customize(&c);
	kt_result(t1 > 0 && delivers(td, rx, 6) && delivers(t1, rx, 7),
		  "send_through_two_versions", "lost");
	c = netspec_udp_connected(a, ADU);
	t0 = netspec_customize(&c);
	kt_result(t0 > 0 && c.path == NETSPEC_PATH_UDP4 &&
		  path_of(td) == NETSPEC_PATH_GENERIC &&
		  path_of(t1) == NETSPEC_PATH_UDP4,
		  "all_used_evicts_the_first_after_a_turn",
		  "paths d=%u b=%u new a=%u", path_of(td), path_of(t1), c.path);

	/* A lowered bound evicts at once, in the writer's context. */
	ev0 = evictions();
	write_text(SYSCTL, "1");
	kt_result(evictions() == ev0 + 1 &&
		  (path_of(t0) == NETSPEC_PATH_GENERIC) +
		  (path_of(t1) == NETSPEC_PATH_GENERIC) == 1,
		  "lowered_bound_evicts_at_once",
		  "evictions +%llu, paths b=%u a=%u", evictions() - ev0,
		  path_of(t1), path_of(t0));
	netspec_cancel(t0);
	netspec_cancel(t1);

	write_text(SYSCTL, "0");
	c = netspec_udp_connected(b, ADU);
	t0 = netspec_customize(&c);
	kt_result(t0 > 0 && c.path == NETSPEC_PATH_GENERIC && delivers(t0, rx, 5),
		  "bound_of_zero_gives_the_generic_path", "path %u", c.path);
	netspec_cancel(t0);

	netspec_cancel(ta);
	netspec_cancel(tb);
	netspec_cancel(td);
	kt_result(netspec_nl_count_pid(getpid()) == 0,
		  "closing_the_tokens_frees_every_instance",
		  "the netspec family still lists %ld of this process's",
		  netspec_nl_count_pid(getpid()));
	kt_result(write_text(SYSCTL, "256") == 0, "max_versions_restored", "write failed");

	return kt_exit_status();
}
