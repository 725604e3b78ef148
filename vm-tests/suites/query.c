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

	kt_plan(1, 11);

	memset(&q, 0xa5, sizeof(q));
	q.flags = 0;
	q.__reserved = 0;
	r = netspec_raw(NETSPEC_OP_QUERY, &q, sizeof(q));
	kt_result(r == 0 && q.abi_version == NETSPEC_ABI_VERSION &&
		  q.size == sizeof(q), "query_reports_abi_version_and_size",
		  "r=%s abi_version=%u size=%u", errname(r), q.abi_version,
		  q.size);
	kt_result(r == 0 && (q.ops & (1ULL << NETSPEC_OP_QUERY)),
		  "query_lists_itself_in_ops", "ops=%llx",
		  (unsigned long long)q.ops);
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
		  ((struct netspec_query *)big)->size == sizeof(q),
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

	return kt_exit_status();
}
