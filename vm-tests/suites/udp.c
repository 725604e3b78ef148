// SPDX-License-Identifier: GPL-2.0
/*
 * UDP through netspec tokens, over loopback: datagrams arrive complete and
 * in order, the specialized path puts the same packets on the wire as
 * send(), tokens are descriptors (fork passes them on, exec closes them),
 * and every bad input fails with its documented errno and sends nothing.
 *
 * Run with "--exec-check TOKEN ACK GO" it is the far side of the exec
 * test: the token its image held before exec must be gone.  It reports
 * 'y' on the pipe end ACK and waits on GO, so that the parent sees the
 * instance while the exec'd process still runs.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "genl.h"
#include "capture.h"

#define ADU 64
#define N_STREAM 1000
#define BATCH 50
#define LOOPBACK 0x7f000001

static unsigned char buf[2048], got[2048];

static int expect(long got_r, long want, const char *name)
{
	return kt_result(got_r == want, name, "expected %s (%ld), got %s (%ld)",
			 errname(want), want, errname(got_r), got_r);
}

static void fill(unsigned char *p, unsigned int seq, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seq * 7 + i * 13);
	if (len >= 4) {
		p[0] = seq >> 24;
		p[1] = seq >> 16;
		p[2] = seq >> 8;
		p[3] = seq;
	}
}

/* Receives one datagram within a second; its length, or -errno. */
static long recv_one(int fd, unsigned char *p, unsigned long len)
{
	long r = net_wait_readable(fd, 1000);

	if (r <= 0)
		return r ? r : -EAGAIN;
	return net_recvfrom(fd, p, len, MSG_DONTWAIT, NULL, NULL);
}

/* Whether fd stays empty: the failed call sent nothing. */
static int nothing_arrives(int fd)
{
	return net_wait_readable(fd, 50) == 0;
}

/*
 * Sends n datagrams of len bytes through token, in batches, and checks each
 * arrives whole and in order at rx.  Returns 0, or the first bad sequence
 * number + 1 with *why set.
 */
static unsigned int stream(int token, int rx, unsigned int n, unsigned int len,
			   const char **why)
{
	unsigned int seq = 0, rseq = 0, i;
	long r;

	while (seq < n) {
		for (i = 0; i < BATCH && seq < n; i++, seq++) {
			fill(buf, seq, len);
			r = netspec_send(token, buf, len, 0);
			if (r != (long)len) {
				*why = "send failed";
				return seq + 1;
			}
		}
		for (; rseq < seq; rseq++) {
			fill(buf, rseq, len);
			r = recv_one(rx, got, sizeof(got));
			if (r != (long)len) {
				*why = "lost or wrong length";
				return rseq + 1;
			}
			if (memcmp(buf, got, len)) {
				*why = "bytes differ or out of order";
				return rseq + 1;
			}
		}
	}
	return 0;
}

/*
 * Checks what the netspec generic netlink family reports of the instance
 * numbered id; 1 if it matches, else 0 with *why set.
 */
static int nl_inst_matches(unsigned int id, unsigned int users,
			   unsigned long long sends, const char **why)
{
	struct netspec_nl_inst i;

	if (netspec_nl_inst(id, &i))
		return *why = "no instance with that number", 0;
	if (i.id != id || i.path != NETSPEC_PATH_UDP4 ||
	    i.protocol != NETSPEC_PROTO_UDP || i.adu != ADU ||
	    i.family != AF_UNSPEC || i.pid != (unsigned int)getpid())
		return *why = "context attributes differ", 0;
	if (i.users != users)
		return *why = "users differ", 0;
	if (i.sends != sends)
		return *why = "sends differ", 0;
	return 1;
}

/* The exec side: the token of the image before exec must be invalid. */
static int exec_check(char **argv)
{
	struct netspec_info info;
	unsigned int token = parse_uint(argv[2]);
	int r = 0;

	if (netspec_send(token, buf, ADU, 0) != -EBADF)
		r = 1;
	else if (netspec_info(token, &info) != -EBADF)
		r = 2;
	net_send_byte(parse_uint(argv[3]), r ? 'n' : 'y');
	net_wait_byte(parse_uint(argv[4]));
	return r;
}

/*
 * send() and customized_send() of the same bytes on one socket: every
 * header field equal, but the IP ID, which is the socket's next one, and
 * the IP checksum, which covers it and must be valid.
 */
static int same_packets(int tx, int token, int cap, unsigned short port,
			const char **why)
{
	static unsigned char a[256], b[256];
	const struct iphdr *ia = (void *)a, *ib = (void *)b;
	long la, lb;

	fill(buf, 4242, ADU);
	if (net_sendto(tx, buf, ADU, 0, NULL, 0) != ADU)
		return *why = "send() failed", 0;
	la = cap_next(cap, port, a, sizeof(a));
	if (netspec_send(token, buf, ADU, 0) != ADU)
		return *why = "customized_send() failed", 0;
	lb = cap_next(cap, port, b, sizeof(b));
	if (la != 20 + 8 + ADU || lb != la) {
		kt_line("# captured %ld and %ld bytes, expected %d", la, lb,
			20 + 8 + ADU);
		return *why = "capture lengths", 0;
	}
	if (net_csum(a, 20) || net_csum(b, 20))
		return *why = "IP header checksum invalid", 0;
	if (net_ntohs(ib->id) != (unsigned short)(net_ntohs(ia->id) + 1))
		return *why = "IP ID not the socket's next", 0;
	if (ia->version != ib->version || ia->tos != ib->tos ||
	    ia->tot_len != ib->tot_len || ia->frag_off != ib->frag_off ||
	    ia->ttl != ib->ttl || ia->protocol != ib->protocol ||
	    ia->saddr != ib->saddr || ia->daddr != ib->daddr)
		return *why = "IP header fields differ", 0;
	if (memcmp(a + 20, b + 20, 8 + ADU))
		return *why = "UDP header or payload differ", 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct netspec_customize c;
	struct netspec_info info;
	struct netspec_query q;
	unsigned short port = 0;
	const char *why = "";
	unsigned int bad;
	int rx, tx, tok, t2, st, cap, pfd, ack[2], go[2], acked;
	long r;
	pid_t pid;

	if (argc == 5 && !strcmp(argv[1], "--exec-check"))
		return exec_check(argv);

	kt_plan(1, 40);
	net_if_up("lo");

	r = netspec_query(&q);
	kt_result(r == 0 && netspec_supports(&q, NETSPEC_OP_CUSTOMIZE) &&
		  netspec_supports(&q, NETSPEC_OP_INFO) &&
		  netspec_can_specialize(&q, NETSPEC_PROTO_UDP),
		  "query_lists_customize_info_and_udp",
		  "r=%s ops=%llx protocols=%llx", errname(r),
		  (unsigned long long)q.ops, (unsigned long long)q.protocols);

	rx = net_udp_receiver(LOOPBACK, &port);
	tx = net_udp_sender(LOOPBACK, port);
	if (rx < 0 || tx < 0) {
		kt_line("# cannot set up sockets on lo");
		return 1;
	}

	/* The stream through a specialized connected socket. */
	c = netspec_udp_connected(tx, ADU);
	tok = netspec_customize(&c);
	kt_result(tok > 0 && c.token == tok &&
		  (my_syscall3(__NR_fcntl, tok, F_GETFD, 0) & FD_CLOEXEC),
		  "customize_returns_a_cloexec_descriptor", "r=%s token=%d",
		  errname(tok), c.token);
	kt_result(c.path == NETSPEC_PATH_UDP4, "connected_udp4_is_specialized",
		  "path=%u", c.path);
	bad = stream(tok, rx, N_STREAM, ADU, &why);
	kt_result(!bad, "stream_1000_datagrams_complete_and_in_order",
		  "datagram %u: %s", bad - 1, why);
	r = netspec_info(tok, &info);
	kt_result(r == 0 && info.sends == N_STREAM && info.fallbacks == 0 &&
		  info.users == 1 && info.adu == ADU &&
		  info.protocol == NETSPEC_PROTO_UDP && info.path == c.path,
		  "info_counts_the_sends", "r=%s sends=%llu fallbacks=%llu users=%u adu=%u",
		  errname(r), (unsigned long long)info.sends,
		  (unsigned long long)info.fallbacks, info.users, info.adu);

	cap = cap_open(1);	/* lo */
	why = "no capture socket";
	st = cap >= 0 && same_packets(tx, tok, cap, port, &why);
	kt_result(st, "same_packets_as_send", "%s", why);
	/* drain what the comparison sent */
	while (net_wait_readable(rx, 20) > 0)
		net_recvfrom(rx, got, sizeof(got), MSG_DONTWAIT, NULL, NULL);

	/* Bad sends: each fails, and nothing reaches the receiver. */
	expect(netspec_send(tok, buf, ADU - 1, 0), -EINVAL,
	       "send_shorter_than_adu_is_EINVAL");
	expect(netspec_send(tok, buf, ADU + 1, 0), -EINVAL,
	       "send_longer_than_adu_is_EINVAL");
	expect(netspec_send(tok, buf, ADU, MSG_DONTWAIT), -EINVAL,
	       "send_with_a_msg_flag_is_EINVAL");
	expect(netspec_send(tok, (void *)16, ADU, 0), -EFAULT,
	       "send_from_bad_buffer_is_EFAULT");
	expect(netspec_send(tx, buf, ADU, 0), -EBADF,
	       "a_socket_is_not_a_token_EBADF");
	expect(netspec_send(-1, buf, ADU, 0), -EBADF, "negative_token_is_EBADF");
	expect(netspec_send(tok + 1000, buf, ADU, 0), -EBADF,
	       "unopened_descriptor_is_EBADF");
	kt_result(nothing_arrives(rx), "failed_sends_sent_nothing",
		  "a datagram arrived");

	/* fork: the child inherits the token, as it inherits the socket, and
	 * a token it customizes for the same context shares the instance.
	 */
	pid = fork();
	if (pid == 0) {
		struct netspec_customize cc = netspec_udp_connected(tx, ADU);
		struct netspec_info ci;
		long ct;

		fill(buf, 76, ADU);
		if (netspec_send(tok, buf, ADU, 0) != ADU)
			exit(10);
		ct = netspec_customize(&cc);
		if (ct <= 0)
			exit(11);
		if (netspec_info(ct, &ci) || ci.users != 2)
			exit(12);
		fill(buf, 77, ADU);
		if (netspec_send(ct, buf, ADU, 0) != ADU)
			exit(13);
		exit(0);
	}
	st = -1;
	waitpid(pid, &st, 0);
	kt_result(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "fork_child_inherits_token_and_shares_instance",
		  "child exit %d (10 inherited, 11 customize, 12 users, 13 send)",
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	r = recv_one(rx, got, sizeof(got));
	fill(buf, 76, ADU);
	st = r == ADU && !memcmp(got, buf, ADU);
	r = recv_one(rx, got, sizeof(got));
	fill(buf, 77, ADU);
	kt_result(st && r == ADU && !memcmp(got, buf, ADU),
		  "child_sends_arrived", "r=%s", errname(r));
	r = netspec_info(tok, &info);
	kt_result(r == 0 && info.users == 1 && info.sends == N_STREAM + 3,
		  "child_exit_released_its_token",
		  "r=%s users=%u sends=%llu", errname(r), info.users,
		  (unsigned long long)info.sends);

	/*
	 * exec drops the tokens of the old image: the child's token, which
	 * shares the instance, is gone in the new image, and the instance is
	 * down to this process's one user while the new image still runs.
	 */
	if (net_pipe(ack) || net_pipe(go)) {
		kt_line("# cannot make the pipes of the exec test");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		struct netspec_customize cc = netspec_udp_connected(tx, ADU);
		char arg[16], a[16], g[16];
		char *args[] = { "/proc/self/exe", "--exec-check", arg, a, g,
				 NULL };
		char *envp[] = { NULL };
		long ct = netspec_customize(&cc);

		if (ct <= 0)
			exit(20);
		u64toa_r(ct, arg);
		u64toa_r(ack[1], a);
		u64toa_r(go[0], g);
		execve(args[0], args, envp);
		exit(21);
	}
	close(ack[1]);	/* so that the child's end closing is seen */
	close(go[0]);
	acked = net_wait_byte(ack[0]) == 'y';
	r = netspec_info(tok, &info);
	net_send_byte(go[1], 'g');
	close(ack[0]);
	close(go[1]);
	st = -1;
	waitpid(pid, &st, 0);
	kt_result(WIFEXITED(st) && WEXITSTATUS(st) == 0 && acked && r == 0 &&
		  info.users == 1, "exec_drops_tokens",
		  "child exit %d (1 send, 2 info, 20 customize, 21 exec), users while the new image runs %u",
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1, info.users);

	/* cancel */
	t2 = netspec_customize(&c);
	kt_result(t2 > 0 && t2 != tok, "second_customize_gets_new_token",
		  "r=%s", errname(t2));
	r = netspec_info(t2, &info);
	kt_result(r == 0 && info.users == 2, "same_context_shares_instance",
		  "r=%s users=%u", errname(r), info.users);
	why = "";
	st = r == 0 && nl_inst_matches(info.id, 2, info.sends, &why);
	kt_result(st, "netlink_reports_the_shared_instance", "%s", why);
	{
		struct netspec_nl_stats ns = { 0 };

		r = netspec_nl_stats(&ns);
		kt_result(r == 0 && ns.hits >= 2 && ns.misses >= 1 &&
			  ns.versions >= 1 && ns.max_versions == 256,
			  "netlink_counts_cache_hits",
			  "r=%s hits %llu misses %llu versions %u max %u",
			  errname(r), ns.hits, ns.misses, ns.versions,
			  ns.max_versions);
	}
	expect(close(t2) ? -errno : 0, 0, "close_releases_a_token");
	expect(netspec_send(t2, buf, ADU, 0), -EBADF,
	       "send_on_a_closed_token_is_EBADF");
	expect(close(t2) ? -errno : 0, -EBADF, "second_close_is_EBADF");
	r = netspec_info(tok, &info);
	kt_result(r == 0 && info.users == 1, "cancel_released_one_user",
		  "r=%s users=%u", errname(r), info.users);

	/* An unconnected socket with the destination in the context. */
	c = netspec_udp_to_ipv4(net_socket(AF_INET, SOCK_DGRAM, 0), ADU,
				net_htonl(LOOPBACK), net_htons(port));
	t2 = netspec_customize(&c);
	bad = t2 > 0 ? stream(t2, rx, 100, ADU, &why) : 1;
	kt_result(t2 > 0 && c.path == NETSPEC_PATH_UDP4 && !bad,
		  "unconnected_socket_with_destination_streams",
		  "r=%s path=%u datagram %u: %s", errname(t2), c.path, bad - 1,
		  why);

	/* An empty context (no ADU) takes the generic path, any length. */
	c = netspec_udp_connected(tx, 0);
	t2 = netspec_customize(&c);
	bad = t2 > 0 ? stream(t2, rx, 10, 10, &why) : 1;
	if (!bad)
		bad = stream(t2, rx, 10, 1000, &why);
	kt_result(t2 > 0 && c.path == NETSPEC_PATH_GENERIC && !bad,
		  "empty_context_is_generic_and_takes_any_length",
		  "r=%s path=%u datagram %u: %s", errname(t2), c.path, bad - 1,
		  why);

	/* IPv6: the generic path until the IPv6 path is specialized. */
	{
		struct sockaddr_in6 s6 = { 0 };
		socklen_t l6 = sizeof(s6);
		long rx6 = net_socket(AF_INET6, SOCK_DGRAM, 0);
		long tx6 = net_socket(AF_INET6, SOCK_DGRAM, 0);

		s6.sin6_family = AF_INET6;
		s6.sin6_addr.s6_addr[15] = 1;
		r = net_bind(rx6, &s6, sizeof(s6));
		if (!r)
			r = net_getsockname(rx6, &s6, &l6);
		if (!r)
			r = net_connect(tx6, &s6, sizeof(s6));
		c = netspec_udp_connected(tx6, ADU);
		t2 = r ? r : netspec_customize(&c);
		bad = t2 > 0 ? stream(t2, rx6, 100, ADU, &why) : 1;
		kt_result(t2 > 0 && c.path == NETSPEC_PATH_GENERIC && !bad,
			  "ipv6_connected_streams_on_generic_path",
			  "r=%s path=%u datagram %u: %s", errname(t2), c.path,
			  bad - 1, why);
	}

	/* Bad contexts. */
	c = netspec_udp_connected(1000, ADU);
	expect(netspec_customize(&c), -EBADF, "customize_bad_fd_is_EBADF");
	/* 6.1's nolibc has no pipe(): any file that is not a socket will do */
	pfd = open("/proc/version", O_RDONLY, 0);
	c = netspec_udp_connected(pfd, ADU);
	expect(netspec_customize(&c), -ENOTSOCK,
	       "customize_non_socket_is_ENOTSOCK");
	c = netspec_udp_connected(tx, ADU);
	c.protocol = NETSPEC_PROTO_TCP + 1;
	expect(netspec_customize(&c), -EPROTONOSUPPORT,
	       "customize_unknown_protocol_is_EPROTONOSUPPORT");
	c = netspec_udp_connected(tx, ADU);
	c.protocol = NETSPEC_PROTO_TCP;
	expect(netspec_customize(&c), -EPROTOTYPE,
	       "customize_tcp_protocol_of_udp_socket_is_EPROTOTYPE");
	c = netspec_udp_connected(net_socket(AF_INET, SOCK_STREAM, 0), ADU);
	expect(netspec_customize(&c), -EPROTOTYPE,
	       "customize_tcp_socket_is_EPROTOTYPE");
	c = netspec_udp_connected(net_socket(AF_INET, SOCK_DGRAM, 0), ADU);
	expect(netspec_customize(&c), -EDESTADDRREQ,
	       "customize_unconnected_without_destination_is_EDESTADDRREQ");
	c = netspec_udp_connected(tx, 65508);
	expect(netspec_customize(&c), -EMSGSIZE,
	       "customize_adu_over_65507_is_EMSGSIZE");
	c = netspec_udp_connected(tx, ADU);
	c.family = AF_INET6;
	c.port = net_htons(port);
	expect(netspec_customize(&c), -EAFNOSUPPORT,
	       "customize_ipv6_destination_on_ipv4_socket_is_EAFNOSUPPORT");
	c = netspec_udp_connected(tx, ADU);
	c.send_flags = MSG_DONTWAIT | 0x1;
	expect(netspec_customize(&c), -EINVAL, "customize_bad_send_flag_is_EINVAL");
	c = netspec_udp_connected(tx, ADU);
	expect(netspec_call(NETSPEC_OP_CUSTOMIZE, &c,
			    NETSPEC_CUSTOMIZE_SIZE_VER0 - 4), -EINVAL,
	       "customize_short_struct_is_EINVAL");
	memset(&info, 0, sizeof(info));
	info.token = tok;
	expect(netspec_call(NETSPEC_OP_INFO, &info, NETSPEC_INFO_SIZE_VER0 - 8),
	       -EINVAL, "info_short_struct_is_EINVAL");

	return kt_exit_status();
}
