// SPDX-License-Identifier: GPL-2.0
/*
 * The code manager: the bound on specialized instances
 * (net.netspec.max_versions), eviction by CLOCK (second chance: a version
 * used since the hand passed it is passed over once) to the generic path
 * with no datagram lost, a lowered bound taking effect at once, a bound of
 * zero, an evicted instance taking a free version again on a later send,
 * and closing tokens freeing instances; each user's share of the
 * versions (net.netspec.max_versions_per_user), counted for the owner of a
 * user namespace whatever ids it maps.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "genl.h"

#define ADU 32
#define LOOPBACK 0x7f000001
#define SYSCTL "/proc/sys/net/netspec/max_versions"
#define PER_USER SYSCTL "_per_user"
#define CLONE_NEWUSER 0x10000000
#define SIGSTOP 19
#define SIGCONT 18
#define PR_SET_DUMPABLE_ 4

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

static long set_uids(int uid)
{
	return netspec_setresuid(uid, uid, uid);
}

static long set_euid(int uid)
{
	return netspec_setresuid(-1, uid, -1);
}

/* A token for fd's peer, customized with uid as the effective uid. */
static int customize_as(int uid, int fd)
{
	struct netspec_customize c = netspec_udp_connected(fd, ADU);
	int t;

	if (set_euid(uid))
		return -1;
	t = netspec_customize(&c);
	set_euid(0);
	return t;
}

/*
 * The child of test_shares(): user 1005 makes a user namespace and, once
 * the parent has mapped uids 0-7 in it to 200000-200007 (and gid 0 to 0),
 * customizes one token for each fd as ids 1, 2 and 3, then, as id 4,
 * makes a namespace of its own in that one, maps itself as its root and
 * customizes a fourth.  All four are charged to 1005, whose share is 2:
 * the third evicts the first, the fourth the second.  Exit status: the bits of the tokens left
 * specialized, or 64 + the step that failed.
 */
static int userns_child(const int *fd)
{
	struct netspec_customize c;
	int i, t[4], bits = 0;

	if (set_uids(1005) || net_unshare(CLONE_NEWUSER))
		return 65;
	kill(getpid(), SIGSTOP);
	for (i = 0; i < 4; i++) {
		if (set_uids(i + 1))
			return 66;
		if (i == 3) {
			if (net_unshare(CLONE_NEWUSER))
				return 67;
			/* Its uid changed, so its /proc files are root's
			 * until it is dumpable again.
			 */
			if (my_syscall2(__NR_prctl, PR_SET_DUMPABLE_, 1) ||
			    write_text("/proc/self/uid_map", "0 4 1\n"))
				return 68;
		}
		c = netspec_udp_connected(fd[i], ADU);
		t[i] = netspec_customize(&c);
		if (t[i] < 0)
			return 69;
	}
	for (i = 0; i < 4; i++)
		bits |= (path_of(t[i]) == NETSPEC_PATH_UDP4) << i;
	return bits;
}

/* Cancels the n tokens of t that were made, and zeroes t. */
static void cancel_all(int *t, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (t[i] > 0)
			netspec_cancel(t[i]);
		t[i] = 0;
	}
}

/* Writes map to /proc/pid/file (uid_map or gid_map), saying so if it fails. */
static void write_id_map(pid_t pid, const char *file, const char *map)
{
	struct kt_buf path = { .n = 0 };

	kt_format(&path, "/proc/%d/%s", pid, file);
	if (write_text(path.s, map))
		kt_line("# cannot write %s", path.s);
}

/*
 * An evicted instance is specialized again by a later send, a second after
 * its eviction at the earliest, and only into a free version: a reclaim
 * evicts nobody.  An instance its guard demoted is not reclaimed.
 */
static void test_reclaim(int rx, int a, int b, int d)
{
	struct netspec_customize c;
	unsigned long long ev0;
	int t0, t1, t2, tos = 0x10;
	long so;

	write_text(SYSCTL, "1");
	c = netspec_udp_connected(a, ADU);
	t0 = netspec_customize(&c);
	c = netspec_udp_connected(b, ADU);
	t1 = netspec_customize(&c);
	/* A free version, but a's eviction is not a second old. */
	write_text(SYSCTL, "2");
	ev0 = evictions();
	kt_result(t0 > 0 && t1 > 0 && path_of(t1) == NETSPEC_PATH_UDP4 &&
		  delivers(t0, rx, 8) && path_of(t0) == NETSPEC_PATH_GENERIC,
		  "an_evicted_instance_is_not_reclaimed_within_a_second",
		  "tokens %d %d paths a=%u b=%u", t0, t1, path_of(t0),
		  path_of(t1));
	/* A second later, with no version free. */
	c = netspec_udp_connected(d, ADU);
	c.policy[NETSPEC_EVENT_SOCKET] = NETSPEC_POLICY_INVALIDATE;
	t2 = netspec_customize(&c);
	net_sleep_ms(1100);
	kt_result(t2 > 0 && path_of(t2) == NETSPEC_PATH_UDP4 &&
		  delivers(t0, rx, 9) && path_of(t0) == NETSPEC_PATH_GENERIC &&
		  path_of(t1) == NETSPEC_PATH_UDP4 &&
		  path_of(t2) == NETSPEC_PATH_UDP4 && evictions() == ev0,
		  "a_reclaim_evicts_nobody",
		  "paths a=%u b=%u d=%u, evictions +%llu", path_of(t0),
		  path_of(t1), path_of(t2), evictions() - ev0);
	/* d's guard invalidates it, which frees a version: the next send
	 * through a reclaims it.
	 */
	so = net_setsockopt(d, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	kt_result(so == 0 && delivers(t2, rx, 10) &&
		  path_of(t2) == NETSPEC_PATH_GENERIC &&
		  delivers(t0, rx, 11) && path_of(t0) == NETSPEC_PATH_UDP4 &&
		  delivers(t0, rx, 12) && path_of(t1) == NETSPEC_PATH_UDP4 &&
		  evictions() == ev0,
		  "an_evicted_instance_takes_a_free_version_on_a_later_send",
		  "setsockopt %s, paths a=%u b=%u d=%u, evictions +%llu",
		  errname(so), path_of(t0), path_of(t1), path_of(t2),
		  evictions() - ev0);
	/* Reclaimed, a's guard is back: the reject policy refuses again. */
	kt_result(net_setsockopt(a, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) ==
		  -EBUSY, "a_reclaimed_instance_guards_again", "path %u",
		  path_of(t0));
	/* A guard's demotion is for good, versions free or not. */
	netspec_cancel(t1);
	net_sleep_ms(1100);
	kt_result(delivers(t2, rx, 13) && path_of(t2) == NETSPEC_PATH_GENERIC,
		  "an_invalidated_instance_is_never_reclaimed", "path %u",
		  path_of(t2));
	netspec_cancel(t0);
	netspec_cancel(t2);
	write_text(SYSCTL, "256");
}

/*
 * Four versions, a share of two.  Free versions are anyone's; once they
 * are taken, a user below its share evicts a user over its share, with
 * nobody over takes the namespace's oldest unused version, a user at its
 * share evicts only its own, and the ids mapped into a user namespace
 * count as its owner.  Where the namespace's hand does not pick, its pick
 * would be another version, so those steps fail on a global clock alone.
 * Nothing sends meanwhile: no version is marked used, so each hand takes
 * the first in its list.
 */
static void test_shares(unsigned short port)
{
	int fd[11], t[11] = { 0 }, i, st = -1;
	unsigned long long ev0;
	long def = read_sysctl(PER_USER);
	pid_t pid;

	for (i = 0; i < 11; i++)
		fd[i] = net_udp_sender(LOOPBACK, port);
	kt_result(def == 64 && write_text(SYSCTL, "4") == 0 &&
		  write_text(PER_USER, "2") == 0 && write_text(PER_USER, "0") == -EINVAL,
		  "max_versions_per_user_is_64_and_takes_1_up",
		  "default %ld", def);

	/* x0 by 1003, then b0-b2 by 1002: free versions are anyone's. */
	ev0 = evictions();
	t[0] = customize_as(1003, fd[0]);
	for (i = 1; i < 4; i++)
		t[i] = customize_as(1002, fd[i]);
	kt_result(path_of(t[0]) == NETSPEC_PATH_UDP4 && path_of(t[1]) == NETSPEC_PATH_UDP4 &&
		  path_of(t[2]) == NETSPEC_PATH_UDP4 && path_of(t[3]) == NETSPEC_PATH_UDP4 &&
		  evictions() == ev0,
		  "while_versions_are_free_a_user_takes_more_than_its_share",
		  "paths 1003: %u, 1002: %u %u %u; evictions +%llu", path_of(t[0]),
		  path_of(t[1]), path_of(t[2]), path_of(t[3]), evictions() - ev0);

	/*
	 * a0 by 1001 evicts b0, the oldest of 1002, which is over its share,
	 * not x0 at the head of the namespace's list (x0 b0 b1 b2).
	 */
	t[4] = customize_as(1001, fd[4]);
	kt_result(path_of(t[4]) == NETSPEC_PATH_UDP4 && path_of(t[1]) == NETSPEC_PATH_GENERIC &&
		  path_of(t[0]) == NETSPEC_PATH_UDP4 && evictions() == ev0 + 1,
		  "a_user_below_its_share_evicts_a_user_over_it",
		  "paths 1001: %u, 1002: b0 %u, 1003: %u; evictions +%llu",
		  path_of(t[4]), path_of(t[1]), path_of(t[0]), evictions() - ev0);

	/* a1 by 1001, nobody over: the namespace's hand takes x0, its oldest. */
	t[5] = customize_as(1001, fd[5]);
	kt_result(path_of(t[5]) == NETSPEC_PATH_UDP4 && path_of(t[0]) == NETSPEC_PATH_GENERIC &&
		  evictions() == ev0 + 2,
		  "with_nobody_over_its_share_the_oldest_unused_version_goes",
		  "paths 1001: %u, x0 %u; evictions +%llu", path_of(t[5]),
		  path_of(t[0]), evictions() - ev0);

	/*
	 * a2 by 1001, at its share, evicts a0, its own oldest, not b1 at the
	 * head of the namespace's list (b1 b2 a0 a1).
	 */
	t[6] = customize_as(1001, fd[6]);
	kt_result(path_of(t[6]) == NETSPEC_PATH_UDP4 && path_of(t[4]) == NETSPEC_PATH_GENERIC &&
		  path_of(t[2]) == NETSPEC_PATH_UDP4 && path_of(t[5]) == NETSPEC_PATH_UDP4 &&
		  evictions() == ev0 + 3,
		  "a_user_at_its_share_evicts_only_its_own_versions",
		  "paths 1001: %u (a0 %u, a1 %u), 1002: b1 %u; evictions +%llu",
		  path_of(t[6]), path_of(t[4]), path_of(t[5]), path_of(t[2]),
		  evictions() - ev0);

	/*
	 * Versions b1 b2 a1 a2.  1005's ids 1 and 2 take b1 and b2 from the
	 * namespace's hand; id 3 finds 1005 at its share and evicts id 1's,
	 * and id 4's namespace's root evicts id 2's.  Were they users of
	 * their own, or were the fourth charged to its own namespace's
	 * owner, the namespace's hand would take a1.
	 */
	pid = fork();
	if (pid == 0)
		exit(userns_child(fd + 7));
	if (pid > 0 && waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st)) {
		/* Its gid, 0, must be mapped for it to nest a namespace. */
		write_id_map(pid, "uid_map", "0 200000 8\n");
		write_id_map(pid, "gid_map", "0 0 1\n");
		kill(pid, SIGCONT);
		waitpid(pid, &st, 0);
	}
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	kt_result(st == 12 && path_of(t[2]) == NETSPEC_PATH_GENERIC &&
		  path_of(t[3]) == NETSPEC_PATH_GENERIC &&
		  path_of(t[5]) == NETSPEC_PATH_UDP4 && path_of(t[6]) == NETSPEC_PATH_UDP4,
		  "ids_mapped_into_a_user_namespace_count_as_its_owner",
		  "child %d (bits of its tokens left specialized, or 64 + a failed step), paths b1 %u b2 %u, a1 %u a2 %u",
		  st, path_of(t[2]), path_of(t[3]), path_of(t[5]), path_of(t[6]));

	cancel_all(t, 11);

	/*
	 * b0 by 1002, then a0-a2 by 1001, within a share of 4.  Lowered to
	 * 2, the share puts 1001 over it at once: c0 by 1003 evicts a0, not
	 * b0 at the head of the namespace's list.
	 */
	ev0 = evictions();
	write_text(PER_USER, "4");
	t[0] = customize_as(1002, fd[0]);
	for (i = 1; i < 4; i++)
		t[i] = customize_as(1001, fd[i]);
	write_text(PER_USER, "2");
	t[4] = customize_as(1003, fd[4]);
	kt_result(path_of(t[4]) == NETSPEC_PATH_UDP4 && path_of(t[1]) == NETSPEC_PATH_GENERIC &&
		  path_of(t[0]) == NETSPEC_PATH_UDP4 && path_of(t[2]) == NETSPEC_PATH_UDP4 &&
		  evictions() == ev0 + 1,
		  "a_lowered_share_takes_effect_at_once",
		  "paths 1003: %u, 1001: a0 %u a1 %u, 1002: b0 %u; evictions +%llu",
		  path_of(t[4]), path_of(t[1]), path_of(t[2]), path_of(t[0]),
		  evictions() - ev0);

	cancel_all(t, 11);
	for (i = 0; i < 11; i++)
		close(fd[i]);
	write_text(PER_USER, "64");
}

int main(void)
{
	struct netspec_customize c;
	unsigned long long ev0;
	int rx, a, b, d, ta, tb, td, t0, t1;
	unsigned short port;

	kt_plan(1, 25);
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
	test_reclaim(rx, a, b, d);
	test_shares(port);
	kt_result(netspec_nl_count_pid(getpid()) == 0,
		  "closing_the_tokens_frees_every_instance",
		  "the netspec family still lists %ld of this process's",
		  netspec_nl_count_pid(getpid()));
	kt_result(write_text(SYSCTL, "256") == 0, "max_versions_restored", "write failed");

	return kt_exit_status();
}
