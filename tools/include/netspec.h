/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * The netspec() and customized_send() system calls for C programs, header
 * only, with a libc or with the kernel's nolibc (detected by its NOLIBC
 * macro, so nolibc.h must come first, e.g. with -include).
 *
 * Every call returns what the kernel returned: a value >= 0 on success,
 * -errno on failure, so that callers compare exact error codes without
 * errno (a libc's syscall() still sets errno as a side effect).  The errnos
 * are documented in <linux/netspec.h> and the series'
 * Documentation/networking/netspec.rst; ENOSYS means a kernel built without
 * CONFIG_NET_SPECIALIZE or without the netspec patches (SO_ADU on a UDP
 * socket fails with ENOPROTOOPT there).
 *
 * A token is a file descriptor: netspec_customize() returns it, and
 * netspec_close() (close()) releases it.  Like any descriptor it is shared
 * by the threads of a process, inherited by fork(), passed with SCM_RIGHTS,
 * and closed by exec (it is opened O_CLOEXEC).  Once its socket is closed,
 * its sends and netspec_info() fail with -EPIPE; closing it is still what
 * releases it.
 *
 *	struct netspec_customize c = netspec_udp_connected(fd, 64);
 *	int token = netspec_customize(&c);	// c.path: the path it took
 *	netspec_send(token, buf, 64, 0);
 *	netspec_close(token);
 *
 * Build against the UAPI headers of a patched kernel (make headers_install),
 * which provide <linux/netspec.h> and __NR_netspec.
 */
#ifndef NETSPEC_HELPER_H
#define NETSPEC_HELPER_H

#include <linux/netspec.h>
#include <asm/unistd.h>
#include <asm/socket.h>		/* SOL_SOCKET, SO_ADU */

#ifndef NOLIBC
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#else
#ifndef AF_INET
#define AF_INET 2		/* the UAPI headers leave them to the libc */
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#endif

#ifndef NETSPEC_POLICY_SLOTS
#error "<linux/netspec.h> is not the one this helper speaks (tokens as descriptors): build against the headers_install of a kernel with the netspec series"
#endif
#ifndef __NR_netspec
#error "__NR_netspec missing: build against the patched kernel's headers_install"
#endif
#ifndef __NR_customized_send
#error "__NR_customized_send missing: build against the headers_install of a kernel with the whole netspec series"
#endif

#ifndef SO_ADU
/*
 * The series defines SO_ADU in <asm/socket.h>, with this number on every
 * architecture; headers older than it (a libc's copy of the kernel
 * headers, say) lack it.  A kernel without netspec fails it with
 * ENOPROTOOPT, so the number is safe to use on any kernel.
 */
#define SO_ADU	0x4e53
#endif

#ifdef NOLIBC
/* nolibc renamed my_syscallN() to __nolibc_syscallN() after Linux 6.12. */
#ifdef __nolibc_syscall1
#define netspec_syscall1 __nolibc_syscall1
#define netspec_syscall3 __nolibc_syscall3
#define netspec_syscall4 __nolibc_syscall4
#define netspec_syscall5 __nolibc_syscall5
#else
#define netspec_syscall1 my_syscall1
#define netspec_syscall3 my_syscall3
#define netspec_syscall4 my_syscall4
#define netspec_syscall5 my_syscall5
#endif
#endif

/* netspec(op, arg, size): the raw call, for any operation. */
static inline long netspec_call(unsigned int op, void *arg, unsigned long size)
{
#ifdef NOLIBC
	return netspec_syscall3(__NR_netspec, op, arg, size);
#else
	/* Full-width arguments: syscall() reads each one as a long. */
	long ret = syscall(__NR_netspec, (long)op, arg, size);

	return ret < 0 ? -errno : ret;
#endif
}

/*
 * NETSPEC_OP_QUERY: zeroes *q (flags must be zero), then lets the kernel
 * fill in what it supports.  0 or -errno.
 */
static inline long netspec_query(struct netspec_query *q)
{
	*q = (struct netspec_query){ 0 };
	return netspec_call(NETSPEC_OP_QUERY, q, sizeof(*q));
}

static inline int netspec_bit(__u64 bits, unsigned int n)
{
	return n < 64 && ((bits >> n) & 1);
}

/* Whether a successful query lists operation op (enum netspec_op). */
static inline int netspec_supports(const struct netspec_query *q, unsigned int op)
{
	return netspec_bit(q->ops, op);
}

/* Whether a successful query lists protocol proto (enum netspec_proto). */
static inline int netspec_can_specialize(const struct netspec_query *q,
					 unsigned int proto)
{
	return netspec_bit(q->protocols, proto);
}

/* Whether a successful query lists path (enum netspec_path). */
static inline int netspec_has_path(const struct netspec_query *q,
				   unsigned int path)
{
	return netspec_bit(q->paths, path);
}

/*
 * Whether customized_send() takes every flag of flags
 * (enum netspec_send_flags), by a successful query.
 */
static inline int netspec_takes_send_flags(const struct netspec_query *q,
					   __u64 flags)
{
	return (q->send_flags & flags) == flags;
}

/*
 * Whether event (enum netspec_event) takes policy (enum netspec_policy)
 * from this caller, by a successful query.  NETSPEC_POLICY_DEFAULT is
 * always taken and never listed.  NETSPEC_POLICY_REINFORCE of
 * NETSPEC_EVENT_ROUTE is listed only for a caller with CAP_NET_ADMIN in its
 * network namespace and on a kernel with CONFIG_NETFILTER.
 */
static inline int netspec_takes_policy(const struct netspec_query *q,
				       unsigned int event, unsigned int policy)
{
	return event < NETSPEC_POLICY_SLOTS && policy < 8 &&
	       ((q->policies[event] >> policy) & 1);
}

/*
 * NETSPEC_OP_CUSTOMIZE: *c is the context (see <linux/netspec.h>); returns
 * the token, a new descriptor (O_CLOEXEC), or -errno.  The kernel also
 * stores the token, the path it chose, the ADU and the policies in effect
 * in *c.
 */
static inline int netspec_customize(struct netspec_customize *c)
{
	return (int)netspec_call(NETSPEC_OP_CUSTOMIZE, c, sizeof(*c));
}

/*
 * The context of a connected UDP socket sending adu-byte messages to its
 * peer (0 takes the socket's SO_ADU, and without one any length on the
 * generic path), with the namespace's default policies.
 */
static inline struct netspec_customize netspec_udp_connected(int fd,
							    unsigned int adu)
{
	struct netspec_customize c = { 0 };

	c.fd = fd;
	c.protocol = NETSPEC_PROTO_UDP;
	c.adu = adu;
	return c;
}

/*
 * The context of a UDP socket, connected or not, sending adu-byte messages
 * to the IPv4 address addr and port, both in network byte order as in a
 * struct sockaddr_in: what sendto() to that address would send.
 */
static inline struct netspec_customize
netspec_udp_to_ipv4(int fd, unsigned int adu, __u32 addr, __u16 port)
{
	struct netspec_customize c = netspec_udp_connected(fd, adu);

	c.family = AF_INET;
	c.port = port;
	memcpy(c.addr, &addr, sizeof(addr));
	return c;
}

/*
 * The context of an IPv6 UDP socket, connected or not, sending adu-byte
 * messages to the IPv6 address addr (16 bytes, as in a struct in6_addr)
 * and port, in network byte order: what sendto() to that address would
 * send.  A v4-mapped address (::ffff:a.b.c.d) on a socket that is not
 * IPv6-only takes the specialized UDP/IPv4 path.
 */
static inline struct netspec_customize
netspec_udp_to_ipv6(int fd, unsigned int adu, const void *addr, __u16 port)
{
	struct netspec_customize c = netspec_udp_connected(fd, adu);

	c.family = AF_INET6;
	c.port = port;
	memcpy(c.addr, addr, 16);
	return c;
}

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

/*
 * Asks for policy (enum netspec_policy) on event (enum netspec_event) in the
 * context *c; NETSPEC_POLICY_DEFAULT, what a zeroed context has, takes the
 * namespace's default.  Customize fails with -EINVAL for a policy the event
 * does not take, with -EPERM for NETSPEC_POLICY_REINFORCE of
 * NETSPEC_EVENT_ROUTE without CAP_NET_ADMIN in the socket's network
 * namespace and with -EOPNOTSUPP for it on a kernel without
 * CONFIG_NETFILTER, and writes back the policies in effect.  0, or -EINVAL
 * for an event or policy that does not fit c->policy.
 */
static inline long netspec_on(struct netspec_customize *c, unsigned int event,
			      unsigned int policy)
{
	if (event >= NETSPEC_POLICY_SLOTS || policy > 0xff)
		return -EINVAL;
	c->policy[event] = (__u8)policy;
	return 0;
}

/*
 * Releases a token: close(); the instance goes with its last token.
 * 0 or -errno (-EBADF for a descriptor that is not open).
 */
static inline long netspec_close(int token)
{
#ifdef NOLIBC
	return netspec_syscall1(__NR_close, token);
#else
	return close(token) ? -errno : 0;
#endif
}

/* The papers' name for netspec_close(). */
static inline long netspec_cancel(int token)
{
	return netspec_close(token);
}

/*
 * NETSPEC_OP_INFO: fills *i for token; 0 or -errno (-EBADF for a
 * descriptor that is not a token, -EPIPE once its socket is closed).
 */
static inline long netspec_info(int token, struct netspec_info *i)
{
	*i = (struct netspec_info){ 0 };
	i->token = token;
	return netspec_call(NETSPEC_OP_INFO, i, sizeof(*i));
}

/*
 * customized_send(token, buf, len, flags): len bytes through the token's
 * send path; returns the bytes sent or -errno.  flags are
 * enum netspec_send_flags (NETSPEC_SEND_DONTWAIT), not MSG_* flags:
 * anything else is -EINVAL.  -EINVAL also for a len other than the
 * instance's ADU; -EBADF for a descriptor that is not a token; -EPIPE once
 * the token's socket is closed; otherwise as send() on the socket.
 */
static inline long netspec_send(int token, const void *buf, unsigned long len,
				unsigned int flags)
{
#ifdef NOLIBC
	return netspec_syscall4(__NR_customized_send, token, buf, len, flags);
#else
	long ret = syscall(__NR_customized_send, (long)token, buf, len,
			   (long)flags);

	return ret < 0 ? -errno : ret;
#endif
}

/*
 * customized_send() of a batch: buf holds len / ADU messages of the token's
 * ADU back to back (at most NETSPEC_BATCH_MAX); returns the bytes of the
 * messages sent, which may be fewer than len, or -errno if the first one
 * failed.  flags is 0 or NETSPEC_SEND_DONTWAIT.  On a specialized UDP
 * token of a connected socket, the messages go as UDP GSO packets of up to
 * 64, whose datagrams are those send() would send.
 */
static inline long netspec_send_batch(int token, const void *buf,
				      unsigned long len, unsigned int flags)
{
	return netspec_send(token, buf, len, flags | NETSPEC_SEND_BATCH);
}

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
	return netspec_syscall5(__NR_setsockopt, fd, SOL_SOCKET, SO_ADU, &v,
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
	long ret = netspec_syscall5(__NR_getsockopt, fd, SOL_SOCKET, SO_ADU,
				    &v, &len);

	return ret < 0 ? ret : v;
#else
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ADU, &v, &len) ? -errno : v;
#endif
}

/* The name of a netspec_*() result (0 or -errno), for messages. */
static inline const char *netspec_errname(long ret)
{
	switch (-ret) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case EPIPE: return "EPIPE";
	case E2BIG: return "E2BIG";
	case ENOSYS: return "ENOSYS";
	case ENOTSOCK: return "ENOTSOCK";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case EMSGSIZE: return "EMSGSIZE";
	case EPROTOTYPE: return "EPROTOTYPE";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNRESET: return "ECONNRESET";
	case ENOBUFS: return "ENOBUFS";
	case ENOTCONN: return "ENOTCONN";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EEXIST: return "EEXIST";
	case EIO: return "EIO";
	case ENOEXEC: return "ENOEXEC";
	case ENODATA: return "ENODATA";
	case EBADMSG: return "EBADMSG";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EREMOTEIO: return "EREMOTEIO";
	case EKEYREJECTED: return "EKEYREJECTED";
	default: return "other";
	}
}

#endif /* NETSPEC_HELPER_H */
