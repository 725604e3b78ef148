// SPDX-License-Identifier: GPL-2.0
/*
 * UDP through a netspec token across a veth pair between two network
 * namespaces: the sender in the initial namespace, the receiver in a new
 * one.  Every datagram arrives, bytes identical, in order; the packets go
 * through the specialized path (ARP, the veth device, the receiver's
 * namespace) like any UDP packet.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/veth.h>

#define ADU 256
#define N_STREAM 1000
#define BATCH 50
#define PORT 7777
#define ADDR_A 0x0a630001	/* 10.99.0.1, the sender's end */
#define ADDR_B 0x0a630002	/* 10.99.0.2, the receiver's end */
#define CLONE_NEWNET 0x40000000
#define SIOCSIFADDR 0x8916
#define SIOCSIFNETMASK 0x891c

static unsigned char buf[ADU], got[2 * ADU];

static void fill(unsigned char *p, unsigned int seq)
{
	unsigned int i;

	for (i = 0; i < ADU; i++)
		p[i] = (unsigned char)(seq * 11 + i * 3);
	p[0] = seq >> 8;
	p[1] = seq;
}

/* Appends an attribute to the message in m; returns it, for nesting. */
static struct rtattr *attr(struct nlmsghdr *m, unsigned short type,
			   const void *data, unsigned int len)
{
	struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	m->nlmsg_len = NLMSG_ALIGN(m->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nest_end(struct nlmsghdr *m, struct rtattr *a)
{
	a->rta_len = (char *)m + m->nlmsg_len - (char *)a;
}

/*
 * Creates veth pair a <-> b with b in the network namespace of process
 * peer_pid (RTM_NEWLINK with the peer's IFLA_NET_NS_PID); 0 or -errno.
 */
static long veth_create(const char *a, const char *b, int peer_pid)
{
	static unsigned char msg[1024] __attribute__((aligned(4)));
	struct nlmsghdr *m = (struct nlmsghdr *)msg;
	struct ifinfomsg *ifi;
	struct rtattr *info, *data, *peer;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	long fd, r;
	unsigned int pid = peer_pid;

	memset(msg, 0, sizeof(msg));
	m->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	m->nlmsg_type = RTM_NEWLINK;
	m->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	m->nlmsg_seq = 1;
	attr(m, IFLA_IFNAME, a, strlen(a) + 1);
	info = attr(m, IFLA_LINKINFO, NULL, 0);
	attr(m, IFLA_INFO_KIND, "veth", 5);
	data = attr(m, IFLA_INFO_DATA, NULL, 0);
	peer = attr(m, VETH_INFO_PEER, NULL, 0);
	/* The peer's ifinfomsg, then its attributes. */
	m->nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));
	attr(m, IFLA_IFNAME, b, strlen(b) + 1);
	attr(m, IFLA_NET_NS_PID, &pid, sizeof(pid));
	nest_end(m, peer);
	nest_end(m, data);
	nest_end(m, info);

	fd = net_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	r = net_sendto(fd, msg, m->nlmsg_len, 0, &sa, sizeof(sa));
	if (r >= 0) {
		r = net_recvfrom(fd, msg, sizeof(msg), 0, NULL, NULL);
		if (r >= (long)NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
		    m->nlmsg_type == NLMSG_ERROR)
			r = ((struct nlmsgerr *)NLMSG_DATA(m))->error;
		else if (r >= 0)
			r = -EPROTO;
	}
	close(fd);
	return r;
}

struct net_ifreq_addr {
	char name[16];
	struct sockaddr_in addr;
	char pad[8];
};

/* Gives interface name address/24 and brings it up; 0 or -errno. */
static long if_addr_up(const char *name, unsigned int addr)
{
	struct net_ifreq_addr ifr;
	long fd, r;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.name, name, strlen(name) < 15 ? strlen(name) : 15);
	fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	ifr.addr = net_sin(addr, 0);
	r = my_syscall3(__NR_ioctl, fd, SIOCSIFADDR, &ifr);
	if (!r) {
		ifr.addr = net_sin(0xffffff00, 0);
		r = my_syscall3(__NR_ioctl, fd, SIOCSIFNETMASK, &ifr);
	}
	close(fd);
	return r ? r : net_if_up(name);
}

static long pipe_make(int p[2])
{
	return my_syscall2(__NR_pipe2, p, 0);
}

static int wait_byte(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? c : -1;
}

static void send_byte(int fd, char c)
{
	write(fd, &c, 1);
}

/*
 * The receiver, in its own namespace: configures its end, then receives
 * N_STREAM datagrams in batches, telling the sender after each batch.
 * Exits 0 if every datagram arrived whole and in order.
 */
static int receiver(int to_parent, int from_parent)
{
	struct sockaddr_in sin;
	int rcvbuf = 1 << 20;
	unsigned int seq, in_batch = 0;
	long fd;

	if (net_unshare(CLONE_NEWNET))
		return 10;
	send_byte(to_parent, 'n');		/* namespace made */
	if (wait_byte(from_parent) != 'v')	/* veth made */
		return 11;
	if (net_if_up("lo") || if_addr_up("nsb", ADDR_B))
		return 12;
	fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	sin = net_sin(ADDR_B, PORT);
	net_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || net_bind(fd, &sin, sizeof(sin)))
		return 13;
	send_byte(to_parent, 'r');		/* ready */

	/* The first datagram resolves ARP before the stream starts. */
	if (net_wait_readable(fd, 5000) <= 0 ||
	    net_recvfrom(fd, got, sizeof(got), 0, NULL, NULL) != ADU)
		return 14;
	send_byte(to_parent, 'a');
	for (seq = 0; seq < N_STREAM; seq++) {
		fill(buf, seq);
		if (net_wait_readable(fd, 2000) <= 0)
			return 15;
		if (net_recvfrom(fd, got, sizeof(got), 0, NULL, NULL) != ADU ||
		    memcmp(got, buf, ADU))
			return 16;
		/* a counter, not seq % BATCH: ARMv4 guests have no division */
		if (++in_batch == BATCH) {
			in_batch = 0;
			send_byte(to_parent, 'b');
		}
	}
	return 0;
}

int main(void)
{
	struct netspec_customize c;
	struct netspec_info info;
	struct sockaddr_in sin;
	int up[2], down[2], st = -1, tx, tok;
	unsigned int seq, sent = 0, in_batch = 0;
	long r;
	pid_t pid;

	kt_plan(1, 5);
	if (pipe_make(up) || pipe_make(down)) {
		kt_line("# no pipes");
		return 1;
	}
	pid = fork();
	if (pid == 0)
		exit(receiver(up[1], down[0]));

	r = wait_byte(up[0]) == 'n' ? veth_create("nsa", "nsb", pid) : -1;
	if (!r)
		r = if_addr_up("nsa", ADDR_A);
	send_byte(down[1], 'v');
	kt_result(r == 0 && wait_byte(up[0]) == 'r',
		  "veth_pair_between_two_namespaces", "r=%s", errname(r));

	tx = net_socket(AF_INET, SOCK_DGRAM, 0);
	sin = net_sin(ADDR_B, PORT);
	r = net_connect(tx, &sin, sizeof(sin));
	c = netspec_udp_connected(tx, ADU);
	tok = r ? r : netspec_customize(&c);
	kt_result(tok > 0 && c.path == NETSPEC_PATH_UDP4,
		  "customize_across_veth_is_specialized", "r=%s path=%u",
		  errname(tok), c.path);

	memset(buf, 0, sizeof(buf));
	r = tok > 0 ? netspec_send(tok, buf, ADU, 0) : -1;
	kt_result(r == ADU && wait_byte(up[0]) == 'a', "first_datagram_arrives",
		  "r=%s", errname(r));

	for (seq = 0; seq < N_STREAM && tok > 0; seq++) {
		fill(buf, seq);
		if (netspec_send(tok, buf, ADU, 0) != ADU)
			break;
		sent++;
		if (++in_batch == BATCH) {
			in_batch = 0;
			if (wait_byte(up[0]) != 'b')
				break;
		}
	}
	waitpid(pid, &st, 0);
	kt_result(sent == N_STREAM && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "stream_1000_datagrams_across_namespaces",
		  "sent %u, receiver exit %d (14 first, 15 lost, 16 wrong or out of order)",
		  sent, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	kt_line("# sent %u datagrams of %d bytes, the receiver got them all: %s",
		sent, ADU, WIFEXITED(st) && !WEXITSTATUS(st) ? "yes" : "no");

	r = tok > 0 ? netspec_info(tok, &info) : -1;
	kt_result(r == 0 && info.sends == N_STREAM + 1 && info.fallbacks == 0,
		  "info_counts_every_send_without_fallback",
		  "r=%s sends=%llu fallbacks=%llu", errname(r),
		  (unsigned long long)info.sends,
		  (unsigned long long)info.fallbacks);
	return kt_exit_status();
}
