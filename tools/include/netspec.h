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
 * without CONFIG_NET_SPECIALIZE or without the netspec patches (SO_ADU on a
 * UDP socket fails with ENOPROTOOPT there).
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
#include <sys/socket.h>
#else
#include <asm/socket.h>		/* SOL_SOCKET; nolibc has no <sys/socket.h> */
#endif

#ifndef __NR_netspec
#error "__NR_netspec missing: build against the patched kernel's headers_install"
#endif
#ifndef __NR_customized_send
#error "__NR_customized_send missing: build against the headers_install of a kernel with the whole netspec series"
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

/*
 * NETSPEC_OP_CUSTOMIZE: *c is the context (see <linux/netspec.h>); returns
 * the token (> 0) or -errno.  The kernel also stores the token and the path
 * it chose in c->token and c->path.
 */
static inline long netspec_customize(struct netspec_customize *c)
{
	return netspec_call(NETSPEC_OP_CUSTOMIZE, c, sizeof(*c));
}

/* The context of a connected UDP socket sending adu-byte messages. */
static inline struct netspec_customize netspec_udp_connected(int fd,
							    unsigned int adu)
{
	struct netspec_customize c = { 0 };

	c.fd = fd;
	c.protocol = NETSPEC_PROTO_UDP;
	c.adu = adu;
	return c;
}

#ifdef NETSPEC_INFO_SIZE_VER3
/*
 * The context of a connected TCP socket sending adu-byte messages (0 for
 * any length) to its peer; the instance freezes the connection's MSS
 * (struct netspec_info.mss) and guards it (NETSPEC_EVENT_MSS).
 */
static inline struct netspec_customize netspec_tcp_connected(int fd,
							    unsigned int adu)
{
	struct netspec_customize c = netspec_udp_connected(fd, adu);

	c.protocol = NETSPEC_PROTO_TCP;
	return c;
}
#endif /* NETSPEC_INFO_SIZE_VER3 */

/* The policies came with info's second size; older headers have neither. */
#ifdef NETSPEC_INFO_SIZE_VER1
/*
 * Asks for policy (enum netspec_policy) on event (enum netspec_event) in the
 * context *c; NETSPEC_POLICY_DEFAULT, what a zeroed context has, takes the
 * namespace's default.  Customize fails with -EINVAL for a policy the event
 * does not take and with -EOPNOTSUPP for NETSPEC_POLICY_REINFORCE on a kernel
 * without CONFIG_NETFILTER, and writes back the policies in effect.  0, or
 * -EINVAL for an event or policy that does not fit c->policy.
 */
static inline long netspec_on(struct netspec_customize *c, unsigned int event,
			      unsigned int policy)
{
	if (event >= sizeof(c->policy) || policy > 0xff)
		return -EINVAL;
	c->policy[event] = (__u8)policy;
	return 0;
}
#endif /* NETSPEC_INFO_SIZE_VER1 */

/* NETSPEC_OP_CANCEL: releases token; 0 or -errno (-EBADF if not held). */
static inline long netspec_cancel(unsigned int token)
{
	struct netspec_cancel c = { 0 };

	c.token = token;
	return netspec_call(NETSPEC_OP_CANCEL, &c, sizeof(c));
}

/* NETSPEC_OP_INFO: fills *i for token; 0 or -errno. */
static inline long netspec_info(unsigned int token, struct netspec_info *i)
{
	*i = (struct netspec_info){ 0 };
	i->token = token;
	return netspec_call(NETSPEC_OP_INFO, i, sizeof(*i));
}

/*
 * customized_send(token, buf, len, flags): len bytes through the token's
 * send path; returns len or -errno.  flags is 0 or MSG_DONTWAIT.
 */
static inline long netspec_send(int token, const void *buf, unsigned long len,
				unsigned int flags)
{
#ifdef NOLIBC
	return my_syscall4(__NR_customized_send, token, buf, len, flags);
#else
	long ret = syscall(__NR_customized_send, (long)token, buf, len,
			   (long)flags);

	return ret < 0 ? -errno : ret;
#endif
}

#ifdef NETSPEC_SEND_BATCH
/*
 * customized_send() of a batch: buf holds len / ADU messages of the token's
 * ADU back to back (at most NETSPEC_BATCH_MAX); returns the bytes of the
 * messages sent, which may be fewer than len, or -errno if the first one
 * failed.  flags is 0 or MSG_DONTWAIT.
 */
static inline long netspec_send_batch(int token, const void *buf,
				      unsigned long len, unsigned int flags)
{
	return netspec_send(token, buf, len, flags | NETSPEC_SEND_BATCH);
}
#endif

#ifdef SO_ADU
/*
 * SO_ADU: declares that every message the UDP socket fd sends is adu bytes,
 * 0 for none; a context with adu 0 takes it.  0 or -errno: -EINVAL above
 * 65535, -ENOPROTOOPT for a socket that is not UDP or on a kernel without
 * netspec, -EBUSY if an instance of the socket has the socket policy
 * NETSPEC_POLICY_REJECT.
 *
 * nolibc has no socket calls, so these are the direct system calls, as in
 * the guest programs' own socket helpers: i386 has had them, besides
 * socketcall(), since Linux 4.3.
 */
static inline long netspec_set_adu(int fd, unsigned int adu)
{
	int v = (int)adu;	/* above INT_MAX: negative, so -EINVAL */
#ifdef NOLIBC
	return my_syscall5(__NR_setsockopt, fd, SOL_SOCKET, SO_ADU, &v,
			   sizeof(v));
#else
	return setsockopt(fd, SOL_SOCKET, SO_ADU, &v, sizeof(v)) ? -errno : 0;
#endif
}

/* SO_ADU: the ADU declared on fd (0 for none), or -errno as above. */
static inline long netspec_get_adu(int fd)
{
	int v = 0;
#ifdef NOLIBC
	unsigned int len = sizeof(v);
	long ret = my_syscall5(__NR_getsockopt, fd, SOL_SOCKET, SO_ADU, &v,
			       &len);

	return ret < 0 ? ret : v;
#else
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ADU, &v, &len) ? -errno : v;
#endif
}
#endif /* SO_ADU */

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
	case ENOTSOCK: return "ENOTSOCK";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EPROTOTYPE: return "EPROTOTYPE";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case EMSGSIZE: return "EMSGSIZE";
	case EMFILE: return "EMFILE";
	case EPIPE: return "EPIPE";
	case EAGAIN: return "EAGAIN";
	case EACCES: return "EACCES";
	case ENOBUFS: return "ENOBUFS";
	case ECONNREFUSED: return "ECONNREFUSED";
	default: return "other";
	}
}

#endif /* NETSPEC_HELPER_H */
