// SPDX-License-Identifier: GPL-2.0
/*
 * Batches through customized_send(NETSPEC_SEND_BATCH), over loopback: every
 * message of a batch arrives whole and in order, on the specialized and on
 * the generic path; bad lengths and flags fail with EINVAL and send
 * nothing; a batch that faults part way returns the bytes of the messages
 * before the fault, and exactly those arrive.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"

#define ADU 64
#define PAGE 4096
#define PER_CALL 50
#define CALLS 20
#define LOOPBACK 0x7f000001
#define SO_RCVBUFFORCE 33
#define MAX_VERSIONS "/proc/sys/net/netspec/max_versions"

static unsigned char buf[NETSPEC_BATCH_MAX * ADU], got[2048];
/* A page that can be read, then one that is unmapped. */
static unsigned char area[3 * PAGE] __attribute__((aligned(PAGE)));
#define HOLE (area + PAGE)

static int rx;
static unsigned short port;

/* Receives n datagrams that must be messages first..first+n-1, in order;
 * how many were right.
 */
static unsigned int receive_in_order(unsigned int first, unsigned int n)
{
	unsigned char want[ADU];
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (net_wait_readable(rx, 1000) != 1 ||
		    net_recvfrom(rx, got, sizeof(got), MSG_DONTWAIT, NULL,
				 NULL) != ADU)
			break;
		net_fill(want, ADU, first + i);
		if (memcmp(want, got, ADU))
			break;
	}
	return i;
}

/* Whether the receiver stays empty: the failed call sent nothing. */
static int nothing_arrives(void)
{
	return net_wait_readable(rx, 50) == 0;
}

static long customize(int fd, unsigned int adu)
{
	struct netspec_customize c = netspec_udp_connected(fd, adu);

	return netspec_customize(&c);
}

/* CALLS batches of PER_CALL messages, then the largest batch. */
static void test_in_order(const char *name, unsigned int path)
{
	int fd = net_udp_sender(LOOPBACK, port);
	long t = customize(fd, ADU), r;
	unsigned int call, i, ok = 0, seq = 0, returned = 0;
	struct netspec_info info;

	for (call = 0; call < CALLS && t > 0; call++) {
		for (i = 0; i < PER_CALL; i++)
			net_fill(buf + i * ADU, ADU, seq + i);
		r = netspec_send_batch(t, buf, PER_CALL * ADU, 0);
		returned += r == PER_CALL * ADU;
		ok += receive_in_order(seq, PER_CALL);
		seq += PER_CALL;
	}
	for (i = 0; i < NETSPEC_BATCH_MAX; i++)
		net_fill(buf + i * ADU, ADU, seq + i);
	r = t > 0 ? netspec_send_batch(t, buf, NETSPEC_BATCH_MAX * ADU, 0) :
		    -EBADF;
	ok += receive_in_order(seq, NETSPEC_BATCH_MAX);
	info = netspec_info_of(t);
	kt_line("# %s: %u of %u batches of %d returned their length, the largest batch returned %ld, %u of %u messages arrived in order; sends %llu, fallbacks %llu",
		name, returned, CALLS, PER_CALL, r, ok,
		CALLS * PER_CALL + NETSPEC_BATCH_MAX, info.sends,
		info.fallbacks);
	kt_result(t > 0 && info.path == path && returned == CALLS &&
		  r == NETSPEC_BATCH_MAX * ADU &&
		  ok == CALLS * PER_CALL + NETSPEC_BATCH_MAX &&
		  info.sends == ok && info.fallbacks == 0 && nothing_arrives(),
		  name, "path %u, token %ld", info.path, t);
	netspec_cancel(t);
	close(fd);
}

static void test_bad_input(void)
{
	int fd = net_udp_sender(LOOPBACK, port);
	long t = customize(fd, ADU), any = customize(fd, 0);
	long r[6];
	int i, ok = t > 0 && any > 0;

	r[0] = netspec_send_batch(t, buf, 0, 0);
	r[1] = netspec_send_batch(t, buf, 3 * ADU + 1, 0);
	r[2] = netspec_send_batch(t, buf, ADU - 1, 0);
	r[3] = netspec_send_batch(t, buf, (NETSPEC_BATCH_MAX + 1) * ADU, 0);
	r[4] = netspec_send_batch(any, buf, 2 * ADU, 0);	/* no ADU */
	r[5] = netspec_send(t, buf, 2 * ADU, NETSPEC_SEND_BATCH | MSG_DONTWAIT);
	for (i = 0; i < 6; i++)
		ok &= r[i] == -EINVAL;
	kt_result(ok && nothing_arrives(), "bad_lengths_and_flags_are_einval",
		  "%s %s %s %s %s %s", errname(r[0]), errname(r[1]),
		  errname(r[2]), errname(r[3]), errname(r[4]), errname(r[5]));
	r[0] = netspec_send_batch(t + 100, buf, 2 * ADU, 0);
	r[1] = netspec_send_batch(0, buf, 2 * ADU, 0);
	kt_result(r[0] == -EBADF && r[1] == -EBADF && nothing_arrives(),
		  "bad_tokens_are_ebadf", "%s %s", errname(r[0]),
		  errname(r[1]));
	netspec_cancel(t);
	netspec_cancel(any);
	close(fd);
}

/*
 * Ten messages fit in the readable page before the hole, the eleventh
 * starts in it: the call returns ten messages' bytes and ten arrive.  A
 * batch that starts in the hole fails with EFAULT and sends nothing.
 */
static void test_fault_part_way(void)
{
	int fd = net_udp_sender(LOOPBACK, port);
	long t = customize(fd, ADU), r, first;
	unsigned char *start = HOLE - 10 * ADU;
	unsigned int i, n;

	for (i = 0; i < 10; i++)
		net_fill(start + i * ADU, ADU, i);
	r = netspec_send_batch(t, start, 20 * ADU, 0);
	n = receive_in_order(0, 10);
	kt_result(t > 0 && r == 10 * ADU && n == 10 && nothing_arrives(),
		  "fault_part_way_returns_what_was_sent",
		  "returned %ld, %u arrived", r, n);
	first = netspec_send_batch(t, HOLE, 2 * ADU, 0);
	kt_result(first == -EFAULT && nothing_arrives(),
		  "fault_on_the_first_message_is_efault", "%s",
		  errname(first));
	netspec_cancel(t);
	close(fd);
}

int main(void)
{
	int size = 8 << 20;
	long r;

	kt_plan(1, 6);
	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	if (rx < 0 || munmap(HOLE, PAGE)) {
		kt_line("# cannot set up the receiver or the hole");
		return 1;
	}
	net_setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));

	test_in_order("specialized_batches_arrive_in_order", NETSPEC_PATH_UDP4);
	/* With no room for specialized instances, tokens take the generic
	 * path, and batches go through it one message at a time.
	 */
	r = write_text(MAX_VERSIONS, "0");
	if (r)
		kt_line("# cannot write %s: %s", MAX_VERSIONS, errname(r));
	test_in_order("generic_batches_arrive_in_order", NETSPEC_PATH_GENERIC);
	write_text(MAX_VERSIONS, "256");
	test_bad_input();
	test_fault_part_way();
	return kt_exit_status();
}
