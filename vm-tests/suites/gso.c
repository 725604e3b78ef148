// SPDX-License-Identifier: GPL-2.0
/*
 * A batch on a specialized UDP instance goes as UDP GSO packets, on
 * loopback and over a veth pair into another network namespace, with the
 * device's checksum offload on and off (loopback's cannot be turned off),
 * for 64-byte and 1 KB ADUs.  The packets leave the device whole where it
 * segments them and as their segments where the kernel does.
 *
 * Each case sends the same messages from one connected socket twice, once
 * through a reference and once as one batch through the token, and
 * compares the packets field by field but for the IP ID:
 *  - against sendmsg() with a UDP_SEGMENT control message of the ADU,
 *    where that sendmsg() sets DF as send() does (loopback, whose MTU
 *    takes the whole packet, and IP_PMTUDISC_DO over veth);
 *  - against as many send() calls where it does not: on a socket in the
 *    default IP_PMTUDISC_WANT mode, UDP_SEGMENT clears DF on a packet
 *    longer than the MTU, and the batch keeps send()'s DF.  A GSO packet
 *    that leaves whole is compared with the sends' headers and payloads.
 * The IDs: the batch takes one per message, as that many calls would
 * (UDP_SEGMENT takes one per packet), so a send() after it has the first
 * segment's ID plus the count.  The receiver must get every message of
 * both, and that send()'s, whole and in order.  A socket with SO_NO_CHECK,
 * which UDP_SEGMENT refuses, and an unconnected socket send their batches
 * one datagram at a time.  A socket disconnected while the batch's
 * payload is copied (the copy held on a userfaultfd page) sends nothing
 * and fails as send() would, where a packet built for the old connection
 * would carry IDs from no counter; a frame corked meanwhile takes the
 * first message, as it would from send(); a cgroup program attached
 * meanwhile that denies sends to the token's destination fails the batch
 * as it would fail sendto().  A GSO packet that cannot be allocated
 * leaves its messages to the per-message path, which sends them all.
 * The namespace's SNMP counters count a GSO packet once, as they count
 * the reference's UDP_SEGMENT packet.  An IPv6 socket connected to a
 * v4-mapped peer, whose sends udp_sendmsg() builds, batches as an IPv4
 * one does.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "capture.h"
#include "link.h"
#include "fds.h"
#include "thread.h"
#include "uffd.h"
#include "bpf.h"
#include "snmp.h"

#define LOOPBACK 0x7f000001
#define ADDR_A 0x0a640001	/* 10.100.0.1, the sender's end */
#define ADDR_B 0x0a640002	/* 10.100.0.2, the receiver's end */
#define PORT 7788
#define WARM_PORT 7789
#define CLONE_NEWNET 0x40000000
#define SO_NO_CHECK 11
#define SOL_UDP 17
#define UDP_SEGMENT 103
#define SIOCETHTOOL 0x8946
#define ETHTOOL_STXCSUM 0x17
#define MAX_SEGS 64
#define PKTS_MAX 70000
#define CGROUP "netspec-gso"
#define FAILSLAB "/sys/kernel/debug/failslab/"

static unsigned char msgs[MAX_SEGS * 1024], got[2048];
static unsigned char pa[PKTS_MAX], pb[PKTS_MAX];
static unsigned short rx_port;
static int rx;

struct gso_cmsg {
	unsigned long len;
	int level, type;
	unsigned short gso_size;
	unsigned char pad[sizeof(long) - 2];
};

/* sendmsg() of len bytes of msgs with UDP_SEGMENT gso_size. */
static long send_segmented(int fd, unsigned long len, unsigned short gso)
{
	struct fds_iovec iov = { msgs, len };
	struct fds_msghdr m;
	struct gso_cmsg cm;

	memset(&m, 0, sizeof(m));
	memset(&cm, 0, sizeof(cm));
	cm.len = sizeof(unsigned long) + 2 * sizeof(int) + sizeof(cm.gso_size);
	cm.level = SOL_UDP;
	cm.type = UDP_SEGMENT;
	cm.gso_size = gso;
	m.iov = &iov;
	m.iovlen = 1;
	m.control = &cm;
	m.controllen = sizeof(cm);
	return my_syscall3(__NR_sendmsg, fd, &m, 0);
}

/* Turns the device's transmit checksum offload on or off (ethtool -K tx). */
static long set_tx_csum(const char *name, unsigned int on)
{
	struct {
		unsigned int cmd, data;
	} ev = { ETHTOOL_STXCSUM, on };
	struct {
		char name[16];
		void *data;
		char pad[24];
	} ifr = { { 0 } };

	ifr.data = &ev;
	return link_ifreq(name, SIOCETHTOOL, &ifr);
}

/*
 * The packets to port that capture socket cap sees until they carry
 * payload bytes, stored back to back in p with their lengths in lens;
 * how many, or -errno.
 */
static long capture(int cap, unsigned short port, unsigned long payload,
		    unsigned char *p, long *lens)
{
	unsigned long have = 0, at = 0;
	long n = 0, r;

	while (have < payload && n < MAX_SEGS) {
		r = cap_next(cap, port, p + at, PKTS_MAX - at);
		if (r < 28)
			return r < 0 ? r : -EIO;
		lens[n++] = r;
		at += r;
		have += r - 28;
	}
	return have == payload ? n : -EMSGSIZE;
}

/* Whether the datagram in p (len bytes) is message seq of an ADU. */
static int is_message(const unsigned char *p, long len, unsigned int adu,
		      unsigned int seq)
{
	static unsigned char want[1024];

	net_fill(want, adu, seq);
	return len == (long)adu && !memcmp(p, want, adu);
}

/* Receives n messages of adu bytes from rx, seq on; how many were right. */
static unsigned int receive_n(unsigned int adu, unsigned int seq,
			      unsigned int n)
{
	unsigned int i, ok = 0;

	for (i = 0; i < n && net_wait_readable(rx, 1000) == 1; i++)
		ok += is_message(got, net_recvfrom(rx, got, sizeof(got),
						   MSG_DONTWAIT, NULL, NULL),
				 adu, seq + i);
	return ok;
}

/*
 * Receives twice n messages of adu bytes from fd, seq..seq+n-1 each time,
 * then message seq once more; how many were right.
 */
static unsigned int receive_twice(int fd, unsigned int adu, unsigned int seq,
				  unsigned int n)
{
	unsigned int i, ok = 0;
	long r;

	for (i = 0; i < 2 * n + 1; i++) {
		if (net_wait_readable(fd, 2000) != 1)
			break;
		r = net_recvfrom(fd, got, sizeof(got), MSG_DONTWAIT, NULL, NULL);
		ok += is_message(got, r, adu,
				 seq + (i < n ? i : i < 2 * n ? i - n : 0));
	}
	return ok;
}

/* The receiver in its own namespace, for the veth cases: for each
 * command (adu, n, seq) from the parent, receives twice n messages and
 * answers how many were right.
 */
static int veth_receiver(int to_parent, int from_parent)
{
	struct sockaddr_in sin = net_sin(ADDR_B, PORT);
	int rcvbuf = 4 << 20;
	unsigned int cmd[3];
	long fd;

	if (net_unshare(CLONE_NEWNET))
		return 10;
	net_send_byte(to_parent, 'n');
	if (net_wait_byte(from_parent) != 'v')
		return 11;
	if (net_if_up("lo") || link_addr_up("gsob", ADDR_B))
		return 12;
	fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	net_setsockopt(fd, SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, &rcvbuf,
		       sizeof(rcvbuf));
	if (fd < 0 || net_bind(fd, &sin, sizeof(sin)))
		return 13;
	net_send_byte(to_parent, 'r');
	while (read(from_parent, cmd, sizeof(cmd)) == sizeof(cmd) && cmd[0]) {
		unsigned int ok = receive_twice(fd, cmd[0], cmd[2], cmd[1]);

		if (write(to_parent, &ok, sizeof(ok)) != sizeof(ok))
			return 14;
	}
	return 0;
}

struct path {
	int cap, to_rx, from_rx;	/* to_rx < 0: the receiver is rx */
	unsigned int daddr;
	unsigned short dport;
};

enum ref {
	REF_SEGMENT,	/* one sendmsg() with UDP_SEGMENT */
	REF_SENDS,	/* n send() calls */
};

/*
 * Whether the GSO packet b (lb bytes) carries the n packets at a (lengths
 * in lens): the headers of the first but for the lengths, checksums and
 * ID, and their payloads back to back.
 */
static const char *gso_is_sends(const unsigned char *a, const long *lens,
				unsigned int n, const unsigned char *b, long lb)
{
	const struct iphdr *ia = (const void *)a, *ib = (const void *)b;
	unsigned long at = 0, off = 28;
	unsigned int i;

	if (ia->tos != ib->tos || ia->frag_off != ib->frag_off ||
	    ia->ttl != ib->ttl || ia->protocol != ib->protocol ||
	    ia->saddr != ib->saddr || ia->daddr != ib->daddr ||
	    memcmp(a + 20, b + 20, 4))
		return "GSO packet's headers are not the sends'";
	for (i = 0; i < n; i++) {
		if (off + lens[i] - 28 > (unsigned long)lb ||
		    memcmp(a + at + 28, b + off, lens[i] - 28))
			return "GSO packet's payload is not the sends'";
		off += lens[i] - 28;
		at += lens[i];
	}
	return off == (unsigned long)lb ? NULL : "GSO packet's length";
}

/*
 * NULL if the SNMP counters moved as the reference's, from m0 to m1, say
 * the batch's, from m1 to m2, must: one UDP datagram and one IP packet a
 * GSO packet, as for sendmsg() with UDP_SEGMENT; the same as the
 * reference's where that is the reference.  Where n send() calls are,
 * they counted n, and the batch counts one, or n if it went one message
 * at a time (6.1 without checksum offload); a packet that left the device
 * whole (nb, captured) was one GSO packet.
 */
static const char *snmp_counted(enum ref ref, unsigned int n, long nb,
				struct snmp_out m0, struct snmp_out m1,
				struct snmp_out m2)
{
	const char *why;

	if (ref == REF_SEGMENT) {
		why = snmp_out_moved(m0, m1, 1, 1);
		if (!why)
			why = snmp_out_moved(m1, m2, 1, 1);
	} else {
		why = snmp_out_moved(m0, m1, n, n);
		if (!why && (nb == 1 || snmp_out_moved(m1, m2, n, n)))
			why = snmp_out_moved(m1, m2, 1, 1);
	}
	if (why)
		kt_line("# SNMP: %s; Udp OutDatagrams +%lld then +%lld, Ip OutRequests +%lld then +%lld",
			why, m1.udp_out - m0.udp_out, m2.udp_out - m1.udp_out,
			m1.ip_out - m0.ip_out, m2.ip_out - m1.ip_out);
	return why ? "the SNMP counters are not the reference's" : NULL;
}

/*
 * One case: n messages of adu bytes through the reference and through a
 * batch on a new connected socket's token, then one send().
 */
static void one_case(const struct path *p, unsigned int adu, unsigned int n,
		     int pmtudisc, enum ref ref, int family, const char *name)
{
	struct sockaddr_in sin = net_sin(p->daddr, p->dport);
	struct sockaddr_in6 s6 = net_sin6_mapped(p->daddr, p->dport);
	long fd = net_socket(family, SOCK_DGRAM, 0), t = -1, s1 = -1,
	     s2 = -1, s3 = -1, na = -1, nb = -1, lens_a[MAX_SEGS],
	     lens_b[MAX_SEGS], l3;
	unsigned int i, ok = 0, seq = adu + n, cmd[3] = { adu, n, seq };
	unsigned int id0 = 0, want;
	unsigned long at = 0;
	struct netspec_customize c;
	struct snmp_out m0, m1, m2;
	struct netspec_info i0, i1;
	const char *why = NULL;
	static unsigned char pc[CAP_MAX];

	if (fd < 0 || (pmtudisc >= 0 &&
			net_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER,
				       &pmtudisc, sizeof(pmtudisc))) ||
	    (family == AF_INET6 ? net_connect(fd, &s6, sizeof(s6)) :
				  net_connect(fd, &sin, sizeof(sin)))) {
		why = "no connected socket";
		goto out;
	}
	c = netspec_udp_connected(fd, adu);
	t = netspec_customize(&c);
	if (t < 0 || c.path != NETSPEC_PATH_UDP4) {
		why = "customize failed or not specialized";
		goto out;
	}
	for (i = 0; i < n; i++)
		net_fill(msgs + i * adu, adu, seq + i);
	if (p->to_rx >= 0 &&
	    write(p->to_rx, cmd, sizeof(cmd)) != sizeof(cmd)) {
		why = "receiver gone";
		goto out;
	}
	cap_flush(p->cap, pa, sizeof(pa));
	i0 = netspec_info_of(t);
	m0 = snmp_out_read();
	if (ref == REF_SEGMENT) {
		s1 = send_segmented(fd, n * adu, adu);
		if (s1 == -EIO) {
			/* 6.1's UDP_SEGMENT needs checksum offload, so its
			 * batches go one message at a time there: send() is
			 * the reference.
			 */
			kt_line("# %s: UDP_SEGMENT refused without checksum offload (EIO): the reference is send()",
				name);
			ref = REF_SENDS;
		}
	}
	if (ref == REF_SENDS) {
		for (i = 0, s1 = 0; i < n && s1 >= 0; i++) {
			long r = net_sendto(fd, msgs + i * adu, adu, 0, NULL, 0);

			s1 = r == (long)adu ? s1 + r : r;
		}
	}
	m1 = snmp_out_read();
	na = capture(p->cap, p->dport, n * adu, pa, lens_a);
	s2 = netspec_send_batch(t, msgs, n * adu, 0);
	m2 = snmp_out_read();
	nb = capture(p->cap, p->dport, n * adu, pb, lens_b);
	i1 = netspec_info_of(t);
	s3 = net_sendto(fd, msgs, adu, 0, NULL, 0);
	l3 = cap_next(p->cap, p->dport, pc, sizeof(pc));
	if (p->to_rx < 0)
		ok = receive_twice(rx, adu, seq, n);
	else if (read(p->from_rx, &ok, sizeof(ok)) != sizeof(ok))
		ok = 0;

	if (s1 != (long)(n * adu) || s2 != (long)(n * adu) || s3 != adu)
		why = "a send failed";
	else if (na <= 0 || nb <= 0 || l3 <= 0)
		why = "not captured";
	else if (na != nb && (ref != REF_SENDS || nb != 1 || na != (long)n))
		why = "different numbers of packets";
	else if (na != nb)
		why = gso_is_sends(pa, lens_a, n, pb, lens_b[0]);
	if (!why)
		id0 = cap_id(pb);
	for (i = 0; !why && na == nb && i < (unsigned long)na; i++) {
		why = cap_same_but_id(pa + at, lens_a[i], pb + at, lens_b[i]);
		/* UDP_SEGMENT's packet took one ID, n sends took n. */
		want = ref == REF_SEGMENT ? cap_id(pa + at) + 1 :
					    cap_id(pa) + n + i;
		if (!why && cap_id(pb + at) != (unsigned short)want)
			why = "IDs are not one per message after the reference's";
		if (why) {
			cap_print("reference", pa + at, lens_a[i]);
			cap_print("token", pb + at, lens_b[i]);
		}
		at += lens_a[i];
	}
	/* n sends took n IDs; the GSO packet's first segment has the next. */
	if (!why && ref == REF_SENDS && na != nb &&
	    id0 != (unsigned short)(cap_id(pa) + n))
		why = "the GSO packet's ID does not follow the sends'";
	if (!why && cap_id(pc) != (unsigned short)(id0 + n))
		why = "a send() after the batch does not find n IDs taken";
	if (!why && ok != 2 * n + 1)
		why = "the receiver did not get every message in order";
	if (!why && (i1.sends != i0.sends + n || i1.fallbacks != i0.fallbacks))
		why = "info does not count the messages as specialized sends";
	if (!why)
		why = snmp_counted(ref, n, nb, m0, m1, m2);
	kt_line("# %s: %ld packet(s) of %ld bytes each way, DF %u, IDs %u then %u, received %u of %u, sends +%llu",
		name, nb, nb > 0 ? lens_b[0] : 0, nb > 0 ? cap_df(pb) : 0,
		id0, l3 > 0 ? cap_id(pc) : 0, ok, 2 * n + 1,
		i1.sends - i0.sends);
out:
	kt_result(!why, name, "reference %s batch %s packets %ld/%ld: %s",
		  errname(s1), errname(s2), na, nb, why ? why : "");
	if (t > 0)
		close(t);
	if (fd >= 0)
		close(fd);
}

/*
 * Batches that go one datagram at a time, each on the specialized path:
 * with SO_NO_CHECK, which UDP_SEGMENT refuses (EINVAL), each without a
 * checksum; and on an unconnected socket, whose IDs segmentation could
 * not give as that many calls would.
 */
static void test_one_by_one(const struct path *p, int unconnected,
			    const char *name)
{
	const unsigned int adu = 64, n = 8;
	struct sockaddr_in sin = net_sin(p->daddr, p->dport);
	long fd = net_socket(AF_INET, SOCK_DGRAM, 0), t = -1, seg = -EINVAL,
	     r = -1, lens[MAX_SEGS], np = -1;
	unsigned int i, ok, one = 1, seq = 900 + unconnected, sums = 0;
	struct netspec_customize c;
	struct netspec_info info;

	if (fd >= 0 && unconnected) {
		c = netspec_udp_to_ipv4(fd, adu, net_htonl(p->daddr),
					net_htons(p->dport));
		t = netspec_customize(&c);
	} else if (fd >= 0 &&
		   !net_setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one,
				   sizeof(one)) &&
		   !net_connect(fd, &sin, sizeof(sin))) {
		c = netspec_udp_connected(fd, adu);
		t = netspec_customize(&c);
	}
	for (i = 0; i < n; i++)
		net_fill(msgs + i * adu, adu, seq + i);
	cap_flush(p->cap, pa, sizeof(pa));
	if (t > 0) {
		if (!unconnected)
			seg = send_segmented(fd, n * adu, adu);
		r = netspec_send_batch(t, msgs, n * adu, 0);
		np = capture(p->cap, p->dport, n * adu, pa, lens);
	}
	/* The UDP checksum: zero with SO_NO_CHECK, not zero without. */
	for (i = 0; np == (long)n && i < n; i++)
		sums += lens[i] == 28 + adu &&
			!(pa[i * (28 + adu) + 26] | pa[i * (28 + adu) + 27]) ==
			!unconnected;
	ok = receive_n(adu, seq, n);
	info = netspec_info_of(t);
	kt_result(t > 0 && seg == -EINVAL && r == n * adu && np == n &&
		  sums == n && ok == n && info.sends == n &&
		  !info.fallbacks && info.path == NETSPEC_PATH_UDP4, name,
		  "token %s, UDP_SEGMENT %s, batch %s, %ld packets (%u with the checksum expected), %u received, sends %llu fallbacks %llu path %u",
		  errname(t), errname(seg), errname(r), np, sums, ok,
		  info.sends, info.fallbacks, info.path);
	if (t > 0)
		close(t);
	if (fd >= 0)
		close(fd);
}

/*
 * A change to the socket while the batch copies its payload.  The payload
 * is a page a userfaultfd holds missing, so the batch stops in its copy;
 * a task sharing the descriptor table sees the fault, changes the socket
 * and fills the page.  If no fault comes within 10 s the page is filled
 * anyway.  The changes:
 *  - a disconnect (connect() to AF_UNSPEC, which the token's INVALIDATE
 *    socket policy lets through; the default, REJECT, refuses it): n
 *    calls would each fail with EDESTADDRREQ from there, so the batch must
 *    fail so and send nothing;
 *  - a frame corked by send(MSG_MORE) of one byte: n calls would append
 *    the first message to it and send the rest alone, so the receiver
 *    must get a datagram of 1 + ADU bytes and then n - 1 of the ADU;
 *  - a BPF_CGROUP_UDP4_SENDMSG program that denies every send, attached
 *    to the sender's cgroup, where the token has a destination (its
 *    socket's peer): n sendto() calls would each fail with EPERM, so the
 *    batch must fail so and send nothing.
 */
enum change { CHANGE_DISCONNECT, CHANGE_CORK, CHANGE_BPF };

static struct {
	int uffd, res[2];
	enum change change;
	long fd, cg, prog;
	unsigned char *region;
} dc;
static unsigned char dc_page[UFFD_PAGE] __attribute__((aligned(UFFD_PAGE)));
static struct thread dc_th;

static int change_fn(void *arg)
{
	struct sockaddr_in un;
	long r = -ETIMEDOUT;

	(void)arg;
	if (net_wait_readable(dc.uffd, 10000) == 1 &&
	    uffd_wait_fault(dc.uffd) == (unsigned long)dc.region) {
		if (dc.change == CHANGE_CORK) {
			r = net_sendto(dc.fd, "c", 1, 0x8000 /* MSG_MORE */,
				       NULL, 0) == 1 ? 0 : -EIO;
		} else if (dc.change == CHANGE_BPF) {
			r = bpf_attach(dc.cg, dc.prog,
				       BPF_CGROUP_UDP4_SENDMSG);
		} else {
			memset(&un, 0, sizeof(un));
			un.sin_family = AF_UNSPEC;
			r = net_connect(dc.fd, &un, sizeof(un));
		}
	}
	write(dc.res[1], &r, sizeof(r));
	uffd_fill(dc.uffd, dc.region, dc_page);
	return 0;
}

/*
 * For CHANGE_BPF: loads a program that denies every send, in dc.prog, and
 * moves this process into a cgroup of its own, open as dc.cg, to which the
 * change attaches it; 0 or -errno.
 */
static long bpf_setup(void)
{
	static const struct bpf_insn deny[] = {
		BPF_MOV64_IMM(BPF_R0, 0),
		BPF_EXIT_INSN(),
	};

	dc.prog = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
				BPF_CGROUP_UDP4_SENDMSG, deny,
				sizeof(deny) / sizeof(deny[0]));
	if (dc.prog < 0) {
		kt_line("# verifier: %s", bpf_log);
		return dc.prog;
	}
	dc.cg = cgroup_make(CGROUP);
	return dc.cg < 0 ? dc.cg : cgroup_enter(CGROUP);
}

static void bpf_teardown(void)
{
	if (dc.cg >= 0) {
		bpf_detach(dc.cg, dc.prog, BPF_CGROUP_UDP4_SENDMSG);
		cgroup_enter("");
		close(dc.cg);
		cgroup_remove(CGROUP);
	}
	if (dc.prog >= 0)
		close(dc.prog);
}

static void test_change_during_copy(const struct path *p, enum change change,
				    const char *name)
{
	static const char *const what[] = { "disconnect", "cork", "attach" };
	const unsigned int adu = 64, n = UFFD_PAGE / 64, seq = 950;
	struct sockaddr_in sin = net_sin(p->daddr, p->dport);
	long t = -1, id = -1, r = -1, dr = -EIO, arrived = 0, first = -1,
	     whole = 0, setup = 0, len;
	struct netspec_customize c;
	unsigned int i;
	int st = -1, ok, uffd_ok;

	dc.change = change;
	dc.cg = -1;
	dc.prog = -1;
	/* A socket takes its cgroup when it is made: this one, the program's. */
	if (change == CHANGE_BPF)
		setup = bpf_setup();
	dc.fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	uffd_ok = !uffd_page(&dc.uffd, &dc.region);
	if (!setup && dc.fd >= 0 && !net_connect(dc.fd, &sin, sizeof(sin))) {
		if (change == CHANGE_BPF) {
			c = netspec_udp_to_ipv4(dc.fd, adu,
						net_htonl(p->daddr),
						net_htons(p->dport));
		} else {
			c = netspec_udp_connected(dc.fd, adu);
			c.policy[NETSPEC_EVENT_SOCKET] =
				NETSPEC_POLICY_INVALIDATE;
		}
		t = netspec_customize(&c);
	}
	if (t <= 0 || !uffd_ok || net_pipe(dc.res)) {
		kt_result(0, name, "setup: %s, token %s, userfaultfd %d",
			  errname(setup), errname(t), dc.uffd);
		bpf_teardown();
		return;
	}
	for (i = 0; i < n; i++)
		net_fill(dc_page + i * adu, adu, seq + i);
	id = thread_start(&dc_th, CLONE_FILES, SIGCHLD, change_fn, NULL);
	if (id > 0)
		r = netspec_send_batch(t, dc.region, n * adu, 0);
	if (id > 0 && net_wait_readable(dc.res[0], 15000) == 1 &&
	    read(dc.res[0], &dr, sizeof(dr)) != sizeof(dr))
		dr = -EIO;
	if (id > 0)
		waitpid(id, &st, 0);
	while (net_wait_readable(rx, 300) == 1) {
		len = net_recvfrom(rx, got, sizeof(got), MSG_DONTWAIT, NULL,
				   NULL);
		if (len < 0)
			break;
		if (!arrived++)
			first = got[0] == 'c' &&
				is_message(got + 1, len - 1, adu, seq);
		else
			whole += is_message(got, len, adu, seq + arrived - 1);
	}
	if (change == CHANGE_CORK)
		ok = r == n * adu && arrived == n && first == 1 &&
		     whole == n - 1;
	else if (change == CHANGE_BPF)
		ok = r == -EPERM && !arrived;
	else
		ok = r == -EDESTADDRREQ && !arrived;
	kt_result(dr == 0 && ok, name,
		  "%s %s, batch %s, %ld datagrams arrived (the first %s, %ld more as sent)",
		  what[change], errname(dr), errname(r), arrived,
		  first == 1 ? "joined the cork" : "alone", whole);
	bpf_teardown();
	close(t);
	close(dc.fd);
	close(dc.uffd);
	close(dc.res[0]);
	close(dc.res[1]);
	munmap(dc.region, UFFD_PAGE);
}

/*
 * Sets failslab's attributes from a list of name, value pairs ending in
 * NULL, in order; 0 or the first -errno.
 */
static long failslab_set(const char *const *kv)
{
	char path[64];
	long r = 0;

	for (; !r && kv[0]; kv += 2) {
		strcpy(path, FAILSLAB);
		strcpy(path + sizeof(FAILSLAB) - 1, kv[0]);
		r = write_text(path, kv[1]);
	}
	return r;
}

/*
 * The GSO packet's allocation fails: failslab, armed once and for this
 * task alone (make-it-fail), fails the batch's first slab allocation:
 * the packet's skb (on 7.3, whose skb usually comes from a per-CPU cache,
 * its linear part, from kmalloc while it is at most 8 KB).  The batch
 * must still send every message, one datagram each (the per-message
 * path), and the next batch, with nothing armed, must go as one packet
 * again.
 */
static void test_allocation_failure(const struct path *p, const char *name)
{
	/* Disarmed first, then set up so that nothing fails before this
	 * task asks (verbose 0: no stack dump on the console); put back to
	 * the defaults after.
	 */
	static const char *const arm[] = {
		"times", "0", "probability", "0", "verbose", "0",
		"task-filter", "Y", "ignore-gfp-wait", "N", "interval", "1",
		"probability", "100", NULL
	};
	static const char *const disarm[] = {
		"times", "0", "probability", "0", "task-filter", "N",
		"ignore-gfp-wait", "Y", "verbose", "2", NULL
	};
	const unsigned int adu = 64, n = 16, seq = 980;
	struct sockaddr_in sin = net_sin(p->daddr, p->dport);
	long fd = net_socket(AF_INET, SOCK_DGRAM, 0), t = -1, mif, setup,
	     r = -1, r2 = -1, np = -1, np2 = -1, lens[MAX_SEGS];
	unsigned int i, ok = 0, ok2 = 0, whole = 0;
	struct netspec_customize c;
	struct netspec_info i0, i1;
	int left = -1;

	setup = failslab_set(arm);
	/* Opened before it is armed: the open allocates. */
	mif = open("/proc/self/make-it-fail", O_WRONLY, 0);
	if (mif < 0 && !setup)
		setup = -errno;
	if (!setup && fd >= 0 && !net_connect(fd, &sin, sizeof(sin))) {
		c = netspec_udp_connected(fd, adu);
		t = netspec_customize(&c);
	}
	for (i = 0; i < n; i++)
		net_fill(msgs + i * adu, adu, seq + i);
	i0 = netspec_info_of(t);
	cap_flush(p->cap, pa, sizeof(pa));
	if (t > 0 && !write_text(FAILSLAB "times", "1") &&
	    write(mif, "1", 1) == 1) {
		r = netspec_send_batch(t, msgs, n * adu, 0);
		if (write(mif, "0", 1) != 1)
			r = -EIO;
		left = read_sysctl(FAILSLAB "times");
		np = capture(p->cap, p->dport, n * adu, pa, lens);
		for (i = 0; np == (long)n && i < n; i++)
			whole += lens[i] == 28 + adu;
		ok = receive_n(adu, seq, n);
		r2 = netspec_send_batch(t, msgs, n * adu, 0);
		np2 = capture(p->cap, p->dport, n * adu, pa, lens);
		ok2 = receive_n(adu, seq, n);
	}
	i1 = netspec_info_of(t);
	failslab_set(disarm);
	kt_result(r == n * adu && !left && np == n && whole == n &&
		  ok == n && r2 == n * adu && np2 == 1 && ok2 == n &&
		  i1.sends == i0.sends + 2 * n && i1.fallbacks == i0.fallbacks,
		  name,
		  "setup %s, token %s, batch %s with failslab armed (times left %d): %ld datagram(s) (%u of the ADU), %u received; then %s: %ld packet(s), %u received; sends +%llu fallbacks +%llu",
		  errname(setup), errname(t), errname(r), left, np, whole, ok,
		  errname(r2), np2, ok2, i1.sends - i0.sends,
		  i1.fallbacks - i0.fallbacks);
	if (mif >= 0)
		close(mif);
	if (t > 0)
		close(t);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	int size = 8 << 20, up[2], down[2], st = -1;
	struct path lo = { -1, -1, -1, LOOPBACK, 0 };
	struct path veth = { -1, -1, -1, ADDR_B, PORT };
	unsigned int stop[3] = { 0, 0, 0 };
	struct sockaddr_in warm = net_sin(ADDR_B, WARM_PORT);
	long r, w;
	pid_t pid;

	kt_plan(1, 16);
	net_if_up("lo");
	lo.cap = cap_open(CAP_LO);
	rx = net_udp_receiver(LOOPBACK, &rx_port);
	lo.dport = rx_port;
	if (lo.cap < 0 || rx < 0 || net_pipe(up) || net_pipe(down) ||
	    net_setsockopt(rx, SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, &size,
			   sizeof(size))) {
		kt_line("# setup: capture %d receiver %d", lo.cap, rx);
		return 1;
	}
	one_case(&lo, 64, 64, -1, REF_SEGMENT, AF_INET,
		 "lo_64b_batch_is_udp_segment_s_packets");
	one_case(&lo, 1024, 63, -1, REF_SEGMENT, AF_INET,
		 "lo_1k_batch_is_udp_segment_s_packets");
	one_case(&lo, 64, 64, -1, REF_SEGMENT, AF_INET6,
		 "lo_64b_batch_to_a_v4_mapped_peer_is_udp_segment_s_packets");
	test_one_by_one(&lo, 0, "no_check_batch_goes_one_datagram_at_a_time");
	test_one_by_one(&lo, 1,
			"unconnected_batch_goes_one_datagram_at_a_time");
	test_change_during_copy(&lo, CHANGE_DISCONNECT,
				"disconnect_during_the_copy_fails_as_send_would");
	test_change_during_copy(&lo, CHANGE_CORK,
				"cork_during_the_copy_takes_the_first_message");
	test_change_during_copy(&lo, CHANGE_BPF,
				"cgroup_program_attached_during_the_copy_denies_as_sendto");
	test_allocation_failure(&lo,
				"unallocatable_gso_packet_goes_one_datagram_at_a_time");

	pid = fork();
	if (pid == 0)
		exit(veth_receiver(up[1], down[0]));
	r = net_wait_byte(up[0]) == 'n' ?
	    link_create("veth", "gsoa", "gsob", pid) : -1;
	if (!r)
		r = link_addr_up("gsoa", ADDR_A);
	net_send_byte(down[1], 'v');
	veth.cap = r ? -1 : cap_open(link_ifindex("gsoa"));
	veth.to_rx = down[1];
	veth.from_rx = up[0];
	r = !r && veth.cap >= 0 && net_wait_byte(up[0]) == 'r' ? 0 : -EIO;
	/* A first datagram to an unbound port resolves the neighbour. */
	w = net_socket(AF_INET, SOCK_DGRAM, 0);
	if (!r && w >= 0)
		net_sendto(w, msgs, 1, 0, &warm, sizeof(warm));
	net_sleep_ms(200);
	kt_result(!r, "veth_pair_between_two_namespaces", "%s (capture %d)",
		  errname(r), veth.cap);
	one_case(&veth, 64, 64, -1, REF_SENDS, AF_INET,
		 "veth_64b_batch_is_send_s_datagrams");
	one_case(&veth, 1024, 63, -1, REF_SENDS, AF_INET,
		 "veth_1k_batch_is_send_s_datagrams");
	one_case(&veth, 1024, 63, IP_PMTUDISC_DO, REF_SEGMENT, AF_INET,
		 "veth_pmtudisc_do_1k_batch_is_udp_segment_s_packets");
	r = set_tx_csum("gsoa", 0);
	if (r)
		kt_line("# ethtool tx off: %s", errname(r));
	one_case(&veth, 64, 64, -1, REF_SENDS, AF_INET,
		 "veth_no_csum_offload_64b_batch_is_send_s_datagrams");
	one_case(&veth, 1024, 63, -1, REF_SENDS, AF_INET,
		 "veth_no_csum_offload_1k_batch_is_send_s_datagrams");
	one_case(&veth, 64, 64, IP_PMTUDISC_DO, REF_SEGMENT, AF_INET,
		 "veth_no_csum_offload_pmtudisc_do_64b_batch_is_udp_segment_s_packets");
	if (write(down[1], stop, sizeof(stop)) == sizeof(stop))
		waitpid(pid, &st, 0);
	return kt_exit_status();
}
