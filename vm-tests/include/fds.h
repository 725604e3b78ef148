/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Descriptors for nolibc guest programs: whether one is open, how many
 * a process has (/proc/self/fd), and passing them over a Unix socket with
 * SCM_RIGHTS.  Calls return 0, a count, or -errno.  Include after net.h.
 */
#ifndef NETSPEC_GUEST_FDS_H
#define NETSPEC_GUEST_FDS_H

#include "net.h"

#define AF_UNIX 1
#define SCM_RIGHTS 1

/* The descriptor's FD_* flags (>= 0) if fd is open here, else -EBADF. */
static __attribute__((unused)) long fd_flags(int fd)
{
	return my_syscall3(__NR_fcntl, fd, F_GETFD, 0);
}

/* How many descriptors this process has open, or -errno. */
static __attribute__((unused)) long fd_count(void)
{
	static char d[4096] __attribute__((aligned(8)));
	long dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY, 0), n = 0, r;

	if (dir < 0)
		return -errno;
	while ((r = my_syscall3(__NR_getdents64, dir, d, sizeof(d))) > 0) {
		long off = 0;

		while (off < r) {
			struct linux_dirent64 *e = (void *)(d + off);

			if (e->d_name[0] != '.')
				n++;
			off += e->d_reclen;
		}
	}
	close(dir);
	return r < 0 ? r : n - 1;	/* not the directory's own */
}

/* The kernel's struct user_msghdr and cmsghdr, which nolibc lacks. */
struct fds_iovec {
	void *base;
	unsigned long len;
};

struct fds_msghdr {
	void *name;
	int namelen;
	struct fds_iovec *iov;
	unsigned long iovlen;
	void *control;
	unsigned long controllen;
	unsigned int flags;
};

struct fds_cmsg {
	unsigned long len;
	int level, type;
	int fds[4];	/* 16 bytes in: aligned for 32 and 64 bits */
};

#define FDS_CMSG_LEN(n) (sizeof(unsigned long) + 2 * sizeof(int) + \
			 (n) * sizeof(int))

/* Sends n (at most 4) descriptors over the Unix socket sock, with one byte. */
static __attribute__((unused)) long fds_send(int sock, const int *fds, int n)
{
	struct fds_cmsg cm;
	char byte = 'f';
	struct fds_iovec iov = { &byte, 1 };
	struct fds_msghdr m;
	int i;

	memset(&cm, 0, sizeof(cm));
	memset(&m, 0, sizeof(m));
	cm.len = FDS_CMSG_LEN(n);
	cm.level = SOL_SOCKET;
	cm.type = SCM_RIGHTS;
	for (i = 0; i < n; i++)
		cm.fds[i] = fds[i];
	m.iov = &iov;
	m.iovlen = 1;
	m.control = &cm;
	m.controllen = sizeof(cm);
	return my_syscall3(__NR_sendmsg, sock, &m, 0);
}

/* Receives up to 4 descriptors from sock into fds; how many, or -errno. */
static __attribute__((unused)) long fds_recv(int sock, int *fds, int max)
{
	struct fds_cmsg cm;
	char byte;
	struct fds_iovec iov = { &byte, 1 };
	struct fds_msghdr m;
	long r;
	int i, n;

	memset(&cm, 0, sizeof(cm));
	memset(&m, 0, sizeof(m));
	m.iov = &iov;
	m.iovlen = 1;
	m.control = &cm;
	m.controllen = sizeof(cm);
	r = my_syscall3(__NR_recvmsg, sock, &m, 0);
	if (r < 0)
		return r;
	if (m.controllen < FDS_CMSG_LEN(1) || cm.level != SOL_SOCKET ||
	    cm.type != SCM_RIGHTS)
		return -EPROTO;
	for (n = 0; n < 4 && FDS_CMSG_LEN(n + 1) <= cm.len; n++)
		;
	for (i = 0; i < n && i < max; i++)
		fds[i] = cm.fds[i];
	return i;
}

/* A pair of connected Unix datagram sockets. */
static __attribute__((unused)) long fds_socketpair(int sv[2])
{
	return my_syscall4(__NR_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv);
}

#endif /* NETSPEC_GUEST_FDS_H */
