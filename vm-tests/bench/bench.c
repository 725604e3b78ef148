// SPDX-License-Identifier: GPL-2.0
/*
 * The guest half of `cargo xtask bench` (nolibc, static, every arch).
 *
 * Run under QEMU with -icount shift=0,sleep=off, where guest time advances
 * by one nanosecond per executed instruction, so every interval measured
 * here is an instruction count.  The program prints raw counts only, one
 * "# bench: " line per measurement (key=value fields); every ratio and
 * rate is computed on the host (tools/bench): guests link no libgcc, so
 * there is no division here.
 *
 *  stream:    netperf-style UDP_STREAM and TCP_STREAM over loopback and
 *             over a veth pair into another network namespace, one row per
 *             sender.  Each batch of BATCH ADUs is timed on its own (the
 *             sender's instructions, including the receive processing that
 *             runs in its context); then the receiver, woken through a
 *             pipe, drains its socket and answers, so the receiver never
 *             preempts a batch and nothing is dropped.  The elapsed time
 *             of the whole exchange gives the throughput.
 *  path:      the send path's own cost: connected UDP to an address routed
 *             to a dummy device (IFF_NOARP, no queue), so that no receive
 *             processing runs; a null system call is measured alongside.
 *             Also from an IPv6 socket connected to that address
 *             v4-mapped, whose datagrams udpv6_sendmsg() hands to
 *             udp_sendmsg(): send() and the token, which takes the IPv4
 *             path.
 *  customize: NETSPEC_OP_CUSTOMIZE of a new context (a miss of the code
 *             manager's cache) against the same context again (a hit).
 *  netfilter: where the kernel has nf_tables (bench --with distro), the
 *             stateful firewall of nft.h is loaded in both namespaces
 *             before anything is measured; the line says how many flows
 *             conntrack held after the streams.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "link.h"
#include "nft.h"
#include "text.h"

#include <linux/tcp.h>
#include <linux/io_uring.h>

#define BATCH		64
#define BATCHES		32	/* measured batches of a stream test */
#define WARMUP		4	/* unmeasured batches before them */
#define PATH_CALLS	2048	/* calls of a send-path measurement */
#define PATH_WARMUP	256
#define CUSTOMIZES	256	/* customize pairs (miss, hit) */
#define TCP_MSS_OPT	1460	/* TCP_MAXSEG; 1448 bytes a segment with timestamps */
#define ADDR_A		0x0a630001	/* 10.99.0.1: our end of the veth pair */
#define ADDR_B		0x0a630002	/* 10.99.0.2: the receiver's end */
#define DUMMY_ADDR	0x0a620001	/* 10.98.0.1 on dum0 */
#define DUMMY_DEST	0x0a620002	/* routed to dum0, never answered */
#define CLONE_NEWNET	0x40000000
#define SO_REUSEADDR	2
#define SOL_TCP		6
#define SOL_UDP		17
#define BENCH_PROT_RW	3		/* PROT_READ | PROT_WRITE */
#define BENCH_MAP_SHARED 1

enum proto { P_UDP, P_TCP };
enum link { L_LO, L_VETH };
enum sender {
	S_SEND, S_SENDTO, S_SENDMMSG, S_GSO, S_URING, S_URING_ZC, S_CSEND,
	S_CSEND_BATCH, S_COUNT
};

static const char *const proto_name[] = { "udp", "tcp" };
static const char *const link_name[] = { "lo", "veth" };
static const char *const sender_name[] = {
	"send", "sendto", "sendmmsg", "udp-gso", "io_uring", "io_uring-zc",
	"customized_send", "customized_send-batch",
};

/* The payload: a whole UDP GSO call or a sendmmsg batch points into it. */
static unsigned char buf[65536];
static unsigned char rbuf[65536];

/* struct iovec, msghdr and mmsghdr as the kernel reads them. */
struct bench_iovec {
	void		*base;
	unsigned long	len;
};

struct bench_msghdr {
	void		*name;
	int		namelen;
	struct bench_iovec *iov;
	unsigned long	iovlen;
	void		*control;
	unsigned long	controllen;
	unsigned int	flags;
};

struct bench_mmsghdr {
	struct bench_msghdr	hdr;
	unsigned int		len;
};

static struct bench_iovec iov;
static struct bench_mmsghdr mmsg[BATCH];

/* ---- small helpers ---- */

static long read_full(int fd, void *p, unsigned long len)
{
	unsigned long n = 0;
	long r;

	while (n < len) {
		r = read(fd, (char *)p + n, len - n);
		if (r <= 0)
			return -1;
		n += r;
	}
	return n;
}

static long set_int(int fd, int level, int name, int v)
{
	return net_setsockopt(fd, level, name, &v, sizeof(v));
}

static void *raw_mmap(unsigned long len, int fd, unsigned long long off)
{
#ifdef __NR_mmap2
	return (void *)my_syscall6(__NR_mmap2, 0, len, BENCH_PROT_RW,
				   BENCH_MAP_SHARED, fd, (unsigned long)(off >> 12));
#else
	return (void *)my_syscall6(__NR_mmap, 0, len, BENCH_PROT_RW,
				   BENCH_MAP_SHARED, fd, (unsigned long)off);
#endif
}

static int mmap_failed(void *p)
{
	return (unsigned long)p > -4096UL;
}

/* ---- the veth pair's far namespace ---- */

/* The process that holds the receiver's namespace for every veth test. */
static pid_t holder;
static long firewall;	/* nft_firewall()'s answer in our namespace */
static char holder_ns[64];
static int holder_quit[2];

/*
 * IPv6 off on every new device of the calling process's namespace: the
 * address configuration of a new link (DAD, router solicitation, MLD
 * reports) sends packets after random delays, and QEMU seeds the guest's
 * random numbers differently on every boot, so those packets would land in
 * different measurements from one boot to the next.
 */
static long no_ipv6_on_new_links(void)
{
	long fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY, 0);
	long r;

	if (fd < 0)
		return fd;
	r = write(fd, "1\n", 2) == 2 ? 0 : -EIO;
	close(fd);
	return r;
}

static int holder_main(int to_parent, int from_parent)
{
	if (net_unshare(CLONE_NEWNET) || no_ipv6_on_new_links())
		return 10;
	if (!firewall && nft_firewall())
		return 13;
	net_send_byte(to_parent, 'n');
	if (net_wait_byte(from_parent) != 'v')
		return 11;
	if (net_if_up("lo") || link_addr_up("nsb", ADDR_B))
		return 12;
	net_send_byte(to_parent, 'r');
	net_wait_byte(holder_quit[0]);	/* until the parent closes it */
	return 0;
}

/* Creates the namespace, the veth pair nsa (here) <-> nsb (there); 0 or -errno. */
static long veth_setup(void)
{
	int up[2], down[2];
	char num[24];
	long r;

	if (net_pipe(up) || net_pipe(down) || net_pipe(holder_quit))
		return -EMFILE;
	holder = fork();
	if (holder == 0) {
		close(holder_quit[1]);
		exit(holder_main(up[1], down[0]));
	}
	close(holder_quit[0]);
	r = net_wait_byte(up[0]) == 'n' ? link_create("veth", "nsa", "nsb", holder) : -ECHILD;
	if (!r)
		r = link_addr_up("nsa", ADDR_A);
	net_send_byte(down[1], 'v');
	if (!r && net_wait_byte(up[0]) != 'r')
		r = -ECHILD;
	u64toa_r(holder, num);
	holder_ns[0] = 0;
	strncat(holder_ns, "/proc/", sizeof(holder_ns) - 1);
	strncat(holder_ns, num, sizeof(holder_ns) - 1 - strlen(holder_ns));
	strncat(holder_ns, "/ns/net", sizeof(holder_ns) - 1 - strlen(holder_ns));
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	return r;
}

/* ---- the receiver ---- */

/*
 * The receiving process of one stream test: binds (TCP: listens and
 * accepts), says 'r', then for each 'b' drains its socket without blocking
 * and answers with the byte count; exits on 'e'.
 */
static int receiver(enum proto proto, enum link link, unsigned short port,
		    int cmd, int ack)
{
	unsigned int addr = link == L_VETH ? ADDR_B : 0x7f000001;
	struct sockaddr_in sin = net_sin(addr, port);
	unsigned long long got;
	long fd, c, r;
	int op;

	if (link == L_VETH) {
		long ns = open(holder_ns, O_RDONLY, 0);

		if (ns < 0 || my_syscall2(__NR_setns, ns, CLONE_NEWNET))
			return 20;
		close(ns);
	}
	fd = net_socket(AF_INET, proto == P_TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		return 21;
	set_int(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
	set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (proto == P_TCP)
		set_int(fd, SOL_TCP, TCP_MAXSEG, TCP_MSS_OPT);
	if (net_bind(fd, &sin, sizeof(sin)))
		return 22;
	if (proto == P_TCP && net_listen(fd, 1))
		return 23;
	net_send_byte(ack, 'r');
	if (proto == P_TCP) {
		c = net_accept(fd);
		if (c < 0)
			return 24;
		close(fd);
		fd = c;
	}
	while ((op = net_wait_byte(cmd)) == 'b') {
		got = 0;
		while ((r = net_recvfrom(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT,
					 NULL, NULL)) > 0)
			got += r;
		if (write(ack, &got, sizeof(got)) != sizeof(got))
			return 25;
	}
	close(fd);
	return op == 'e' ? 0 : 26;
}

/* ---- io_uring, without liburing ---- */

struct ring {
	int fd;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

#define barrier() __asm__ volatile("" ::: "memory")

/*
 * Sets up a ring of BATCH entries with fd registered as its fixed file 0,
 * io_uring's cheapest way to name a socket, and, for zc, the payload as
 * registered buffer 0; 0 or -errno (-ENOSYS without io_uring).  6.12's
 * IORING_OP_SEND takes no registered buffer: only IORING_OP_SEND_ZC does,
 * so the registered-buffer case is the zero-copy sender.  Its completion
 * queue is larger, for the notifications that come after the sends (a TCP
 * segment's when it is acknowledged).
 */
static long ring_setup(struct ring *q, int sock, int zc)
{
	struct bench_iovec rb = { buf, sizeof(buf) };
	struct io_uring_params p;
	unsigned long sq_len, cq_len;
	char *sq, *cq;
	void *sqes;
	long fd;

	memset(&p, 0, sizeof(p));
	if (zc) {
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = 16 * BATCH;
	}
	fd = my_syscall2(__NR_io_uring_setup, BATCH, &p);
	if (fd < 0)
		return fd;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP && cq_len > sq_len)
		sq_len = cq_len;
	sq = raw_mmap(sq_len, fd, IORING_OFF_SQ_RING);
	if (mmap_failed(sq))
		return (long)sq;
	cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		cq = raw_mmap(cq_len, fd, IORING_OFF_CQ_RING);
		if (mmap_failed(cq))
			return (long)cq;
	}
	sqes = raw_mmap(p.sq_entries * sizeof(struct io_uring_sqe), fd,
			IORING_OFF_SQES);
	if (mmap_failed(sqes))
		return (long)sqes;
	q->fd = fd;
	q->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	q->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	q->sq_array = (unsigned int *)(sq + p.sq_off.array);
	q->cq_head = (unsigned int *)(cq + p.cq_off.head);
	q->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	q->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	q->sqes = sqes;
	q->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	if (zc) {
		long r = my_syscall4(__NR_io_uring_register, fd,
				     IORING_REGISTER_BUFFERS, &rb, 1);

		if (r)
			return r;
	}
	return my_syscall4(__NR_io_uring_register, fd, IORING_REGISTER_FILES,
			   &sock, 1);
}

/*
 * Reaps the completion queue: adds the sends' bytes to *bytes and their
 * first error to *err, and counts the sends' CQEs in *done.  A zero-copy
 * send's notification (IORING_CQE_F_NOTIF) is reaped and not waited for:
 * the payload never changes, so a send may reuse the buffer before the
 * kernel is done with an earlier one's pages.
 */
static void ring_reap(struct ring *q, long *bytes, int *err,
		      unsigned int *done)
{
	unsigned int head;

	barrier();
	for (head = *q->cq_head; head != *q->cq_tail; head++) {
		struct io_uring_cqe *cqe = &q->cqes[head & *q->cq_mask];

		if (cqe->flags & IORING_CQE_F_NOTIF)
			continue;
		++*done;
		if (cqe->res > 0)
			*bytes += cqe->res;
		else if (cqe->res != -EAGAIN && cqe->res != -ECANCELED && !*err)
			*err = cqe->res;
	}
	barrier();
	*q->cq_head = head;
}

/*
 * n IORING_OP_SEND of len bytes on the fixed file, submitted and waited
 * for in one io_uring_enter(); linked when link is set (TCP: a short send
 * cancels the rest, so the stream stays in order).  With zc, n
 * IORING_OP_SEND_ZC from registered buffer 0 instead.  Bytes sent, or
 * -errno.
 */
static long ring_send(struct ring *q, unsigned int len, unsigned int n,
		      unsigned int flags, int link, int zc)
{
	unsigned int tail = *q->sq_tail, done = 0, i, idx;
	long bytes = 0, r;
	int err = 0;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe;

		idx = (tail + i) & *q->sq_mask;
		sqe = &q->sqes[idx];
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = zc ? IORING_OP_SEND_ZC : IORING_OP_SEND;
		if (zc)
			sqe->ioprio = IORING_RECVSEND_FIXED_BUF; /* buf_index 0 */
		sqe->fd = 0;	/* the fixed file */
		sqe->addr = (unsigned long)buf;
		sqe->len = len;
		sqe->msg_flags = flags;
		sqe->flags = IOSQE_FIXED_FILE;
		if (link && i + 1 < n)
			sqe->flags |= IOSQE_IO_LINK;
		q->sq_array[idx] = idx;
	}
	barrier();
	*q->sq_tail = tail + n;
	barrier();
	r = my_syscall6(__NR_io_uring_enter, q->fd, n, n,
			IORING_ENTER_GETEVENTS, NULL, 0);
	if (r < 0)
		return r;
	/* A notification can complete the wait before a send does. */
	ring_reap(q, &bytes, &err, &done);
	while (done < n) {
		r = my_syscall6(__NR_io_uring_enter, q->fd, 0, n - done,
				IORING_ENTER_GETEVENTS, NULL, 0);
		if (r < 0)
			return r;
		ring_reap(q, &bytes, &err, &done);
	}
	return err && !bytes ? err : bytes;
}

/* ---- the senders ---- */

struct tx {
	enum proto proto;
	enum sender sender;
	unsigned int adu;
	long fd;
	long token;
	struct ring ring;
	struct sockaddr_in dest;
	unsigned int flags;		/* send()'s */
	unsigned int csend_flags;	/* customized_send()'s */
};

/* One batch of BATCH ADUs: bytes sent, or -errno of the first failure. */
static long send_batch(struct tx *t)
{
	unsigned int i, adu = t->adu;
	long bytes = 0, r = 0;

	switch (t->sender) {
	case S_SEND:
	case S_SENDTO:
	case S_CSEND:
		for (i = 0; i < BATCH; i++) {
			if (t->sender == S_CSEND)
				r = netspec_send(t->token, buf, adu, t->csend_flags);
			else if (t->sender == S_SENDTO)
				r = net_sendto(t->fd, buf, adu, t->flags,
					       &t->dest, sizeof(t->dest));
			else
				r = net_sendto(t->fd, buf, adu, t->flags, NULL, 0);
			if (r <= 0)
				break;
			bytes += r;
			if (r < (long)adu)
				break;
		}
		break;
	case S_CSEND_BATCH:
		r = netspec_send_batch(t->token, buf, adu * BATCH,
				       t->csend_flags);
		bytes = r > 0 ? r : 0;
		break;
	case S_SENDMMSG:
		r = my_syscall4(__NR_sendmmsg, t->fd, mmsg, BATCH, t->flags);
		for (i = 0; r > 0 && i < (unsigned long)r; i++)
			bytes += mmsg[i].len;
		break;
	case S_GSO:
		/* A UDP datagram holds at most 64 KB: larger ADUs take two calls. */
		if (adu * BATCH <= 60000) {
			r = net_sendto(t->fd, buf, adu * BATCH, t->flags, NULL, 0);
			bytes = r > 0 ? r : 0;
		} else {
			for (i = 0; i < 2; i++) {
				r = net_sendto(t->fd, buf, adu * (BATCH / 2),
					       t->flags, NULL, 0);
				if (r <= 0)
					break;
				bytes += r;
			}
		}
		break;
	case S_URING:
	case S_URING_ZC:
		r = ring_send(&t->ring, adu, BATCH, t->flags,
			      t->proto == P_TCP, t->sender == S_URING_ZC);
		bytes = r > 0 ? r : 0;
		break;
	default:
		return -EINVAL;
	}
	if (!bytes && r < 0 && r != -EAGAIN)
		return r;
	return bytes;
}

/*
 * Prepares the sending socket for t->sender; 0, or -errno when this kernel
 * or protocol has no such sender (the row then says which errno).
 */
static long tx_setup(struct tx *t, unsigned int addr, unsigned short port)
{
	struct netspec_customize c;
	unsigned int i;
	long r;

	t->dest = net_sin(addr, port);
	t->fd = net_socket(AF_INET, t->proto == P_TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (t->fd < 0)
		return t->fd;
	set_int(t->fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
	if (t->proto == P_TCP)
		set_int(t->fd, SOL_TCP, TCP_MAXSEG, TCP_MSS_OPT);
	if (t->sender != S_SENDTO) {
		r = net_connect(t->fd, &t->dest, sizeof(t->dest));
		if (r)
			return r;
	}
	switch (t->sender) {
	case S_SENDMMSG:
		iov.base = buf;
		iov.len = t->adu;
		for (i = 0; i < BATCH; i++) {
			memset(&mmsg[i], 0, sizeof(mmsg[i]));
			mmsg[i].hdr.iov = &iov;
			mmsg[i].hdr.iovlen = 1;
		}
		return 0;
	case S_GSO:
		return set_int(t->fd, SOL_UDP, UDP_SEGMENT, t->adu);
	case S_URING:
	case S_URING_ZC:
		return ring_setup(&t->ring, t->fd, t->sender == S_URING_ZC);
	case S_CSEND:
	case S_CSEND_BATCH:
		c = netspec_udp_connected(t->fd, t->adu);
		if (t->proto == P_TCP)
			c.protocol = NETSPEC_PROTO_TCP;
		r = netspec_customize(&c);
		if (r < 0)
			return r;
		t->token = r;
		/* A UDP context here must get the specialized path; a TCP
		 * one gets the MSS-guarded path over TCP's own sendmsg().
		 */
		return c.path == (t->proto == P_TCP ? NETSPEC_PATH_TCP :
				  NETSPEC_PATH_UDP4) ? 0 : -EPROTO;
	default:
		return 0;
	}
}

static void tx_close(struct tx *t)
{
	if (t->token > 0)
		netspec_cancel(t->token);
	if ((t->sender == S_URING || t->sender == S_URING_ZC) &&
	    t->ring.fd > 0)
		close(t->ring.fd);
	if (t->fd >= 0)
		close(t->fd);
}

/* ---- the tests ---- */

/*
 * Lets the previous test's deferred work (RCU callbacks freeing its
 * sockets and buffers, workqueue items) run before the next measurement,
 * where it would otherwise land in whichever window the next timer tick
 * falls in.  Under -icount sleep=off an idle guest costs no host time.
 */
static void settle(void)
{
	net_sleep_ms(200);
}

static unsigned short next_port = 7000;
static int stream_failures;

/* Prints a row that was not measured, with the errno that says why. */
static void stream_absent(enum proto proto, enum link link, unsigned int adu,
			  enum sender s, long err)
{
	kt_line("# bench: stream proto=%s link=%s adu=%u sender=%s status=unsupported err=%s",
		proto_name[proto], link_name[link], adu, sender_name[s],
		errname(err));
}

static void stream(enum proto proto, enum link link, unsigned int adu,
		   enum sender s)
{
	unsigned long long start = 0, t0, t1, sender_ns = 0, tx_bytes = 0,
			   rx_bytes = 0, got, end;
	unsigned short port = next_port++;
	int cmd[2], ack[2], st = -1, b, fail = 0;
	struct tx t;
	long r, mss = 0;
	pid_t pid;

	/* Rows that cannot exist: sendto() on a TCP socket is send(). */
	if (proto == P_TCP && (s == S_SENDTO || s == S_GSO))
		return;
	if (net_pipe(cmd) || net_pipe(ack)) {
		stream_failures++;
		return;
	}
	settle();
	pid = fork();
	if (pid == 0)
		exit(receiver(proto, link, port, cmd[0], ack[1]));
	memset(&t, 0, sizeof(t));
	t.proto = proto;
	t.sender = s;
	t.adu = adu;
	t.fd = -1;
	t.flags = proto == P_TCP ? MSG_DONTWAIT : 0;
	t.csend_flags = proto == P_TCP ? NETSPEC_SEND_DONTWAIT : 0;
	r = net_wait_byte(ack[0]) == 'r' ? 0 : -ECHILD;
	if (!r)
		r = tx_setup(&t, link == L_VETH ? ADDR_B : 0x7f000001, port);
	if (r == -ENOSYS ||
	    ((s == S_CSEND || s == S_CSEND_BATCH) && proto == P_TCP && r < 0)) {
		stream_absent(proto, link, adu, s, r);
		r = -1;
	} else if (r) {
		kt_line("# bench: stream %s %s %u %s: setup failed: %s (%ld)",
			proto_name[proto], link_name[link], adu, sender_name[s],
			errname(r), r);
		fail = 1;
	}
	for (b = 0; !r && b < WARMUP + BATCHES; b++) {
		if (b == WARMUP)
			start = net_now_ns();
		t0 = net_now_ns();
		r = send_batch(&t);
		t1 = net_now_ns();
		if (r < 0) {
			kt_line("# bench: stream %s %s %u %s: send failed: %s (%ld)",
				proto_name[proto], link_name[link], adu,
				sender_name[s], errname(r), r);
			fail = 1;
			break;
		}
		net_send_byte(cmd[1], 'b');
		if (read_full(ack[0], &got, sizeof(got)) != sizeof(got)) {
			fail = 1;
			break;
		}
		if (b >= WARMUP) {
			sender_ns += t1 - t0;
			tx_bytes += r;
			rx_bytes += got;
		}
		r = 0;
	}
	end = net_now_ns();
	if (proto == P_TCP && t.fd >= 0)
		mss = net_getsockopt_int(t.fd, SOL_TCP, TCP_MAXSEG);
	net_send_byte(cmd[1], 'e');
	tx_close(&t);
	waitpid(pid, &st, 0);
	if (!fail && !r)
		kt_line("# bench: stream proto=%s link=%s adu=%u sender=%s batches=%u batch=%u tx_bytes=%llu rx_bytes=%llu sender_ns=%llu elapsed_ns=%llu mss=%ld",
			proto_name[proto], link_name[link], adu, sender_name[s],
			BATCHES, BATCH, tx_bytes, rx_bytes, sender_ns,
			end - start, mss);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		kt_line("# bench: stream %s %s %u %s: receiver exit %d",
			proto_name[proto], link_name[link], adu, sender_name[s],
			WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		fail = 1;
	}
	close(cmd[0]);
	close(cmd[1]);
	close(ack[0]);
	close(ack[1]);
	stream_failures += fail;
}

static int streams(void)
{
	static const unsigned int udp_adus[] = { 64, 1024 };
	unsigned int a;
	int l, s;

	for (l = L_LO; l <= L_VETH; l++) {
		for (a = 0; a < 2; a++)
			for (s = 0; s < S_COUNT; s++)
				stream(P_UDP, l, udp_adus[a], s);
		for (s = 0; s < S_COUNT; s++)
			stream(P_TCP, l, 1448, s);
	}
	return stream_failures == 0;
}

/*
 * One send-path measurement: PATH_CALLS calls after PATH_WARMUP, each of
 * n ADUs (n > 1: a batch through the token, or one UDP_SEGMENT send).
 */
static long path_n(const char *what, unsigned int adu, unsigned int n,
		   long fd, long token)
{
	unsigned long long t0 = 0, t1;
	long r = 0;
	int i;

	for (i = 0; i < PATH_WARMUP + PATH_CALLS; i++) {
		if (i == PATH_WARMUP) {
			settle();
			t0 = net_now_ns();
		}
		if (token > 0 && n > 1)
			r = netspec_send_batch(token, buf, adu * n, 0);
		else if (token > 0)
			r = netspec_send(token, buf, adu, 0);
		else if (fd >= 0)
			r = net_sendto(fd, buf, adu * n, 0, NULL, 0);
		else
			r = getppid() < 0 ? -1 : 0;
		if (r < 0)
			break;
	}
	t1 = net_now_ns();
	if (r < 0) {
		kt_line("# bench: path %s %u: %s (%ld)", what, adu, errname(r), r);
		return r;
	}
	kt_line("# bench: path sink=dummy adu=%u sender=%s calls=%u ns=%llu",
		adu, what, PATH_CALLS, t1 - t0);
	return 0;
}

static long path_one(const char *what, unsigned int adu, long fd, long token)
{
	return path_n(what, adu, 1, fd, token);
}

/*
 * The send side of a batch of BATCH 64-byte ADUs, to the dummy device
 * (which takes GSO packets whole, so nothing is segmented): UDP_SEGMENT
 * against the batched token, which both send as one GSO packet.
 */
static int path_batches(void)
{
	struct netspec_customize c;
	long gso = net_udp_sender(DUMMY_DEST, 9), fd = net_udp_sender(DUMMY_DEST, 9);
	long tok = -1, r;
	int ok;

	memset(&c, 0, sizeof(c));
	r = gso < 0 ? gso : set_int(gso, SOL_UDP, UDP_SEGMENT, 64);
	ok = !r && path_n("udp-gso-64", 64, BATCH, gso, 0) == 0;
	if (fd >= 0) {
		c = netspec_udp_connected(fd, 64);
		tok = netspec_customize(&c);
	}
	if (tok <= 0 || c.path != NETSPEC_PATH_UDP4) {
		kt_line("# bench: path: customize for batches: %s", errname(tok));
		ok = 0;
	} else {
		ok &= path_n("customized_send-batch-64", 64, BATCH, -1, tok) == 0;
	}
	if (tok > 0)
		netspec_cancel(tok);
	if (gso >= 0)
		close(gso);
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * send() and the token on an IPv6 socket connected to DUMMY_DEST v4-mapped
 * (IPv4 on the wire), for an ADU of adu bytes.
 */
static int path_v4_mapped(unsigned int adu)
{
	struct sockaddr_in6 s6 = net_sin6_mapped(DUMMY_DEST, 9);
	struct netspec_customize c = { 0 };
	long fd = net_socket(AF_INET6, SOCK_DGRAM, 0), tok = -1, r;
	int ok;

	r = fd < 0 ? fd : net_connect(fd, &s6, sizeof(s6));
	ok = !r && path_one("send-v4mapped", adu, fd, 0) == 0;
	if (!r) {
		c = netspec_udp_connected(fd, adu);
		tok = netspec_customize(&c);
	}
	if (tok <= 0 || c.path != NETSPEC_PATH_UDP4) {
		kt_line("# bench: path: v4-mapped: %s, customize %s path %u",
			errname(r), errname(tok), c.path);
		ok = 0;
	} else {
		ok &= path_one("customized_send-v4mapped", adu, -1, tok) == 0;
	}
	if (tok > 0)
		netspec_cancel(tok);
	if (fd >= 0)
		close(fd);
	return ok;
}

static int path_cost(void)
{
	static const unsigned int adus[] = { 64, 1024 };
	struct netspec_customize c;
	long r, fd, tok;
	unsigned int a;
	int ok = 1;

	r = link_create("dummy", "dum0", NULL, 0);
	if (!r)
		r = link_addr_up("dum0", DUMMY_ADDR);
	fd = r ? r : net_udp_sender(DUMMY_DEST, 9);
	if (r || fd < 0) {
		kt_line("# bench: path: dummy device: %s", errname(r));
		return 0;
	}
	for (a = 0; a < 2; a++) {
		ok &= path_one("null-syscall", adus[a], -1, 0) == 0;
		ok &= path_one("send", adus[a], fd, 0) == 0;
		c = netspec_udp_connected(fd, adus[a]);
		tok = netspec_customize(&c);
		if (tok <= 0 || c.path != NETSPEC_PATH_UDP4) {
			kt_line("# bench: path: customize: %s path %u", errname(tok), c.path);
			ok = 0;
		} else {
			ok &= path_one("customized_send", adus[a], -1, tok) == 0;
		}
		if (tok > 0)
			netspec_cancel(tok);
		/* An empty context: the same system call on the generic path. */
		c = netspec_udp_connected(fd, 0);
		tok = netspec_customize(&c);
		if (tok <= 0 || c.path != NETSPEC_PATH_GENERIC) {
			kt_line("# bench: path: customize adu 0: %s path %u", errname(tok), c.path);
			ok = 0;
		} else {
			ok &= path_one("customized_send-generic", adus[a], -1, tok) == 0;
		}
		if (tok > 0)
			netspec_cancel(tok);
		ok &= path_v4_mapped(adus[a]);
	}
	close(fd);
	return ok & path_batches();
}

/* Customize a context nobody holds (miss), then the same again (hit). */
static int customize_latency(void)
{
	unsigned long long t0, t1, t2, miss = 0, hit = 0;
	struct netspec_customize c;
	struct netspec_info info;
	unsigned int shared = 0;
	long fd, a, b;
	int i;

	fd = net_udp_sender(0x7f000001, 9);
	if (fd < 0)
		return 0;
	settle();
	for (i = 0; i < 4 + CUSTOMIZES; i++) {
		c = netspec_udp_connected(fd, 64);
		t0 = net_now_ns();
		a = netspec_customize(&c);
		t1 = net_now_ns();
		c = netspec_udp_connected(fd, 64);
		b = netspec_customize(&c);
		t2 = net_now_ns();
		if (a <= 0 || b <= 0) {
			kt_line("# bench: customize: %s %s", errname(a), errname(b));
			return 0;
		}
		if (!netspec_info(b, &info) && info.users == 2)
			shared += i >= 4;
		netspec_cancel(b);
		netspec_cancel(a);
		if (i >= 4) {
			miss += t1 - t0;
			hit += t2 - t1;
		}
	}
	close(fd);
	kt_line("# bench: customize kind=miss n=%u ns=%llu", CUSTOMIZES, miss);
	kt_line("# bench: customize kind=hit n=%u ns=%llu shared=%u", CUSTOMIZES, hit, shared);
	return shared == CUSTOMIZES;
}

int main(void)
{
	unsigned int i;
	long r;

	kt_plan(1, 4);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7);
	/* A kernel without nfnetlink has no firewall to load. */
	firewall = nft_firewall();
	r = firewall == -EPROTONOSUPPORT ? 0 : firewall;
	if (!r)
		r = no_ipv6_on_new_links();
	if (!r)
		r = net_if_up("lo");
	if (!r)
		r = veth_setup();
	kt_result(r == 0, "setup_lo_veth_namespace", "%s (%ld)", errname(r), r);
	kt_result(!r && streams(), "stream", "%d stream test(s) failed", stream_failures);
	if (!firewall) {
		char count[32];

		if (read_text("/proc/sys/net/netfilter/nf_conntrack_count", count, sizeof(count)) > 0)
			kt_line("# bench: netfilter firewall=conntrack tracked=%llu", parse_uint(count));
		else
			kt_line("# bench: netfilter: no nf_conntrack_count");
	}
	kt_result(path_cost(), "send_path_cost", "see the lines above");
	kt_result(customize_latency(), "customize_latency", "the hit did not share the instance");
	close(holder_quit[1]);
	if (holder > 0)
		waitpid(holder, NULL, 0);
	return kt_exit_status();
}
