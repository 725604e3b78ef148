/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * The netspec() system call for C programs, header only, with a libc or with
 * the kernel's nolibc (detected by its NOLIBC macro, so nolibc.h must come
 * first, e.g. with -include).
 *
 * Every call returns what the kernel returned: 0 on success, -errno on
 * failure, so that callers compare exact error codes without errno (a libc's
 * syscall() still sets errno as a side effect).  The errnos every operation
 * shares are documented in <linux/netspec.h>; ENOSYS means a kernel built
 * without CONFIG_NET_SPECIALIZE or without the netspec patches.
 *
 * Build against the UAPI headers of a patched kernel (make headers_install),
 * which provide <linux/netspec.h> and __NR_netspec.
 */
#ifndef NETSPEC_HELPER_H
#define NETSPEC_HELPER_H

#include <linux/netspec.h>
#include <asm/unistd.h>

#ifndef NOLIBC
#include <errno.h>
#include <unistd.h>
#endif

#ifndef __NR_netspec
#error "__NR_netspec missing: build against the patched kernel's headers_install"
#endif

/* netspec(op, arg, size): the raw call, for any operation. */
static inline long netspec_call(unsigned int op, void *arg, unsigned long size)
{
#ifdef NOLIBC
	return my_syscall3(__NR_netspec, op, arg, size);
#else
	/* Full-width arguments: syscall() reads each one as a long. */
	long ret = syscall(__NR_netspec, (long)op, arg, size);

	return ret < 0 ? -errno : ret;
#endif
}

/*
 * NETSPEC_OP_QUERY: zeroes *q (flags and __reserved must be zero), then lets
 * the kernel fill in its ABI version, operations, protocols and struct size.
 */
static inline long netspec_query(struct netspec_query *q)
{
	*q = (struct netspec_query){ 0 };
	return netspec_call(NETSPEC_OP_QUERY, q, sizeof(*q));
}

/* Whether a successful query lists operation op (enum netspec_op). */
static inline int netspec_supports(const struct netspec_query *q, unsigned int op)
{
	return op < 64 && ((q->ops >> op) & 1);
}

/* Whether a successful query lists protocol proto (enum netspec_proto). */
static inline int netspec_can_specialize(const struct netspec_query *q,
					 unsigned int proto)
{
	return proto < 64 && ((q->protocols >> proto) & 1);
}

/* The name of a netspec_*() result (0 or -errno), for messages. */
static inline const char *netspec_errname(long ret)
{
	switch (-ret) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "other";
	}
}

#endif /* NETSPEC_HELPER_H */
