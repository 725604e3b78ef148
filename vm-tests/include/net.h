/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sockets for nolibc guest programs: nolibc has no socket calls, so these
 * are the raw system calls (every arch we test has the direct ones, i386
 * included since Linux 4.3), returning -errno like the netspec helpers.
 * The constants userspace normally gets from <sys/socket.h> are the generic
 * values, which all five test architectures use.
 */
#ifndef NETSPEC_GUEST_NET_H
#define NETSPEC_GUEST_NET_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/udp.h>

#define AF_UNSPEC	0
#define AF_INET		2
#define AF_INET6	10
#define AF_NETLINK	16
#define AF_PACKET	17
#define SOCK_STREAM	1
#define SOCK_DGRAM	2
#define SOCK_RAW	3
#define SOCK_NONBLOCK	04000
#define SOL_SOCKET	1
#define SO_SNDBUF	7
#define SO_RCVBUF	8
#define SO_PRIORITY	12
#define MSG_DONTWAIT	0x40
#define MSG_NOSIGNAL	0x4000
#define SIOCGIFFLAGS	0x8913
#define SIOCSIFFLAGS	0x8914
#define IFF_UP		0x1
#define PACKET_OUTGOING	4

typedef unsigned int socklen_t;

/* 6.1's nolibc has no six-argument system call on ARM: nolibc_compat.h,
 * which the guest build includes after nolibc.h, supplies 6.12's.
 */

static inline unsigned short net_htons(unsigned short v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (unsigned short)((v << 8) | (v >> 8));
#else
	return v;
#endif
}

static inline unsigned int net_htonl(unsigned int v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* not __builtin_bswap32(): on ARMv4 that is a libgcc call */
	return v << 24 | (v & 0xff00) << 8 | (v >> 8 & 0xff00) | v >> 24;
#else
	return v;
#endif
}

#define net_ntohs net_htons
#define net_ntohl net_htonl

static inline long net_socket(int family, int type, int proto)
{
	return my_syscall3(__NR_socket, family, type, proto);
}

static inline long net_bind(int fd, const void *addr, socklen_t len)
{
	return my_syscall3(__NR_bind, fd, addr, len);
}

static inline long net_connect(int fd, const void *addr, socklen_t len)
{
	return my_syscall3(__NR_connect, fd, addr, len);
}

static inline long net_getsockname(int fd, void *addr, socklen_t *len)
{
	return my_syscall3(__NR_getsockname, fd, addr, len);
}

static inline long net_setsockopt(int fd, int level, int name, const void *v,
				  socklen_t len)
{
	return my_syscall5(__NR_setsockopt, fd, level, name, v, len);
}

static inline long net_sendto(int fd, const void *buf, unsigned long len,
			      int flags, const void *addr, socklen_t alen)
{
	return my_syscall6(__NR_sendto, fd, buf, len, flags, addr, alen);
}

static inline long net_recvfrom(int fd, void *buf, unsigned long len,
				int flags, void *addr, socklen_t *alen)
{
	return my_syscall6(__NR_recvfrom, fd, buf, len, flags, addr, alen);
}

static inline long net_listen(int fd, int backlog)
{
	return my_syscall2(__NR_listen, fd, backlog);
}

/* accept4(), which every arch has (i386 since Linux 4.3, as the others). */
static inline long net_accept(int fd)
{
	return my_syscall4(__NR_accept4, fd, NULL, NULL, 0);
}

/* An int socket option, or -errno. */
static inline long net_getsockopt_int(int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);
	long r = my_syscall5(__NR_getsockopt, fd, level, name, &v, &len);

	return r ? r : v;
}

static inline long net_unshare(int flags)
{
	return my_syscall1(__NR_unshare, flags);
}

/* struct ifreq with only the name and the flags. */
struct net_ifreq {
	char name[16];
	short flags;
	char pad[22];
};

/* Brings interface name up, or down if up is 0; 0 or -errno. */
static inline long net_if_set_up(const char *name, int up)
{
	struct net_ifreq ifr = { { 0 } };
	long fd, r;
	int i;

	for (i = 0; name[i] && i < 15; i++)
		ifr.name[i] = name[i];
	fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	r = my_syscall3(__NR_ioctl, fd, SIOCGIFFLAGS, &ifr);
	if (!r) {
		ifr.flags = up ? ifr.flags | IFF_UP : ifr.flags & ~IFF_UP;
		r = my_syscall3(__NR_ioctl, fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return r;
}

/* Brings interface name up; 0 or -errno. */
static inline long net_if_up(const char *name)
{
	return net_if_set_up(name, 1);
}

static inline struct sockaddr_in net_sin(unsigned int addr_host,
					 unsigned short port_host)
{
	struct sockaddr_in sin = { 0 };

	sin.sin_family = AF_INET;
	sin.sin_port = net_htons(port_host);
	sin.sin_addr.s_addr = net_htonl(addr_host);
	return sin;
}

/* addr_host:port_host as an IPv6 socket names it: ::ffff:a.b.c.d. */
static inline struct sockaddr_in6 net_sin6_mapped(unsigned int addr_host,
						  unsigned short port_host)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	unsigned int addr = net_htonl(addr_host);

	s6.sin6_port = net_htons(port_host);
	s6.sin6_addr.s6_addr[10] = 0xff;
	s6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&s6.sin6_addr.s6_addr[12], &addr, sizeof(addr));
	return s6;
}

/*
 * Time without 32-bit time_t: a 32-bit kernel built without
 * CONFIG_COMPAT_32BIT_TIME (our tinyconfig-based i486, and collie) has no
 * ppoll, nanosleep or select with the old time types, which nolibc's poll()
 * and usleep() use there.  poll() takes milliseconds and exists everywhere
 * but on the generic-table arches, which are 64-bit; the sleep uses the
 * 64-bit clock_nanosleep on 32-bit arches.
 */
struct net_ts64 {
	long long sec;
	long long nsec;
};

/*
 * ms as a timespec, without a division: guest programs link no libgcc
 * (Debian's armel libgcc is ARMv5TE code, which an ARMv4 CPU cannot run),
 * and ARMv4 has no divide instruction.
 */
static inline struct net_ts64 net_ts_ms(int ms)
{
	struct net_ts64 t = { 0, 0 };

	while (ms >= 1000) {
		t.sec++;
		ms -= 1000;
	}
	t.nsec = ms * 1000000LL;
	return t;
}

/* A UDP socket bound to addr on a free port; its fd (or -1), *port set. */
static inline int net_udp_receiver(unsigned int addr, unsigned short *port)
{
	struct sockaddr_in sin = net_sin(addr, 0);
	socklen_t len = sizeof(sin);
	long fd = net_socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || net_bind(fd, &sin, sizeof(sin)) ||
	    net_getsockname(fd, &sin, &len))
		return -1;
	*port = net_ntohs(sin.sin_port);
	return fd;
}

/* A UDP socket connected to addr:port; its fd, or -1. */
static inline int net_udp_sender(unsigned int addr, unsigned short port)
{
	struct sockaddr_in sin = net_sin(addr, port);
	long fd = net_socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || net_connect(fd, &sin, sizeof(sin)))
		return -1;
	return fd;
}

/*
 * Reads every datagram waiting on fd into buf (size bytes) without
 * blocking; returns how many were len bytes long (any length if len < 0).
 */
static inline unsigned long net_drain(int fd, void *buf, unsigned long size,
				      long len)
{
	unsigned long n = 0;
	long r;

	while ((r = net_recvfrom(fd, buf, size, MSG_DONTWAIT, NULL, NULL)) >= 0)
		n += len < 0 || r == len;
	return n;
}

/*
 * Fills len bytes at p with message seq: seq in the first two bytes, high
 * byte first, and a pattern of seq after, so that a receiver can tell
 * messages apart and check their bytes.
 */
static inline void net_fill(unsigned char *p, unsigned int len,
			    unsigned int seq)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seq * 7 + i * 13);
	if (len >= 2) {
		p[0] = seq >> 8;
		p[1] = seq;
	}
}

/* The Internet checksum of len bytes (len even), in host order: store it
 * high byte first.  Zero over a header whose checksum is right.
 */
static inline unsigned short net_csum(const unsigned char *p, unsigned int len)
{
	unsigned int sum = 0, i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

/* A pipe (pipe2(), which every arch has; 6.1's nolibc has no pipe()). */
static inline long net_pipe(int p[2])
{
	return my_syscall2(__NR_pipe2, p, 0);
}

/* One byte from fd, or -1: the suites' and the bench's handshakes. */
static inline int net_wait_byte(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? c : -1;
}

static inline void net_send_byte(int fd, char c)
{
	write(fd, &c, 1);
}

/* Waits up to ms for fd to be readable: 1 readable, 0 timeout, -errno. */
static inline long net_wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
#ifdef __NR_poll
	return my_syscall3(__NR_poll, &p, 1, ms);
#else
	struct net_ts64 t = net_ts_ms(ms);

	return my_syscall5(__NR_ppoll, &p, 1, &t, NULL, 0);
#endif
}

/* Sleeps ms milliseconds on CLOCK_MONOTONIC; 0 or -errno. */
static inline long net_sleep_ms(int ms)
{
	struct net_ts64 t = net_ts_ms(ms);
#ifdef __NR_clock_nanosleep_time64
	return my_syscall4(__NR_clock_nanosleep_time64, 1, 0, &t, NULL);
#else
	return my_syscall4(__NR_clock_nanosleep, 1, 0, &t, NULL);
#endif
}

/*
 * CLOCK_MONOTONIC in nanoseconds, with the 64-bit time call on 32-bit
 * arches (see above).  Under QEMU's -icount shift=0 a nanosecond of guest
 * time is one executed instruction.  0 if the clock cannot be read.
 */
static inline unsigned long long net_now_ns(void)
{
	struct net_ts64 t = { 0, 0 };
#ifdef __NR_clock_gettime64
	long r = my_syscall2(__NR_clock_gettime64, 1, &t);
#else
	long r = my_syscall2(__NR_clock_gettime, 1, &t);
#endif

	if (r)
		return 0;
	return (unsigned long long)t.sec * 1000000000ULL + t.nsec;
}

#endif /* NETSPEC_GUEST_NET_H */
