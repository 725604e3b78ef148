/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The netspec() system call for nolibc guest programs: the raw call, which
 * returns -errno, so that tests compare exact error codes.
 */
#ifndef NETSPEC_RAW_H
#define NETSPEC_RAW_H

#include <linux/netspec.h>
#include <asm/unistd.h>

#ifndef __NR_netspec
#error "__NR_netspec missing: build against the patched kernel's headers_install"
#endif

static long netspec_raw(unsigned int op, void *arg, unsigned long size)
{
	return my_syscall3(__NR_netspec, op, arg, size);
}

/* errno names for diagnostics */
static __attribute__((unused)) const char *errname(long err)
{
	switch (-err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "other";
	}
}

#endif /* NETSPEC_RAW_H */
