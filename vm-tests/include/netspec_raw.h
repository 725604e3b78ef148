/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The netspec() system call for guest programs: the raw call, which returns
 * -errno, so that tests compare exact error codes.  The names the suites use,
 * over the helper C programs get (tools/include/netspec.h).
 */
#ifndef NETSPEC_RAW_H
#define NETSPEC_RAW_H

#include "netspec.h"

static inline long netspec_raw(unsigned int op, void *arg, unsigned long size)
{
	return netspec_call(op, arg, size);
}

/*
 * NETSPEC_OP_INFO of token; on failure a struct of 0xff bytes, which no
 * expected count or path matches.
 */
static inline struct netspec_info netspec_info_of(int token)
{
	struct netspec_info i;

	if (netspec_info(token, &i))
		memset(&i, 0xff, sizeof(i));
	return i;
}

/* errno names for diagnostics */
static inline const char *errname(long err)
{
	return netspec_errname(err);
}

#endif /* NETSPEC_RAW_H */
