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
#include "link.h"

#define ADU 256
#define N_STREAM 1000
#define BATCH 50
#define PORT 7777
#define ADDR_A 0x0a630001	/* 10.99.0.1, the sender's end */
#define ADDR_B 0x0a630002	/* 10.99.0.2, the receiver's end */
#define CLONE_NEWNET 0x40000000

static unsigned char buf[ADU], got[2 * ADU];


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
	net_send_byte(to_parent, 'n');		/* namespace made */
	if (net_wait_byte(from_parent) != 'v')	/* veth made */
		return 11;
	if (net_if_up("lo") || link_addr_up("nsb", ADDR_B))
		return 12;
	fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	sin = net_sin(ADDR_B, PORT);
	net_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || net_bind(fd, &sin, sizeof(sin)))
		return 13;
	net_send_byte(to_parent, 'r');		/* ready */

	/* The first datagram resolves ARP before the stream starts. */
	if (net_wait_readable(fd, 5000) <= 0 ||
	    net_recvfrom(fd, got, sizeof(got), 0, NULL, NULL) != ADU)
		return 14;
	net_send_byte(to_parent, 'a');
	for (seq = 0; seq < N_STREAM; seq++) {
		net_fill(buf, ADU, seq);
		if (net_wait_readable(fd, 2000) <= 0)
			return 15;
		if (net_recvfrom(fd, got, sizeof(got), 0, NULL, NULL) != ADU ||
		    memcmp(got, buf, ADU))
			return 16;
		/* a counter, not seq % BATCH: ARMv4 guests have no division */
		if (++in_batch == BATCH) {
			in_batch = 0;
			net_send_byte(to_parent, 'b');
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
	if (net_pipe(up) || net_pipe(down)) {
		kt_line("# no pipes");
		return 1;
	}
	pid = fork();
	if (pid == 0)
		exit(receiver(up[1], down[0]));

	r = net_wait_byte(up[0]) == 'n' ? link_create("veth", "nsa", "nsb", pid) : -1;
	if (!r)
		r = link_addr_up("nsa", ADDR_A);
	net_send_byte(down[1], 'v');
	kt_result(r == 0 && net_wait_byte(up[0]) == 'r',
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
	kt_result(r == ADU && net_wait_byte(up[0]) == 'a', "first_datagram_arrives",
		  "r=%s", errname(r));

	for (seq = 0; seq < N_STREAM && tok > 0; seq++) {
		net_fill(buf, ADU, seq);
		if (netspec_send(tok, buf, ADU, 0) != ADU)
			break;
		sent++;
		if (++in_batch == BATCH) {
			in_batch = 0;
			if (net_wait_byte(up[0]) != 'b')
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
