// SPDX-License-Identifier: GPL-2.0
/*
 * Policy is decided per send: a token send meets the cgroup BPF programs,
 * the LSM, the capability checks and the socket options exactly as send()
 * on its socket does, whatever was decided at customize time.
 *
 *  - A BPF_CGROUP_UDP4_SENDMSG program (loaded here with raw bpf(), attached
 *    to a cgroup this process moves into) denies one destination and
 *    rewrites another: a token to it fails, or is rewritten, as sendto().
 *    An IPv6 socket connected to a v4-mapped peer meets it on every send,
 *    since udpv6_sendmsg() names the peer to udp_sendmsg(): so does its
 *    token.
 *  - Smack, the test kernels' LSM: a rule changed after customize decides
 *    the next token send as it decides sendto().
 *  - The route policy REINFORCE asks for a netfilter hook on the
 *    namespace's packets: without CAP_NET_ADMIN, EPERM.
 *  - The socket policy REJECT refuses only what the path froze; what it
 *    reads per send (TTL, priority) reaches the next token datagram.
 *  - A change made behind setsockopt()'s back (bpf_setsockopt() from a
 *    BPF_CGROUP_UDP4_RECVMSG program) is seen by the next token send, under
 *    every socket policy, and its datagram is send()'s.
 *  - An IPsec policy of the socket's own (IP_XFRM_POLICY) decides token
 *    sends as it decides send(): REJECT refuses it, and once set, no
 *    token datagram leaves on the route without the transform.
 *  - The audit log records a context's destination when the token is
 *    made, as it records the address sendto() is given.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "capture.h"
#include "bpf.h"
#include "smack.h"
#include "audit.h"

#include <linux/xfrm.h>

#define ADU 64
#define LOOPBACK 0x7f000001
#define LO_X 0x7f000014		/* 127.0.0.20: the program rewrites it... */
#define LO_Z 0x7f000015		/* 127.0.0.21: ...to this */
#define LO_D 0x7f000016		/* 127.0.0.22: the program denies it */
#define LO_S 0x7f000009		/* 127.0.0.9: Smack's test host */
#define SMACK_NET "127.0.0.9/32"
#define SMACK_HOST "NetspecHost"
#define CGROUP "netspec-policy"
#define SOL_UDP 17
#define SO_RCVBUFFORCE 33
#define CAP_NET_ADMIN 12

static unsigned char buf[ADU], got[ADU];
static unsigned char pa[CAP_MAX], pb[CAP_MAX];
static int cap = -1, cg = -1;

/* Receives one datagram of ADU bytes within a second into got: 1 or 0. */
static int recv_adu(int fd)
{
	return net_wait_readable(fd, 1000) == 1 &&
	       net_recvfrom(fd, got, sizeof(got), MSG_DONTWAIT, NULL, NULL) == ADU;
}

/* Whether fd stays empty for a while: what failed sent nothing. */
static int stays_empty(int fd)
{
	return net_wait_readable(fd, 100) == 0;
}

/* A UDP socket bound to addr:port (host order); fd or -1. */
static int bound_at(unsigned int addr, unsigned short port)
{
	struct sockaddr_in sin = net_sin(addr, port);
	long fd = net_socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || net_bind(fd, &sin, sizeof(sin)))
		return -1;
	return fd;
}

/* Customizes fd for ADU-byte datagrams to addr:port, with socket policy sp
 * and route policy rp (0: the defaults).
 */
static long customize_to(int fd, unsigned int addr, unsigned short port,
			 int sp, int rp, struct netspec_customize *c)
{
	*c = netspec_udp_to_ipv4(fd, ADU, net_htonl(addr), net_htons(port));
	c->policy[NETSPEC_EVENT_SOCKET] = sp;
	c->policy[NETSPEC_EVENT_ROUTE] = rp;
	return netspec_customize(c);
}

/* The same, for a connected socket (its peer). */
static long customize_peer(int fd, int sp, int rp, struct netspec_customize *c)
{
	*c = netspec_udp_connected(fd, ADU);
	c->policy[NETSPEC_EVENT_SOCKET] = sp;
	c->policy[NETSPEC_EVENT_ROUTE] = rp;
	return netspec_customize(c);
}

static long sendto_addr(int fd, unsigned int addr, unsigned short port)
{
	struct sockaddr_in sin = net_sin(addr, port);

	return net_sendto(fd, buf, ADU, 0, &sin, sizeof(sin));
}

static long setopt_int(int fd, int level, int name, int v)
{
	return net_setsockopt(fd, level, name, &v, sizeof(v));
}

/* An outbound IPsec policy that blocks every IPv4 flow of the socket it is
 * set on: udp_sendmsg() then fails with EPERM (xfrm_lookup()).
 */
static const struct xfrm_userpolicy_info block_policy = {
	.sel.family = AF_INET,
	.dir = XFRM_POLICY_OUT,
	.action = XFRM_POLICY_BLOCK,
	.share = XFRM_SHARE_ANY,
};

static long set_block_policy(int fd)
{
	return net_setsockopt(fd, IPPROTO_IP, IP_XFRM_POLICY, &block_policy,
			      sizeof(block_policy));
}

/*
 * (a) A cgroup sock_addr program, which udp_sendmsg() runs for every send
 * with a destination: it denies LO_D (return 0: EPERM) and rewrites LO_X
 * to LO_Z.  The tokens were customized before it was attached, so this is
 * decided per send.  tx6, an IPv6 socket connected to LO_D v4-mapped, is
 * denied too, send() and token alike.
 */
static void test_cgroup_sendmsg(void)
{
	struct bpf_insn prog[] = {
		BPF_LDX_W(BPF_R2, BPF_R1, __builtin_offsetof(struct bpf_sock_addr, user_ip4)),
		BPF_JEQ32_IMM(BPF_R2, (int)net_htonl(LO_D), 5),
		BPF_JNE32_IMM(BPF_R2, (int)net_htonl(LO_X), 2),
		BPF_MOV32_IMM(BPF_R3, (int)net_htonl(LO_Z)),
		BPF_STX_W(BPF_R1, BPF_R3, __builtin_offsetof(struct bpf_sock_addr, user_ip4)),
		BPF_MOV64_IMM(BPF_R0, 1),
		BPF_EXIT_INSN(),
		BPF_MOV64_IMM(BPF_R0, 0),
		BPF_EXIT_INSN(),
	};
	struct netspec_customize cd, cx;
	struct netspec_info i0, i1;
	unsigned short port = 0;
	int rz = net_udp_receiver(LO_Z, &port), rx = bound_at(LO_X, port);
	int rd = bound_at(LO_D, port);
	int tx = net_socket(AF_INET, SOCK_DGRAM, 0), ok;
	int tx6 = net_socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 d6;
	struct netspec_customize c6 = netspec_udp_connected(tx6, ADU);
	long td, tx_tok, t6, pf, at, r1, r2, la, lb;
	const char *why;

	td = customize_to(tx, LO_D, port, 0, 0, &cd);
	tx_tok = customize_to(tx, LO_X, port, 0, 0, &cx);
	d6 = net_sin6_mapped(LO_D, port);
	t6 = net_connect(tx6, &d6, sizeof(d6)) ?: netspec_customize(&c6);
	pf = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
			   BPF_CGROUP_UDP4_SENDMSG, prog,
			   sizeof(prog) / sizeof(prog[0]));
	at = pf < 0 ? pf : bpf_attach(cg, pf, BPF_CGROUP_UDP4_SENDMSG);
	if (pf < 0)
		kt_line("# verifier: %s", bpf_log);
	if (rz < 0 || rx < 0 || rd < 0 || td <= 0 || tx_tok <= 0 || t6 <= 0 ||
	    at) {
		kt_line("# setup: receivers %d %d %d tokens %s %s %s load %s attach %s",
			rz, rx, rd, errname(td), errname(tx_tok), errname(t6),
			errname(pf), errname(at));
		kt_result(0, "cgroup_sendmsg_denies_the_token_eperm_like_sendto",
			  "setup failed");
		kt_result(0, "cgroup_sendmsg_denies_a_v4_mapped_peer_s_token_like_send",
			  "setup failed");
		kt_result(0, "cgroup_sendmsg_rewrites_the_token_destination_like_sendto",
			  "setup failed");
		kt_result(0, "detaching_the_program_restores_the_token_destination",
			  "setup failed");
		return;
	}

	memset(buf, 0xd0, sizeof(buf));
	r1 = netspec_send(td, buf, ADU, 0);
	r2 = sendto_addr(tx, LO_D, port);
	kt_result(cd.path == NETSPEC_PATH_UDP4 && r1 == -EPERM && r2 == -EPERM &&
		  stays_empty(rd) && stays_empty(rz) && stays_empty(rx),
		  "cgroup_sendmsg_denies_the_token_eperm_like_sendto",
		  "path %u token %s sendto %s", cd.path, errname(r1),
		  errname(r2));

	/* Connected, but named to udp_sendmsg(): the program runs. */
	r1 = netspec_send(t6, buf, ADU, 0);
	r2 = net_sendto(tx6, buf, ADU, 0, NULL, 0);
	kt_result(c6.path == NETSPEC_PATH_UDP4 && r1 == -EPERM &&
		  r2 == -EPERM && stays_empty(rd) && stays_empty(rz) &&
		  stays_empty(rx),
		  "cgroup_sendmsg_denies_a_v4_mapped_peer_s_token_like_send",
		  "path %u token %s send %s", c6.path, errname(r1),
		  errname(r2));

	/* The rewritten destination: the same packet, at LO_Z, both ways. */
	i0 = netspec_info_of(tx_tok);
	cap_flush(cap, pa, sizeof(pa));
	net_fill(buf, ADU, 1);
	r2 = sendto_addr(tx, LO_X, port);
	la = cap_next(cap, port, pa, sizeof(pa));
	ok = recv_adu(rz) && !memcmp(got, buf, ADU);
	r1 = netspec_send(tx_tok, buf, ADU, 0);
	lb = cap_next(cap, port, pb, sizeof(pb));
	ok = ok && recv_adu(rz) && !memcmp(got, buf, ADU) && stays_empty(rx);
	why = la < 0 || lb < 0 ? "not captured" : cap_same_but_id(pa, la, pb, lb);
	i1 = netspec_info_of(tx_tok);
	kt_line("# rewritten by the program: token sends %llu fallbacks %llu",
		i1.sends, i1.fallbacks);
	kt_result(r1 == ADU && r2 == ADU && ok && !why &&
		  ((struct iphdr *)pb)->daddr == net_htonl(LO_Z) &&
		  i1.sends == i0.sends + 1,
		  "cgroup_sendmsg_rewrites_the_token_destination_like_sendto",
		  "token %s sendto %s, both at Z %d, packets: %s", errname(r1),
		  errname(r2), ok, why ? why : "same");

	/* Without the program, the token's own destination again, on its
	 * specialized path.
	 */
	bpf_detach(cg, pf, BPF_CGROUP_UDP4_SENDMSG);
	close(pf);
	i0 = netspec_info_of(tx_tok);
	r1 = netspec_send(tx_tok, buf, ADU, 0);
	ok = recv_adu(rx) && !memcmp(got, buf, ADU) && stays_empty(rz);
	i1 = netspec_info_of(tx_tok);
	kt_result(r1 == ADU && ok && i1.path == NETSPEC_PATH_UDP4 &&
		  i1.fallbacks == i0.fallbacks,
		  "detaching_the_program_restores_the_token_destination",
		  "send %s arrived at X %d path %u fallbacks %llu -> %llu",
		  errname(r1), ok, i1.path, i0.fallbacks, i1.fallbacks);
	close(td);
	close(tx_tok);
	close(t6);
	close(tx);
	close(tx6);
	close(rx);
	close(rz);
	close(rd);
}

/*
 * (b) Smack, the LSM of the test kernels, because it decides every
 * sendmsg() with a destination against its host labels (the socket's
 * label must have write access to the destination host's label), and its
 * policy is text that a nolibc program writes to smackfs: so a rule that
 * changes after customize must decide the next token send.  The task's
 * label writes to SMACK_HOST only while the rule allows it.
 */
static void test_smack(void)
{
	struct netspec_customize c;
	char self[64] = "";
	unsigned short port = 0;
	int rx = -1, tx = net_socket(AF_INET, SOCK_DGRAM, 0);
	long m, l, rule, t = -1, r1, r2;
	int ok;

	m = smack_mount();
	l = m ? m : smack_host_label(SMACK_NET, SMACK_HOST);
	if (!l)
		l = smack_self_label(self, sizeof(self));
	rule = l ? l : smack_rule(self, SMACK_HOST, "w");
	if (!rule) {
		rx = net_udp_receiver(LO_S, &port);
		t = customize_to(tx, LO_S, port, 0, 0, &c);
	}
	if (rule || rx < 0 || t <= 0) {
		kt_line("# setup: mount %s label %s rule %s receiver %d token %s",
			errname(m), errname(l), errname(rule), rx, errname(t));
		kt_result(0, "smack_allowed_host_takes_token_sends", "setup failed");
		kt_result(0, "smack_rule_changed_to_deny_fails_the_next_token_send_eacces",
			  "setup failed");
		kt_result(0, "smack_rule_allowed_again_lets_the_token_send",
			  "setup failed");
		smack_host_label(SMACK_NET, "-CIPSO");
		return;
	}
	kt_line("# smack: task label \"%s\", host %s labelled %s", self,
		SMACK_NET, SMACK_HOST);

	net_fill(buf, ADU, 2);
	r1 = netspec_send(t, buf, ADU, 0);
	ok = recv_adu(rx);
	r2 = sendto_addr(tx, LO_S, port);
	ok = ok && recv_adu(rx);
	kt_result(c.path == NETSPEC_PATH_UDP4 && r1 == ADU && r2 == ADU && ok,
		  "smack_allowed_host_takes_token_sends",
		  "path %u token %s sendto %s both arrived %d", c.path,
		  errname(r1), errname(r2), ok);

	rule = smack_rule(self, SMACK_HOST, "-");
	r1 = netspec_send(t, buf, ADU, 0);
	r2 = sendto_addr(tx, LO_S, port);
	kt_result(!rule && r1 == -EACCES && r2 == -EACCES && stays_empty(rx),
		  "smack_rule_changed_to_deny_fails_the_next_token_send_eacces",
		  "rule %s token %s sendto %s", errname(rule), errname(r1),
		  errname(r2));

	rule = smack_rule(self, SMACK_HOST, "w");
	r1 = netspec_send(t, buf, ADU, 0);
	ok = recv_adu(rx) && !memcmp(got, buf, ADU);
	kt_result(!rule && r1 == ADU && ok &&
		  netspec_info_of(t).path == NETSPEC_PATH_UDP4,
		  "smack_rule_allowed_again_lets_the_token_send",
		  "rule %s token %s arrived %d path %u", errname(rule),
		  errname(r1), ok, netspec_info_of(t).path);
	close(t);
	close(tx);
	close(rx);
	smack_host_label(SMACK_NET, "-CIPSO");
}

struct cap_header {
	unsigned int version;
	int pid;
};

struct cap_data {
	unsigned int effective, permitted, inheritable;
};

/* Drops CAP_NET_ADMIN from this task's effective and permitted sets. */
static long drop_net_admin(void)
{
	struct cap_header h = { 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0 };
	struct cap_data d[2];
	long r = my_syscall2(__NR_capget, &h, d);

	if (r)
		return r;
	d[0].effective &= ~(1U << CAP_NET_ADMIN);
	d[0].permitted &= ~(1U << CAP_NET_ADMIN);
	return my_syscall2(__NR_capset, &h, d);
}

static long become_nobody(void)
{
	return netspec_setresuid(65534, 65534, 65534);
}

/*
 * A child that lost CAP_NET_ADMIN (how: drop it, or become nobody):
 * query no longer lists REINFORCE for the route event, customize asking
 * for it fails with EPERM, and the other route policies are still its to
 * ask for.  Exit status 0, or the step that failed.
 */
static int unprivileged_child(int fd, int how)
{
	struct netspec_customize c;
	struct netspec_query q;
	long r = how ? become_nobody() : drop_net_admin();

	if (r)
		return 10;
	if (netspec_query(&q) ||
	    netspec_takes_policy(&q, NETSPEC_EVENT_ROUTE, NETSPEC_POLICY_REINFORCE) ||
	    !netspec_takes_policy(&q, NETSPEC_EVENT_ROUTE, NETSPEC_POLICY_INVALIDATE))
		return 11;
	if (customize_peer(fd, 0, NETSPEC_POLICY_REINFORCE, &c) != -EPERM)
		return 12;
	r = customize_peer(fd, 0, NETSPEC_POLICY_INVALIDATE, &c);
	if (r <= 0 || c.policy[NETSPEC_EVENT_ROUTE] != NETSPEC_POLICY_INVALIDATE)
		return 13;
	return 0;
}

/* (c) REINFORCE is the namespace administrator's to ask for. */
static void test_reinforce_needs_net_admin(void)
{
	static const char *const how[] = { "capset", "setresuid" };
	struct netspec_customize c;
	unsigned short port = 0;
	int rx = net_udp_receiver(LOOPBACK, &port);
	int tx = net_udp_sender(LOOPBACK, port), st[2], i;
	long t;

	for (i = 0; i < 2; i++) {
		pid_t pid = fork();

		if (pid == 0)
			exit(unprivileged_child(tx, i));
		st[i] = -1;
		waitpid(pid, &st[i], 0);
		st[i] = WIFEXITED(st[i]) ? WEXITSTATUS(st[i]) : 100;
	}
	kt_result(st[0] == 0 && st[1] == 0,
		  "reinforce_without_cap_net_admin_is_eperm",
		  "dropped by %s: step %d, by %s: step %d (10 drop, 11 query lists it, 12 not EPERM, 13 invalidate refused)",
		  how[0], st[0], how[1], st[1]);
	t = customize_peer(tx, 0, NETSPEC_POLICY_REINFORCE, &c);
	memset(buf, 0x5c, sizeof(buf));
	kt_result(t > 0 && c.policy[NETSPEC_EVENT_ROUTE] == NETSPEC_POLICY_REINFORCE &&
		  netspec_send(t, buf, ADU, 0) == ADU && recv_adu(rx),
		  "reinforce_with_cap_net_admin_is_granted",
		  "customize %s policy %u", errname(t), c.policy[1]);
	close(t);
	close(tx);
	close(rx);
}

/* One frozen option and a value it could take. */
struct frozen {
	const char *name;
	int level, opt;
	int v;
	unsigned int len;	/* 0: an int */
	const void *p;
};

/* Records the priority of every packet the cgroup's sockets send. */
static long priority_prog(int map)
{
	struct bpf_insn prog[] = {
		BPF_LDX_W(BPF_R2, BPF_R1, __builtin_offsetof(struct __sk_buff, priority)),
		BPF_STX_W(BPF_R10, BPF_R2, -4),
		BPF_ST_W(BPF_R10, -8, 0),
		BPF_LD_MAP_FD(BPF_R1, map),
		BPF_MOV64_REG(BPF_R2, BPF_R10),
		BPF_ADD64_IMM(BPF_R2, -8),
		BPF_CALL_FN(BPF_FUNC_map_lookup_elem),
		BPF_JEQ64_IMM(BPF_R0, 0, 2),
		BPF_LDX_W(BPF_R1, BPF_R10, -4),
		BPF_STX_W(BPF_R0, BPF_R1, 0),
		BPF_MOV64_IMM(BPF_R0, 1),
		BPF_EXIT_INSN(),
	};
	long pf = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS,
				prog, sizeof(prog) / sizeof(prog[0]));

	if (pf < 0)
		kt_line("# verifier: %s", bpf_log);
	return pf;
}

/* (d) REJECT refuses what the path froze, and only that. */
static void test_reject(void)
{
	static const unsigned char nop_opts[4] = { 1, 1, 1, 0 };
	static const char lo[] = "lo";
	const struct frozen frozen[] = {
		{ "SO_BINDTODEVICE", SOL_SOCKET, SO_BINDTODEVICE, 0, sizeof(lo), lo },
		{ "SO_BINDTOIFINDEX", SOL_SOCKET, SO_BINDTOIFINDEX, 1, 0, NULL },
		{ "SO_MARK", SOL_SOCKET, SO_MARK, 7, 0, NULL },
		{ "SO_NO_CHECK", SOL_SOCKET, SO_NO_CHECK, 1, 0, NULL },
		{ "SO_TIMESTAMPING", SOL_SOCKET, SO_TIMESTAMPING_OLD, 2, 0, NULL },
		{ "SO_WIFI_STATUS", SOL_SOCKET, SO_WIFI_STATUS, 1, 0, NULL },
		{ "SO_DONTROUTE", SOL_SOCKET, SO_DONTROUTE, 1, 0, NULL },
		{ "SO_ADU", SOL_SOCKET, SO_ADU, ADU, 0, NULL },
		{ "IP_TOS", IPPROTO_IP, IP_TOS, 0x10, 0, NULL },
		{ "IP_MTU_DISCOVER", IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO, 0, NULL },
		{ "IP_OPTIONS", IPPROTO_IP, IP_OPTIONS, 0, 4, nop_opts },
		{ "IP_UNICAST_IF", IPPROTO_IP, IP_UNICAST_IF, 0x01000000, 0, NULL },
		/* Not IP_FREEBIND: inet_sk_flowi_flags() reads TRANSPARENT only. */
		{ "IP_TRANSPARENT", IPPROTO_IP, IP_TRANSPARENT, 1, 0, NULL },
		{ "UDP_CORK", SOL_UDP, UDP_CORK, 1, 0, NULL },
		{ "UDP_SEGMENT", SOL_UDP, UDP_SEGMENT, 1000, 0, NULL },
		{ "IP_XFRM_POLICY", IPPROTO_IP, IP_XFRM_POLICY, 0,
		  sizeof(block_policy), &block_policy },
	};
	struct netspec_customize c;
	struct netspec_info i, j;
	struct sockaddr_in sin;
	unsigned short port = 0;
	unsigned int n, refused = 0, pa_prio = 0, pb_prio = 0;
	char missed[512] = "";
	int rx = net_udp_receiver(LOOPBACK, &port);
	int tx = net_udp_sender(LOOPBACK, port), map, pf = -1, ok;
	long t = customize_peer(tx, 0, 0, &c), so, mk, co, pr, tl, sb, la, lb;
	long sa, st, bad;
	const char *why;

	sin = net_sin(LOOPBACK, port);
	i = netspec_info_of(t);
	so = setopt_int(tx, IPPROTO_IP, IP_TOS, 0x10);
	mk = setopt_int(tx, SOL_SOCKET, SO_MARK, 7);
	co = net_connect(tx, &sin, sizeof(sin));
	j = netspec_info_of(t);
	kt_result(t > 0 && c.path == NETSPEC_PATH_UDP4 &&
		  c.policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_REJECT &&
		  so == -EBUSY && mk == -EBUSY && co == -EBUSY &&
		  net_getsockopt_int(tx, IPPROTO_IP, IP_TOS) == 0 &&
		  j.trips == i.trips + 3 && j.path == NETSPEC_PATH_UDP4,
		  "reject_refuses_ip_tos_so_mark_and_connect_ebusy",
		  "path %u policy %u IP_TOS %s SO_MARK %s connect %s trips %llu",
		  c.path, c.policy[0], errname(so), errname(mk), errname(co),
		  j.trips);

	for (n = 0; n < sizeof(frozen) / sizeof(frozen[0]); n++) {
		const struct frozen *f = &frozen[n];
		long r = f->len ? net_setsockopt(tx, f->level, f->opt, f->p, f->len) :
				  setopt_int(tx, f->level, f->opt, f->v);

		if (r == -EBUSY) {
			refused++;
		} else {
			strcpy(missed + strlen(missed), " ");
			strcpy(missed + strlen(missed), f->name);
			strcpy(missed + strlen(missed), "=");
			strcpy(missed + strlen(missed), errname(r));
		}
	}
	memset(buf, 0x3e, sizeof(buf));
	ok = netspec_send(t, buf, ADU, 0) == ADU && recv_adu(rx);
	j = netspec_info_of(t);
	kt_result(refused == n && ok && j.path == NETSPEC_PATH_UDP4,
		  "reject_refuses_every_frozen_option_ebusy",
		  "%u of %u refused, not refused:%s; send after %d path %u",
		  refused, n, missed, ok, j.path);

	/* What the path reads per send goes through. */
	map = bpf_array_u32(1);
	if (map >= 0)
		pf = priority_prog(map);
	if (pf >= 0 && bpf_attach(cg, pf, BPF_CGROUP_INET_EGRESS)) {
		close(pf);
		pf = -1;
	}
	i = netspec_info_of(t);
	pr = setopt_int(tx, SOL_SOCKET, SO_PRIORITY, 5);
	tl = setopt_int(tx, IPPROTO_IP, IP_TTL, 33);
	sb = setopt_int(tx, SOL_SOCKET, SO_SNDBUF, 1 << 16);
	j = netspec_info_of(t);
	kt_result(pr == 0 && tl == 0 && sb == 0 && j.trips == i.trips &&
		  j.path == NETSPEC_PATH_UDP4,
		  "reject_lets_so_priority_ip_ttl_and_so_sndbuf_through",
		  "SO_PRIORITY %s IP_TTL %s SO_SNDBUF %s trips %llu -> %llu path %u",
		  errname(pr), errname(tl), errname(sb), i.trips, j.trips,
		  j.path);

	cap_flush(cap, pa, sizeof(pa));
	net_fill(buf, ADU, 3);
	bpf_set_u32(map, 0, 0xdead);
	sa = net_sendto(tx, buf, ADU, 0, NULL, 0);
	la = cap_next(cap, port, pa, sizeof(pa));
	bpf_get_u32(map, 0, &pa_prio);
	bpf_set_u32(map, 0, 0xdead);
	st = netspec_send(t, buf, ADU, 0);
	lb = cap_next(cap, port, pb, sizeof(pb));
	bpf_get_u32(map, 0, &pb_prio);
	net_drain(rx, got, sizeof(got), -1);
	why = la < 0 || lb < 0 ? "not captured" : cap_same_but_id(pa, la, pb, lb);
	j = netspec_info_of(t);
	kt_result(sa == ADU && st == ADU && !why && cap_ttl(pb) == 33 &&
		  cap_id(pb) == (unsigned short)(cap_id(pa) + 1) &&
		  j.path == NETSPEC_PATH_UDP4 && j.fallbacks == i.fallbacks,
		  "token_datagram_after_ip_ttl_carries_it_like_send",
		  "send %s token %s: %s, TTL %u and %u, IDs %u %u, path %u fallbacks %llu",
		  errname(sa), errname(st), why ? why : "same",
		  la > 0 ? cap_ttl(pa) : 0, lb > 0 ? cap_ttl(pb) : 0,
		  la > 0 ? cap_id(pa) : 0, lb > 0 ? cap_id(pb) : 0, j.path,
		  j.fallbacks);
	kt_result(pf >= 0 && pa_prio == 5 && pb_prio == 5,
		  "token_datagram_after_so_priority_carries_it_like_send",
		  "egress program %s, priority of send()'s %u and of the token's %u",
		  pf >= 0 ? "attached" : "missing", pa_prio, pb_prio);
	if (pf >= 0) {
		bpf_detach(cg, pf, BPF_CGROUP_INET_EGRESS);
		close(pf);
	}
	if (map >= 0)
		close(map);

	/*
	 * A frozen option with a value its own code would refuse: the guard
	 * comes first (after the LSM and the cgroup setsockopt hooks), so
	 * under REJECT the answer is EBUSY, not EINVAL, and it counts as a
	 * refused change (a trip); nothing changes.
	 */
	i = netspec_info_of(t);
	bad = setopt_int(tx, IPPROTO_IP, IP_MTU_DISCOVER, 99);
	j = netspec_info_of(t);
	kt_result(bad == -EBUSY && j.trips == i.trips + 1 &&
		  j.path == NETSPEC_PATH_UDP4 &&
		  net_getsockopt_int(tx, IPPROTO_IP, IP_MTU_DISCOVER) != 99,
		  "reject_answers_a_frozen_option_with_a_bad_value_ebusy",
		  "IP_MTU_DISCOVER 99: %s, trips %llu -> %llu, path %u",
		  errname(bad), i.trips, j.trips, j.path);
	close(t);
	close(tx);
	close(rx);
}

/*
 * A setsockopt() that fails changes nothing, so under no policy does it
 * demote the instance: the path stays udp4, no trip, and the next send is
 * specialized.  Under REJECT the option is one the path reads per send
 * (a frozen one is refused first, above); under the others a frozen one.
 */
static void test_failed_setsockopt(void)
{
	static const int pol[] = { NETSPEC_POLICY_REJECT, NETSPEC_POLICY_INVALIDATE,
				   NETSPEC_POLICY_RESPECIALIZE };
	static const char *const name[] = { "reject", "invalidate", "respecialize" };
	unsigned short port = 0;
	int rx = net_udp_receiver(LOOPBACK, &port), n, good = 0;
	char bad[160] = "";

	for (n = 0; n < 3; n++) {
		struct netspec_customize c;
		struct netspec_info j;
		int tx = net_udp_sender(LOOPBACK, port);
		long t = customize_peer(tx, pol[n], 0, &c), r;

		r = n ? setopt_int(tx, IPPROTO_IP, IP_MTU_DISCOVER, 99) :
			setopt_int(tx, IPPROTO_IP, IP_TTL, 0);
		if (r == -EINVAL && netspec_send(t, buf, ADU, 0) == ADU &&
		    recv_adu(rx)) {
			j = netspec_info_of(t);
			if (j.path == NETSPEC_PATH_UDP4 && !j.trips && !j.fallbacks)
				good++;
			else
				r = -1000;
		}
		if (r != -EINVAL) {
			strcpy(bad + strlen(bad), " ");
			strcpy(bad + strlen(bad), name[n]);
		}
		close(t);
		close(tx);
	}
	kt_result(good == 3, "a_failed_setsockopt_demotes_nothing_under_any_policy",
		  "wrong under:%s", bad);
	close(rx);
}

/*
 * (e) A change setsockopt() never saw: a BPF_CGROUP_UDP4_RECVMSG program
 * calls bpf_setsockopt(SOL_IP, IP_TOS, 0x10) on the socket when it
 * receives with recvfrom().  The next token send finds the socket changed:
 * REJECT could not refuse it and INVALIDATE lets it be, so both go to the
 * generic path (1 trip, that send a fallback); RESPECIALIZE rebuilds the
 * instance (1 trip, the send specialized).  Either way the datagram is
 * send()'s, TOS 0x10.
 */
static void test_bpf_setsockopt(void)
{
	static const int pol[] = { NETSPEC_POLICY_INVALIDATE, NETSPEC_POLICY_REJECT,
				   NETSPEC_POLICY_RESPECIALIZE };
	static const char *const name[] = {
		"bpf_setsockopt_under_invalidate_goes_generic_with_send_s_tos",
		"bpf_setsockopt_under_reject_goes_generic_with_send_s_tos",
		"bpf_setsockopt_under_respecialize_rebuilds_with_send_s_tos",
	};
	struct bpf_insn prog[] = {
		BPF_ST_W(BPF_R10, -4, 0x10),
		BPF_MOV64_REG(BPF_R4, BPF_R10),
		BPF_ADD64_IMM(BPF_R4, -4),
		BPF_MOV64_IMM(BPF_R2, IPPROTO_IP),
		BPF_MOV64_IMM(BPF_R3, IP_TOS),
		BPF_MOV64_IMM(BPF_R5, 4),
		BPF_CALL_FN(BPF_FUNC_setsockopt),
		BPF_MOV64_IMM(BPF_R0, 1),
		BPF_EXIT_INSN(),
	};
	unsigned short port = 0;
	int rx = net_udp_receiver(LOOPBACK, &port), n;
	long pf = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
				BPF_CGROUP_UDP4_RECVMSG, prog,
				sizeof(prog) / sizeof(prog[0]));
	long at = pf < 0 ? pf : bpf_attach(cg, pf, BPF_CGROUP_UDP4_RECVMSG);

	if (pf < 0)
		kt_line("# verifier: %s", bpf_log);
	for (n = 0; n < 3; n++) {
		struct netspec_customize c;
		struct netspec_info j;
		struct sockaddr_in me, from;
		socklen_t ml = sizeof(me), fl = sizeof(from);
		int tx = net_udp_sender(LOOPBACK, port), tos, respec;
		long t = customize_peer(tx, pol[n], 0, &c), r0, rr, sa, st, la, lb;
		const char *why;

		/* One send before, specialized; then the change. */
		memset(buf, 0x11, sizeof(buf));
		r0 = netspec_send(t, buf, ADU, 0);
		net_drain(rx, got, sizeof(got), -1);
		net_getsockname(tx, &me, &ml);
		net_sendto(rx, buf, ADU, 0, &me, sizeof(me));
		rr = net_wait_readable(tx, 1000) == 1 ?
		     net_recvfrom(tx, got, sizeof(got), 0, &from, &fl) : -EAGAIN;
		tos = net_getsockopt_int(tx, IPPROTO_IP, IP_TOS);

		cap_flush(cap, pa, sizeof(pa));
		net_fill(buf, ADU, 4 + n);
		sa = net_sendto(tx, buf, ADU, 0, NULL, 0);
		la = cap_next(cap, port, pa, sizeof(pa));
		st = netspec_send(t, buf, ADU, 0);
		lb = cap_next(cap, port, pb, sizeof(pb));
		net_drain(rx, got, sizeof(got), -1);
		why = la < 0 || lb < 0 ? "not captured" :
		      cap_same_but_id(pa, la, pb, lb);
		j = netspec_info_of(t);
		respec = pol[n] == NETSPEC_POLICY_RESPECIALIZE;
		kt_result(!at && t > 0 && c.path == NETSPEC_PATH_UDP4 && r0 == ADU &&
			  rr == ADU && tos == 0x10 && sa == ADU && st == ADU &&
			  !why && cap_tos(pb) == 0x10 &&
			  cap_id(pb) == (unsigned short)(cap_id(pa) + 1) &&
			  j.trips == 1 &&
			  j.path == (respec ? NETSPEC_PATH_UDP4 : NETSPEC_PATH_GENERIC) &&
			  j.fallbacks == (respec ? 0 : 1), name[n],
			  "attach %s, recvfrom %s, IP_TOS then %d, send %s token %s: %s, TOS %u, path %u trips %llu fallbacks %llu",
			  errname(at), errname(rr), tos, errname(sa), errname(st),
			  why ? why : "same", lb > 0 ? cap_tos(pb) : 0, j.path,
			  j.trips, j.fallbacks);
		close(t);
		close(tx);
	}
	if (pf >= 0) {
		bpf_detach(cg, pf, BPF_CGROUP_UDP4_RECVMSG);
		close(pf);
	}
	close(rx);
}

/*
 * (f) An IPsec policy of the socket's own, set after customize under
 * INVALIDATE: a socket policy does not invalidate cached routes (a global
 * one does), so only the guard keeps the token off its specialized route.
 * The policy blocks the flow: send() fails with EPERM, and so must the
 * token, with nothing arriving in clear.  A socket that has a policy at
 * customize time gets the generic path, and the same EPERM.
 */
static void test_ipsec_socket_policy(void)
{
	struct netspec_customize c, d;
	struct netspec_info i;
	unsigned short port = 0;
	int rx = net_udp_receiver(LOOPBACK, &port);
	int tx = net_udp_sender(LOOPBACK, port);
	int tx2 = net_udp_sender(LOOPBACK, port);
	long t = customize_peer(tx, NETSPEC_POLICY_INVALIDATE, 0, &c);
	long r0 = netspec_send(t, buf, ADU, 0), pol, r1, r2, t2, p2, r3, r4;
	int ok0 = recv_adu(rx);

	pol = set_block_policy(tx);
	r1 = net_sendto(tx, buf, ADU, 0, NULL, 0);
	r2 = netspec_send(t, buf, ADU, 0);
	i = netspec_info_of(t);
	kt_result(t > 0 && c.path == NETSPEC_PATH_UDP4 && r0 == ADU && ok0 &&
		  !pol && r1 == -EPERM && r2 == -EPERM && stays_empty(rx) &&
		  i.path == NETSPEC_PATH_GENERIC && i.trips == 1,
		  "an_ipsec_socket_policy_blocks_the_token_eperm_like_send",
		  "path %u first %s/%d policy %s send %s token %s path %u trips %llu",
		  c.path, errname(r0), ok0, errname(pol), errname(r1),
		  errname(r2), i.path, i.trips);

	p2 = set_block_policy(tx2);
	t2 = customize_peer(tx2, 0, 0, &d);
	r3 = net_sendto(tx2, buf, ADU, 0, NULL, 0);
	r4 = netspec_send(t2, buf, ADU, 0);
	kt_result(!p2 && t2 > 0 && d.path == NETSPEC_PATH_GENERIC &&
		  r3 == -EPERM && r4 == -EPERM && stays_empty(rx),
		  "customize_of_a_socket_with_an_ipsec_policy_is_generic",
		  "policy %s token %s path %u send %s token send %s",
		  errname(p2), errname(t2), d.path, errname(r3), errname(r4));
	close(t2);
	close(t);
	close(tx2);
	close(tx);
	close(rx);
}

/*
 * (g) SO_WIFI_STATUS: udp_sendmsg() asks the device for each datagram's
 * delivery status (sock_tx_timestamp()), which this path does not, so a
 * socket with it set gets the generic path.
 */
static void test_wifi_status(void)
{
	struct netspec_customize c;
	unsigned short port = 0;
	int rx = net_udp_receiver(LOOPBACK, &port);
	int tx = net_udp_sender(LOOPBACK, port);
	long w = setopt_int(tx, SOL_SOCKET, SO_WIFI_STATUS, 1);
	long t = customize_peer(tx, 0, 0, &c);
	long r = netspec_send(t, buf, ADU, 0);

	kt_result(!w && t > 0 && c.path == NETSPEC_PATH_GENERIC && r == ADU &&
		  recv_adu(rx), "customize_of_a_socket_with_wifi_status_is_generic",
		  "SO_WIFI_STATUS %s token %s path %u send %s", errname(w),
		  errname(t), c.path, errname(r));
	close(t);
	close(tx);
	close(rx);
}

/* "saddr=" and the hex of sockaddr_in addr:port, as the audit log has it. */
static void audit_saddr(char *out, unsigned int addr, unsigned short port)
{
	static const char hex[] = "0123456789ABCDEF";
	struct sockaddr_in sin = net_sin(addr, port);
	const unsigned char *p = (const unsigned char *)&sin;
	unsigned int i;

	memcpy(out, "saddr=", 6);
	out += 6;
	for (i = 0; i < sizeof(sin); i++) {
		*out++ = hex[p[i] >> 4];
		*out++ = hex[p[i] & 15];
	}
	*out = 0;
}

/*
 * (h) The audit log: sendto() records the address it is given (an
 * AUDIT_SOCKADDR record), and customize records a context's destination,
 * since the token's sends name none, as connect() records the peer of
 * send().  This process enables auditing as the audit daemon, with a rule
 * on the two calls; a child forked after that has an audit context, and
 * makes them, each to its own port.
 */
static void test_audit(void)
{
	char want_sendto[48], want_token[48];
	int sendto_seen = 0, token_seen = 0, st = -1;
	unsigned short port = 0;
	int rx = net_udp_receiver(LOOPBACK, &port), fd = audit_open();
	long r = fd < 0 ? fd : audit_rule(fd, 1, __NR_sendto, __NR_netspec);

	audit_saddr(want_sendto, LOOPBACK, port);
	audit_saddr(want_token, LOOPBACK, port ^ 1);
	if (!r) {
		pid_t pid = fork();

		if (pid == 0) {
			struct netspec_customize c;
			int tx = net_socket(AF_INET, SOCK_DGRAM, 0);

			exit(sendto_addr(tx, LOOPBACK, port) != ADU ? 1 :
			     customize_to(tx, LOOPBACK, port ^ 1, 0, 0, &c) < 0 ?
			     2 : 0);
		}
		waitpid(pid, &st, 0);
		st = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
		sendto_seen = audit_wait(fd, AUDIT_SOCKADDR, want_sendto, 2000);
		token_seen = audit_wait(fd, AUDIT_SOCKADDR, want_token, 2000);
		r = audit_rule(fd, 0, __NR_sendto, __NR_netspec);
	}
	if (fd >= 0) {
		r = audit_set(fd, 0) ?: r;
		close(fd);
	}
	kt_result(!r && !st && sendto_seen && token_seen,
		  "customize_records_its_destination_in_the_audit_log",
		  "audit set-up %s, child step %d (1 sendto, 2 customize), sendto's address %s, the context's %s",
		  errname(r), st, sendto_seen ? "recorded" : "missing",
		  token_seen ? "recorded" : "missing");
	close(rx);
}

int main(void)
{
	long r;

	kt_plan(1, 23);
	net_if_up("lo");
	cap = cap_open(CAP_LO);
	cg = cgroup_make(CGROUP);
	r = cg < 0 ? cg : cgroup_enter(CGROUP);
	if (cap < 0 || r) {
		kt_line("# setup: capture %d, cgroup %d, entering it %s", cap,
			cg, errname(r));
		return 1;
	}
	test_cgroup_sendmsg();
	test_smack();
	test_reinforce_needs_net_admin();
	test_reject();
	test_failed_setsockopt();
	test_bpf_setsockopt();
	test_ipsec_socket_policy();
	test_wifi_status();
	test_audit();
	cgroup_enter("");
	close(cg);
	cgroup_remove(CGROUP);
	return kt_exit_status();
}
