// SPDX-License-Identifier: GPL-2.0
/*
 * NETSPEC_OP_QUERY: what it reports, and every error of the argument
 * handling that all netspec() operations share.
 */
#include "ktap.h"
#include "netspec_raw.h"

#define PAGE 4096

/* A buffer bigger than any struct, page-aligned so tests can aim at its end. */
static unsigned char big[2 * PAGE] __attribute__((aligned(PAGE)));

/* Expect err from the call; name the test and say what came instead. */
static int expect(long got, long want, const char *name)
{
	return kt_result(got == want, name, "expected %s (%ld), got %s (%ld)",
			 errname(want), want, errname(got), got);
}

int main(void)
{
	struct netspec_query q;
	long r;
	unsigned int i;
	int tail_zero;

	kt_plan(1, 15);

	/* Every output field is written, whatever the caller left in it. */
	memset(&q, 0xa5, sizeof(q));
	q.flags = 0;
	r = netspec_raw(NETSPEC_OP_QUERY, &q, sizeof(q));
	kt_result(r == 0 && q.ops == ((1ULL << NETSPEC_OP_QUERY) |
				      (1ULL << NETSPEC_OP_CUSTOMIZE) |
				      (1ULL << NETSPEC_OP_INFO)),
		  "query_lists_the_three_ops", "r=%s ops=%llx", errname(r),
		  (unsigned long long)q.ops);
	kt_result(r == 0 && q.paths == ((1ULL << NETSPEC_PATH_GENERIC) |
					(1ULL << NETSPEC_PATH_UDP4) |
					(1ULL << NETSPEC_PATH_TCP)),
		  "query_reports_the_paths", "paths=%llx",
		  (unsigned long long)q.paths);
	kt_result(r == 0 && q.send_flags == (NETSPEC_SEND_DONTWAIT |
					     NETSPEC_SEND_BATCH) &&
		  q.batch_max == NETSPEC_BATCH_MAX,
		  "query_reports_send_flags_and_batch_max",
		  "send_flags=%llx batch_max=%u",
		  (unsigned long long)q.send_flags, q.batch_max);
	/* The guest is root: it may ask for every policy the kernel has. */
	kt_result(r == 0 &&
		  q.policies[NETSPEC_EVENT_SOCKET] ==
		  ((1 << NETSPEC_POLICY_REJECT) | (1 << NETSPEC_POLICY_INVALIDATE) |
		   (1 << NETSPEC_POLICY_RESPECIALIZE)) &&
		  q.policies[NETSPEC_EVENT_ROUTE] ==
		  ((1 << NETSPEC_POLICY_INVALIDATE) |
		   (1 << NETSPEC_POLICY_RESPECIALIZE) |
		   (1 << NETSPEC_POLICY_REINFORCE)) &&
		  q.policies[NETSPEC_EVENT_MSS] ==
		  ((1 << NETSPEC_POLICY_INVALIDATE) |
		   (1 << NETSPEC_POLICY_RESPECIALIZE) |
		   (1 << NETSPEC_POLICY_REINFORCE)) &&
		  !q.policies[3] && !q.policies[7],
		  "query_reports_each_events_policies",
		  "socket %x route %x mss %x", q.policies[0], q.policies[1],
		  q.policies[2]);
	kt_result(r == 0 && q.protocols == ((1ULL << NETSPEC_PROTO_UDP) |
					    (1ULL << NETSPEC_PROTO_TCP)),
		  "query_reports_udp_and_tcp", "protocols=%llx",
		  (unsigned long long)q.protocols);

	/* A newer, larger struct whose extra bytes are zero is accepted. */
	memset(big, 0, sizeof(big));
	r = netspec_raw(NETSPEC_OP_QUERY, big, 64);
	tail_zero = 1;
	for (i = sizeof(q); i < 64; i++)
		tail_zero &= big[i] == 0;
	kt_result(r == 0 && tail_zero &&
		  ((struct netspec_query *)big)->ops == q.ops,
		  "larger_struct_with_zero_tail_accepted", "r=%s tail_zero=%d",
		  errname(r), tail_zero);

	memset(big, 0, sizeof(big));
	big[sizeof(q) + 5] = 1;
	expect(netspec_raw(NETSPEC_OP_QUERY, big, 64), -E2BIG,
	       "larger_struct_with_nonzero_tail_is_E2BIG");

	expect(netspec_raw(NETSPEC_OP_QUERY, big, PAGE + 1), -E2BIG,
	       "struct_over_a_page_is_E2BIG");

	memset(&q, 0, sizeof(q));
	expect(netspec_raw(NETSPEC_OP_QUERY, &q, NETSPEC_QUERY_SIZE_VER0 - 8),
	       -EINVAL, "short_struct_is_EINVAL");

	q.flags = 1;
	expect(netspec_raw(NETSPEC_OP_QUERY, &q, sizeof(q)), -EINVAL,
	       "nonzero_flags_is_EINVAL");

	expect(netspec_raw(NETSPEC_OP_QUERY, (void *)16, sizeof(q)), -EFAULT,
	       "bad_pointer_is_EFAULT");

	/* An address userspace may not touch: the top of the address space. */
	expect(netspec_raw(NETSPEC_OP_QUERY, (void *)-8L, sizeof(q)), -EFAULT,
	       "pointer_into_kernel_space_is_EFAULT");

	memset(&q, 0, sizeof(q));
	expect(netspec_raw(0x7fff, &q, sizeof(q)), -EOPNOTSUPP,
	       "unknown_op_is_EOPNOTSUPP");
	/* The op is looked at first: an unknown one with any size. */
	expect(netspec_raw(0x7fff, big, PAGE + 1), -EOPNOTSUPP,
	       "unknown_op_is_EOPNOTSUPP_before_E2BIG");
	/* Cancel was an op of an unreleased ABI: close() releases a token. */
	expect(netspec_raw(3, &q, sizeof(q)), -EOPNOTSUPP,
	       "there_is_no_cancel_op");

	return kt_exit_status();
}
