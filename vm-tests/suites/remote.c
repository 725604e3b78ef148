// SPDX-License-Identifier: GPL-2.0
/*
 * The device's end of the remote customization channel (issue 16): a
 * serial port that QEMU connects to netspecd on the host, which the harness
 * starts for this kernel's build.  The suite first asks itself, as the
 * agent does (nschannel.h): a nonce, its kernel's build id and a context's
 * scalar values out; an object back, with the nonce (a late reply to an
 * earlier request is dropped) and bound to that build id and the SHA-256 of
 * the context's canonical text, which the suite checks.
 * Where the kernel loads modules (signatures enforced:
 * signed-modules.config), the artifact is a module signed with the build's
 * key: the suite checks that the module not signed, changed after it was,
 * or signed with another key is refused; then it starts the agent
 * (vm-tests/agent.c), and making a token makes the kernel ask the agent
 * for the module, which it loads before the token's first send; the token
 * adopts it, keeps it when the routes change, and holds it while the token
 * and its socket are open, also when another task closes the socket during
 * its sends.  Elsewhere those tests are skipped.
 * Then the suite plays a server that fails, on a pseudo-terminal that is
 * the agent's channel: one that never answers, cuts a reply short, sends
 * one bound to nothing, refuses, or sends a truncated module.  The agent
 * gives up on each; the token sends on its built-in path all the while.
 * An agent that starts after a request went unheard finds it in a dump of
 * the instances (code-wanted) and asks for it.
 * The channel is named by the harness in NETSPEC_CHANNEL (e.g. ttyS1); the
 * harness leaves this suite out on arches without one.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "capture.h"
#include "nschannel.h"
#include "genl.h"

#include <linux/sched.h>

#define LOOPBACK 0x7f000001

/* The message size of every context the suite asks for. */
#define ADU	64
#define ADU_S	"64"

/* The end of a signed module, after its PKCS#7 message and the
 * 12 bytes that give its length.
 */
#define SIG_MAGIC	"~Module signature appended~\n"
#define SIG_MAGIC_LEN	28

/* The length of @ko (@size bytes) without its signature, or 0 if unsigned. */
static unsigned long unsigned_len(const unsigned char *ko, unsigned long size)
{
	unsigned int sig;

	if (size < SIG_MAGIC_LEN + 12 ||
	    memcmp(ko + size - SIG_MAGIC_LEN, SIG_MAGIC, SIG_MAGIC_LEN))
		return 0;
	sig = ns_get32(ko + size - SIG_MAGIC_LEN - 4);
	sig = (sig >> 24) | ((sig >> 8) & 0xff00) | ((sig << 8) & 0xff0000) |
	      (sig << 24);	/* big-endian on every arch */
	if (sig > size - SIG_MAGIC_LEN - 12)
		return 0;
	return size - SIG_MAGIC_LEN - 12 - sig;
}

/* Reads up to @size bytes of @path into @buf: the length or -errno. */
static long read_file(const char *path, unsigned char *buf, unsigned long size)
{
	long fd = open(path, O_RDONLY, 0), n = 0, r;

	if (fd < 0)
		return -errno;
	while ((unsigned long)n < size && (r = read(fd, buf + n, size - n)) > 0)
		n += r;
	close(fd);
	return n;
}

/* The module's reference count from sysfs, or -1 when it is not loaded. */
static long refcnt(const char *name)
{
	char path[96] = "/sys/module/", buf[16];
	long fd, n, v = 0, i;

	cat(path, sizeof(path), name);
	cat(path, sizeof(path), "/refcnt");
	fd = open(path, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + buf[i] - '0';
	return v;
}

/* Waits up to two seconds for the module's count to be @want (an instance
 * drops its reference after an RCU grace period).
 */
static long refcnt_becomes(const char *name, long want)
{
	long v = refcnt(name);
	int i;

	for (i = 0; i < 200 && v != want; i++) {
		net_sleep_ms(10);
		v = refcnt(name);
	}
	return v;
}

/*
 * Joins the family's "code" group as uid @uid (root keeps its
 * capabilities, another uid has none): 0 or the -errno of the join itself;
 * -ECHILD if the uid could not be taken or the group not found.
 */
static long join_code_group(int uid)
{
	int pid = fork(), st = 0, fd;
	const char *stage;

	if (pid == 0) {
		if (uid && netspec_setresuid(uid, uid, uid))
			exit(200);
		fd = genl_join(NETSPEC_MCGRP_CODE, &stage);
		if (fd < 0 && strcmp(stage, "join"))
			exit(201);
		exit(fd < 0 && fd > -200 ? -fd : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) >= 200)
		return -ECHILD;
	return -WEXITSTATUS(st);
}

#define AGENT		"/sbin/netspec-agent"
#define AGENT_READY	"/tmp/agent-ready"

/*
 * Starts the agent on channel @tty_name for one request, giving the server
 * @timeout ms (NULL: the agent's default); its pid once it listens (within
 * ten seconds), else -1.
 */
static int start_agent(const char *tty_name, const char *timeout)
{
	char *argv[] = { AGENT, (char *)tty_name, "1", AGENT_READY,
			 (char *)timeout, NULL };
	int pid, i, fd = -1, st;

	unlink(AGENT_READY);
	pid = fork();
	if (pid == 0) {
		execve(AGENT, argv, environ);
		exit(127);
	}
	for (i = 0; pid > 0 && i < 1000 && fd < 0; i++) {
		fd = open(AGENT_READY, O_RDONLY, 0);
		if (fd >= 0)
			break;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;	/* it exited: it said why */
		net_sleep_ms(10);
	}
	if (fd < 0) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return -1;
	}
	close(fd);
	return pid;
}

/* The agent's exit status; it is killed after @ms more milliseconds. */
static int agent_exit(int pid, int ms)
{
	int i, st = 0;

	for (i = 0; i < ms; i += 10) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		net_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 128;
}

static unsigned char payload[ADU], pa[CAP_MAX], pb[CAP_MAX], rbuf[ADU + 1];

/*
 * The same ADU through send() and through @token: NULL if both arrived and
 * are the same datagram but for the IP ID, else what went wrong.
 */
static const char *send_both(int tx, int rx, long token, int cap,
			     unsigned short port, unsigned int seq)
{
	long la, lb;

	net_fill(payload, ADU, seq);
	cap_flush(cap, pa, sizeof(pa));
	if (write(tx, payload, ADU) != ADU)
		return "send() failed";
	la = cap_next(cap, port, pa, sizeof(pa));
	if (net_wait_readable(rx, 1000) != 1 ||
	    net_recvfrom(rx, rbuf, sizeof(rbuf), MSG_DONTWAIT, NULL, NULL) != ADU)
		return "send()'s datagram not received";
	if (netspec_send(token, payload, ADU, 0) != ADU)
		return "customized_send() failed";
	lb = cap_next(cap, port, pb, sizeof(pb));
	if (net_wait_readable(rx, 1000) != 1 ||
	    net_recvfrom(rx, rbuf, sizeof(rbuf), MSG_DONTWAIT, NULL, NULL) != ADU ||
	    memcmp(rbuf, payload, ADU))
		return "the token's datagram not received";
	if (la < 0 || lb < 0)
		return "not captured";
	return cap_same_but_id(pa, la, pb, lb);
}

#define ROUTE_FLUSH	"/proc/sys/net/ipv4/route/flush"

/* Makes every cached IPv4 route of the namespace stale, as a change to the
 * FIB does: 0 or -errno.
 */
static long routes_flush(void)
{
	long fd = open(ROUTE_FLUSH, O_WRONLY, 0), r;

	if (fd < 0)
		return -errno;
	r = write(fd, "1\n", 2) == 2 ? 0 : -EIO;
	close(fd);
	return r;
}

/*
 * Another task, which shares this one's descriptors, closes @tx once the
 * first datagram through @token is out, while this one goes on sending
 * through it.  On one CPU, the close may come between two sends rather
 * than inside one; guard.c's close_during_send_loses_nothing varies the
 * timing over rounds.  Returns how the last send ended (-EPIPE once the socket is
 * gone); *accepted and *received count the datagrams the token sent and
 * @rx got.
 */
static long close_during_sends(int tx, int rx, long token,
			       unsigned long *accepted, unsigned long *received)
{
	long child, s = -EIO, n;
	int go[2];

	*accepted = *received = 0;
	if (net_pipe(go)) {
		close(tx);
		return -EIO;
	}
	child = my_syscall5(__NR_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (child == 0) {
		net_wait_byte(go[0]);
		close(tx);
		my_syscall1(__NR_exit, 0);
	}
	if (child < 0)
		close(tx);
	for (n = 0; child > 0 && n < 100000; n++) {
		s = netspec_send(token, payload, ADU, 0);
		if (s != ADU)
			break;
		if (!(*accepted)++)
			net_send_byte(go[1], 'g');
		/* Loopback delivers within the send: keep the queue short. */
		*received += net_drain(rx, rbuf, sizeof(rbuf), ADU);
	}
	if (child > 0) {
		if (!*accepted)
			net_send_byte(go[1], 'g');
		waitpid(child, NULL, 0);
	}
	net_wait_readable(rx, 200);
	*received += net_drain(rx, rbuf, sizeof(rbuf), ADU);
	close(go[0]);
	close(go[1]);
	return child < 0 ? child : s;
}

#define MODULE_TESTS	9

static const char *const module_tests[MODULE_TESTS] = {
	"an_unsigned_module_is_refused",
	"a_module_changed_after_signing_is_refused",
	"a_module_signed_with_another_key_is_refused",
	"the_agent_loads_the_module_the_kernel_asks_for_in_advance",
	"a_token_adopts_it_and_sends_what_send_sends",
	"a_route_change_reroutes_with_the_module_held",
	"a_module_in_use_cannot_be_removed",
	"closing_the_token_releases_the_module",
	"closing_the_socket_during_its_sends_releases_it_and_it_unloads",
};

/*
 * The module made for "udp4 csum=partial adu=64" (@ko, @size bytes), named
 * @name: refused unsigned, changed or signed with another key (the module
 * @foreign, which the harness made); loaded by the agent on channel
 * @tty_name when the kernel asks for it, adopted by a token of that context
 * on lo (whose device sums the datagram: csum=partial), held
 * while the token is open and released when it closes, or when the socket
 * does (the token then sends nothing: EPIPE), and then unloaded.
 */
static void module_tests_run(const unsigned char *ko, unsigned long size,
			     const char *name, const char *foreign,
			     const char *tty_name)
{
	static unsigned char copy[NS_MAX_PAYLOAD];
	unsigned long body = unsigned_len(ko, size);
	unsigned short port = 0;
	struct netspec_customize c;
	struct netspec_info info, info2;
	struct netspec_nl_inst ni;
	struct netspec_nl_stats s0, s1;
	unsigned long long t0;
	unsigned long accepted = 0, received = 0;
	const char *why, *why2;
	long r, tok, n0, n1;
	int rx, tx, cap, agent, status, stats_ok;

	/*
	 * The kernel gives EKEYREJECTED for each refusal below, whatever its
	 * reason, so each test first makes sure that its module differs from
	 * the good one in that reason only: here, the artifact is signed and
	 * this is it without its signature.
	 */
	r = body ? ns_load(ko, body) : -ENODATA;
	kt_result(r == -EKEYREJECTED && refcnt(name) < 0, module_tests[0],
		  "%lu of %lu bytes: %s", body, size, errname(r));

	/* One byte of the module's text changed, its signature kept: the
	 * digest no longer matches.
	 */
	memcpy(copy, ko, size);
	copy[body / 2] ^= 0x01;
	r = body ? ns_load(copy, size) : -ENODATA;
	kt_result(r == -EKEYREJECTED && refcnt(name) < 0, module_tests[1],
		  "%s", errname(r));

	/* Made by the harness for this kernel, whole and signed, with a key
	 * of its own.
	 */
	n0 = read_file("/extra/foreign.ko", copy, sizeof(copy));
	if (n0 <= 0 || (unsigned long)n0 == sizeof(copy) ||
	    !unsigned_len(copy, n0))
		r = -ENODATA;
	else
		r = ns_load(copy, n0);
	kt_result(r == -EKEYREJECTED && refcnt(foreign) < 0, module_tests[2],
		  "/extra/foreign.ko, %ld bytes: %s", n0, errname(r));

	/*
	 * The agent listens on the family's "code" group, where the kernel
	 * asks for code made for a context when its instance is created:
	 * here, when the token is made, before its first send.  The agent
	 * asks netspecd over the channel and loads what comes back.
	 */
	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	tx = net_udp_sender(LOOPBACK, port);
	cap = cap_open(CAP_LO);
	stats_ok = !netspec_nl_stats(&s0);
	why = rx < 0 || tx < 0 || cap < 0 ? "no sockets" :
	      refcnt(name) >= 0 ? "the module is loaded already" : NULL;
	agent = why ? -1 : start_agent(tty_name, NULL);
	if (!why && agent < 0)
		why = "the agent did not start";
	c = netspec_udp_connected(tx, ADU);
	t0 = net_now_ns();
	tok = why ? -1 : netspec_customize(&c);
	if (!why)
		why = tok < 0 ? "no token" : c.path != NETSPEC_PATH_UDP4 ?
		      "not specialized" : NULL;
	/* The agent exits once finit_module() returned: the module's init
	 * holds a reference until then.
	 */
	status = agent > 0 ? agent_exit(agent, why ? 0 : 120000) : -1;
	t0 = net_now_ns() - t0;
	n0 = refcnt(name);
	stats_ok = !netspec_nl_stats(&s1) && stats_ok;
	/* Registered, not adopted yet: the instance wants no code now. */
	ni.code_wanted = -2;
	if (tok >= 0)
		netspec_nl_inst(netspec_info_of(tok).id, &ni);
	kt_result(!why && n0 == 0 && status == 0 && stats_ok &&
		  s1.code_requests == s0.code_requests + 1 &&
		  ni.code_wanted == -1, module_tests[3],
		  "%s; refcnt %ld; agent's exit status %d; requests %llu, then %llu; code-wanted %d",
		  why ? why : "loaded", n0, status, s0.code_requests,
		  s1.code_requests, ni.code_wanted);
	kt_line("# remote: from the token's customization to its module loaded, %lu ms in guest time",
		ns_ms(t0));

	/* The first send adopts the module: it was in before it. */
	if (!why)
		why = send_both(tx, rx, tok, cap, port, 1);
	n1 = refcnt(name);
	if (!why)
		why = send_both(tx, rx, tok, cap, port, 2);
	/* Both sent by the module's function, neither handed to the generic
	 * path: the refcount shows the adoption, the counters the sends.
	 */
	info = netspec_info_of(tok);
	if (!why && (info.path != NETSPEC_PATH_UDP4 || info.sends != 2 ||
		     info.fallbacks))
		why = "not both sent on the specialized path";
	kt_result(!why && n1 == 1, module_tests[4],
		  "%s; token %s; refcnt %ld; sends %llu, fallbacks %llu",
		  why ? why : "sent", errname(tok), n1,
		  (unsigned long long)info.sends,
		  (unsigned long long)info.fallbacks);

	/*
	 * The routes change: the instance's route goes stale, and its next
	 * send resolves it again (the default route policy), on the
	 * specialized path, with the module held, and sends what send()
	 * sends.  Its checksum mode stays, so the module's function sends
	 * it; but that function is made from the built-in path's template,
	 * and which of the two sent a packet is not observable here.
	 */
	r = routes_flush();
	why2 = r ? "the routes were not flushed" :
	       why ? "nothing adopted" : send_both(tx, rx, tok, cap, port, 4);
	info2 = netspec_info_of(tok);
	n1 = refcnt(name);
	kt_result(!why2 && info2.reroutes == info.reroutes + 1 &&
		  info2.path == NETSPEC_PATH_UDP4 && info2.sends == 3 &&
		  !info2.fallbacks && !info2.trips && n1 == 1, module_tests[5],
		  "%s; reroutes %llu, then %llu; sends %llu, fallbacks %llu, trips %llu; refcnt %ld",
		  why2 ? why2 : "sent", (unsigned long long)info.reroutes,
		  (unsigned long long)info2.reroutes,
		  (unsigned long long)info2.sends,
		  (unsigned long long)info2.fallbacks,
		  (unsigned long long)info2.trips, n1);

	r = my_syscall2(__NR_delete_module, name, O_NONBLOCK);
	kt_result(r == -EAGAIN && refcnt(name) == 1, module_tests[6],
		  "delete_module: %s", errname(r));

	if (tok >= 0)
		close(tok);
	n1 = refcnt_becomes(name, 0);
	kt_result(n1 == 0, module_tests[7], "refcnt %ld after close", n1);

	/*
	 * Adopted again by a new token; then the socket goes first.  The
	 * module stays loaded in between: on ARM without KASAN_VMALLOC the
	 * kernel never clears the KASAN shadow of freed module memory, so a
	 * module loaded again where the last one lay finds its globals'
	 * redzones poisoned (a report in load_module()'s memset, seen on
	 * armv4 6.12).  One load a boot keeps this suite clear of that.
	 */
	c = netspec_udp_connected(tx, ADU);
	tok = netspec_customize(&c);
	why = tok < 0 ? "no token" : send_both(tx, rx, tok, cap, port, 3);
	n0 = refcnt(name);
	/* Another task closes the socket while this one sends through the
	 * module: every datagram a send accepted arrives, the sends end with
	 * EPIPE, and the module is released.
	 */
	if (why) {
		close(tx);
		r = -1;
	} else {
		r = close_during_sends(tx, rx, tok, &accepted, &received);
	}
	n1 = refcnt_becomes(name, 0);
	kt_result(!why && n0 == 1 && r == -EPIPE && accepted &&
		  accepted == received && n1 == 0 &&
		  !my_syscall2(__NR_delete_module, name, O_NONBLOCK) &&
		  refcnt(name) < 0, module_tests[8],
		  "%s; refcnt %ld, then %ld; %lu sent, %lu received, then %s",
		  why ? why : "sent", n0, n1, accepted, received, errname(r));
	if (tok >= 0)
		close(tok);
	close(cap);
	close(rx);
}

/*
 * The agent against a server that fails, which the suite plays on a
 * pseudo-terminal whose other end is the agent's channel.  Each fault is a
 * test: the agent reads the request of a token's customization, the suite
 * answers it badly (or not at all), the agent says why it could not serve
 * it and exits with the errno it gives up with, nothing is loaded, and the
 * token sends on its built-in path all the while.
 */
enum {
	FAULT_SILENT,		/* the server is down: no reply */
	FAULT_CUT,		/* half a frame, then nothing */
	FAULT_UNBOUND,		/* a whole module, bound to another kernel */
	FAULT_REFUSED,		/* the server's refusal */
	FAULT_TRUNCATED,	/* bound to the context, half a module */
	FAULT_LATE,		/* a refusal to an agent that started late */
	FAULTS
};

static const char *const fault_tests[FAULTS] = {
	"a_server_that_never_answers_does_not_hold_up_a_send",
	"a_reply_cut_short_does_not_hold_up_a_send",
	"a_module_bound_to_another_kernel_is_not_loaded",
	"a_refusal_leaves_the_token_on_its_built_in_path",
	"a_truncated_module_is_refused_and_the_token_sends",
	"an_agent_that_starts_late_finds_the_request_in_a_dump",
};

/* What the agent gives the suite's server for each reply, in ms. */
#define FAULT_TIMEOUT_MS	2000
#define FAULT_TIMEOUT_S		"2000"

/* The name of the module made for "udp4 csum=@csum adu=@adu" in @name:
 * netspec_ and 16 hex digits of the context's hash.
 */
static void module_name(const char *csum, const char *adu, char name[32])
{
	char hex[65];

	ns_context_sha256(csum, adu, hex);
	hex[16] = 0;
	strcpy(name, "netspec_");
	cat(name, 32, hex);
}

/* A new pseudo-terminal's master, raw, and its other end's name under
 * /dev in @name (16 bytes); -errno if there is none.
 */
static int pty_open(char *name)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY), n = -1, unlock = 0;

	if (m < 0)
		return -errno;
	if (ioctl(m, TIOCSPTLCK, &unlock) || ioctl(m, TIOCGPTN, &n) || raw(m)) {
		close(m);
		return -EIO;
	}
	strcpy(name, "pts/");
	utoa_r(n, name + 4);
	return m;
}

/* The agent's exit status for each fault: the errno it gives up with. */
static const int fault_errno[FAULTS] = {
	[FAULT_SILENT]		= ETIMEDOUT,
	[FAULT_CUT]		= ETIMEDOUT,
	[FAULT_UNBOUND]		= EBADMSG,
	[FAULT_REFUSED]		= EREMOTEIO,
	[FAULT_TRUNCATED]	= EKEYREJECTED,
	[FAULT_LATE]		= EREMOTEIO,
};

static unsigned char fault_frame[NS_MAX_PAYLOAD];
static unsigned char fault_msg[128], fault_rx[129];

/* Appends @len bytes of @p to fault_frame, whose first @n are in use. */
static unsigned long frame_add(unsigned long n, const void *p,
			       unsigned long len)
{
	memcpy(fault_frame + n, p, len);
	return n + len;
}

/* A token of sender @tx for @adu-byte messages in *tok: NULL, or why
 * there is none on the specialized path.
 */
static const char *specialized_token(int tx, unsigned int adu, long *tok)
{
	struct netspec_customize c = netspec_udp_connected(tx, adu);

	*tok = netspec_customize(&c);
	return *tok < 0 ? "no token" :
	       c.path != NETSPEC_PATH_UDP4 ? "not specialized" : NULL;
}

/*
 * Fault @f.  @mod (@mod_len bytes, at most NS_MAX_PAYLOAD - 512) is the
 * signed module named @mod_name, made for another context: sent whole but
 * bound to another kernel (FAULT_UNBOUND), which the agent must not load,
 * or its first half bound to this one (FAULT_CUT, FAULT_TRUNCATED).  NULL
 * if the agent gave up with the fault's errno, nothing was loaded, the
 * token sent on its built-in path and still wants code; else what went
 * wrong.  *status is the agent's exit status.
 */
static const char *agent_fault(int f, const unsigned char *mod,
			       unsigned long mod_len, const char *mod_name,
			       int *status)
{
	char pts[16], adu_s[12], name[32], want[256] = "build-id=", hash[65];
	char lines[320] = "build-id=";
	unsigned int adu = 80 + f;
	unsigned long len, nl, n = 0;
	unsigned short port = 0;
	struct netspec_info info;
	struct netspec_nl_inst ni;
	const char *why = NULL;
	int m, rx = -1, tx = -1, agent = -1, kind, saved = tty, waiting = 1, st, w;
	long tok = -1, r;

	*status = -1;
	utoa_r(adu, adu_s);
	module_name("partial", adu_s, name);
	m = pty_open(pts);
	if (m < 0)
		return "no pseudo-terminal";
	rx = net_udp_receiver(LOOPBACK, &port);
	tx = rx >= 0 ? net_udp_sender(LOOPBACK, port) : -1;
	if (tx < 0) {
		why = "no sockets";
		goto out;
	}
	/*
	 * A context no module was made for: its customization asks.  Made
	 * before the agent listens, it asks no one, and the instance shows
	 * in a dump that it wants code for its checksum mode.
	 */
	if (f == FAULT_LATE) {
		why = specialized_token(tx, adu, &tok);
		if (why)
			goto out;
		info = netspec_info_of(tok);
		if (netspec_nl_inst(info.id, &ni) ||
		    ni.code_wanted != NETSPEC_CODE_CSUM_PARTIAL) {
			why = "the dump does not show that it wants code";
			goto out;
		}
	}
	agent = start_agent(pts, FAULT_TIMEOUT_S);
	if (agent < 0) {
		why = "the agent did not start";
		goto out;
	}
	if (f != FAULT_LATE) {
		why = specialized_token(tx, adu, &tok);
		if (why)
			goto out;
	}

	/* netspecd's end: the request, which is the context's scalars. */
	tty = m;
	in_len = 0;
	kind = read_frame(&len, 10000);
	for (nl = 0; kind == NS_KIND_REQUEST && nl < len && reply[nl] != '\n'; nl++)
		;
	nl++;
	cat(want, sizeof(want), build_id);
	cat(want, sizeof(want), "\npath=udp4\ncsum=partial\nadu=");
	cat(want, sizeof(want), adu_s);
	cat(want, sizeof(want), "\n");
	if (kind != NS_KIND_REQUEST || nl < 8 || memcmp(reply, "nonce=", 6) ||
	    len - nl != strlen(want) || memcmp(reply + nl, want, len - nl)) {
		why = "the agent's request is not the context's scalars";
		goto out;
	}
	n = frame_add(0, reply, nl);	/* the reply's nonce line */
	if (f == FAULT_CUT || f == FAULT_TRUNCATED || f == FAULT_UNBOUND) {
		ns_context_sha256("partial", adu_s, hash);
		cat(lines, sizeof(lines), f == FAULT_UNBOUND ?
		    "0000000000000000000000000000000000000000" : build_id);
		cat(lines, sizeof(lines), "\ncontext-sha256=");
		cat(lines, sizeof(lines), hash);
		cat(lines, sizeof(lines), "\nsymbol=netspec_gen_udp4_send\n\n");
		n = frame_add(n, lines, strlen(lines));
		n = frame_add(n, mod, f == FAULT_UNBOUND ? mod_len : mod_len / 2);
		len = ns_encode(out, NS_KIND_ARTIFACT, fault_frame, n);
		/* Cut: the header promises the whole frame, half of it comes. */
		if (write_all(out, f == FAULT_CUT ? len / 2 : len))
			why = "could not answer";
	} else if (f == FAULT_REFUSED || f == FAULT_LATE) {
		n = frame_add(n, "EINVAL refused by the test", 26);
		len = ns_encode(out, NS_KIND_ERROR, fault_frame, n);
		if (write_all(out, len))
			why = "could not answer";
	}

	/* The token sends while the agent waits, or has given up. */
	net_fill(fault_msg, adu, f);
	r = netspec_send(tok, fault_msg, adu, 0);
	if (f == FAULT_SILENT || f == FAULT_CUT) {
		st = 0;
		w = waitpid(agent, &st, WNOHANG);
		waiting = w == 0;
		if (w == agent) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
			agent = -1;
		}
	}
	if (!why && (r != adu || net_wait_readable(rx, 1000) != 1 ||
		     net_recvfrom(rx, fault_rx, sizeof(fault_rx), MSG_DONTWAIT,
				  NULL, NULL) != adu || memcmp(fault_rx, fault_msg, adu)))
		why = "the token's datagram was not received";
	if (!why && !waiting)
		why = "the agent stopped waiting before the send returned";
out:
	tty = saved;
	in_len = 0;
	if (agent > 0)
		*status = agent_exit(agent, FAULT_TIMEOUT_MS + 10000);
	if (!why && *status != fault_errno[f])
		why = "the agent did not give up with the fault's errno";
	if (tok >= 0) {
		info = netspec_info_of(tok);
		if (!why && (info.path != NETSPEC_PATH_UDP4 || info.sends != 1 ||
			     info.fallbacks))
			why = "not sent on the built-in specialized path";
		if (!why && (netspec_nl_inst(info.id, &ni) ||
			     ni.code_wanted != NETSPEC_CODE_CSUM_PARTIAL))
			why = "the instance no longer shows that it wants code";
		close(tok);
	}
	if (!why && (refcnt(name) >= 0 || refcnt(mod_name) >= 0))
		why = "a module was loaded";
	if (tx >= 0)
		close(tx);
	if (rx >= 0)
		close(rx);
	close(m);
	return why;
}

/* A token of a context no one made code for, which asks for code when it
 * is made, sends a message: the length sent or -errno.
 */
static long netspec_unheard_request(void)
{
	static unsigned char msg[ADU + 1];
	struct netspec_customize c;
	unsigned short port = 0;
	int rx, tx;
	long tok, r = -EBADF;

	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	tx = rx >= 0 ? net_udp_sender(LOOPBACK, port) : -1;
	if (tx >= 0) {
		c = netspec_udp_connected(tx, ADU + 1);
		tok = netspec_customize(&c);
		r = tok < 0 ? tok : c.path != NETSPEC_PATH_UDP4 ? -EOPNOTSUPP :
		    netspec_send(tok, msg, ADU + 1, 0);
		if (tok >= 0)
			close(tok);
		close(tx);
	}
	if (rx >= 0)
		close(rx);
	return r;
}

#define FLOOD	40

/*
 * With a listener on the "code" group that reads nothing, FLOOD tokens of
 * new instances, of contexts no one made code for, each of which asks as
 * it is made; the counters before and after in *s0 and *s1.  Returns the
 * tokens made, or -errno.
 */
static long asks_in_a_burst(struct netspec_nl_stats *s0,
			    struct netspec_nl_stats *s1,
			    unsigned long long *took)
{
	static int fds[2 * FLOOD];
	struct netspec_customize c;
	unsigned short port = 0;
	int rx = -1, i, n = 0, tokens = 0;
	const char *stage;
	long nl, r = 0;

	nl = genl_join(NETSPEC_MCGRP_CODE, &stage);
	/* Past the window of the namespace's last request, so that the whole
	 * burst falls in one window of its own.
	 */
	net_sleep_ms(5100);
	if (nl >= 0)
		rx = net_udp_receiver(LOOPBACK, &port);
	if (nl < 0 || rx < 0 || netspec_nl_stats(s0)) {
		r = nl < 0 ? nl : -EIO;
		goto out;
	}
	*took = net_now_ns();
	for (i = 0; i < FLOOD && !r; i++) {
		int tx = net_udp_sender(LOOPBACK, port);

		if (tx < 0) {
			r = -EIO;
			break;
		}
		fds[n++] = tx;
		/* ADUs no other test uses: 100 bytes and up. */
		c = netspec_udp_connected(tx, 100 + i);
		r = netspec_customize(&c);
		if (r >= 0) {
			fds[n++] = r;
			r = c.path == NETSPEC_PATH_UDP4 ? 0 : -EOPNOTSUPP;
			tokens++;
		}
	}
	*took = net_now_ns() - *took;
	if (!r)
		r = netspec_nl_stats(s1) ?: tokens;
out:
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (rx >= 0)
		close(rx);
	if (nl >= 0)
		close(nl);
	return r;
}

int main(int argc, char **argv, char **envp)
{
	char path[64] = "/dev/", hex[65];
	const char *name;
	const unsigned char *obj;
	unsigned long len, body, size = 0, size2 = 0;
	unsigned int crc = 0;
	char modname[32], foreign[32];
	int i;
	unsigned long long t0, cold, warm;
	struct netspec_nl_stats s0, s1;
	unsigned long long took = 0;
	long r, r2;
	int kind, ok, modules, status;
	static unsigned char fault_module[NS_MAX_PAYLOAD - 512];
	unsigned long mod_len = 0;
	const char *why;

	environ = envp;	/* 6.1's nolibc leaves it to us */
	name = getenv("NETSPEC_CHANNEL");
	kt_plan(1, 9 + MODULE_TESTS + FAULTS);
	ns_sha256_hex("abc", 3, hex);
	kt_result(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
		  "sha256_of_abc_is_the_standards", "%s", hex);

	/* init mounts no devtmpfs; the suite needs the port's node. */
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if (name)
		cat(path, sizeof(path), name);
	tty = name ? open(path, O_RDWR | O_NOCTTY) : -1;
	ok = tty >= 0 && raw(tty) == 0 && ns_build_id(build_id, sizeof(build_id)) == 0;
	kt_result(ok, "channel_and_build_id", "%s: fd %d, build id %s", path, tty,
		  ok ? build_id : "-");
	if (!ok)
		return kt_exit_status();

	t0 = net_now_ns();
	kind = ns_request(build_id, "partial", ADU_S, 60000, &len, &body);
	cold = net_now_ns() - t0;
	ok = ns_bound_here(kind, len, "partial", ADU_S, &obj, &size);
	if (ok)
		crc = ns_crc32(obj, size);
	kt_result(ok, "artifact_bound_to_this_kernel_and_context",
		  "kind %d, %lu bytes, object %lu bytes", kind, len, size);

	t0 = net_now_ns();
	kind = ns_request(build_id, "partial", ADU_S, 60000, &len, &body);
	warm = net_now_ns() - t0;
	ok = ns_bound_here(kind, len, "partial", ADU_S, &obj, &size2) && size2 == size &&
	     ns_crc32(obj, size2) == crc;
	kt_result(ok, "the_same_request_gets_the_same_object",
		  "kind %d, object %lu bytes", kind, size2);
	kt_line("# remote: a request compiled %lu ms, answered from the server's cache %lu ms, in guest time; artifact %lu bytes",
		ns_ms(cold), ns_ms(warm), size);

	module_name("partial", ADU_S, modname);
	module_name("none", ADU_S, foreign);
	i = open("/proc/modules", O_RDONLY, 0);
	if (i >= 0)
		close(i);
	modules = i >= 0;
	/* The module, for the replies of a failing server (reply[], where it
	 * lies, is the channel's buffer).
	 */
	if (ok && size <= sizeof(fault_module)) {
		mod_len = size;
		memcpy(fault_module, obj, size);
	}
	if (modules && ok) {
		module_tests_run(obj, size, modname, foreign, name);
	} else {
		for (i = 0; i < MODULE_TESTS; i++)
			kt_line("ok %d %s # SKIP %s", ++kt_done, module_tests[i],
				ok ? "this kernel loads no modules" : "no artifact");
	}

	/*
	 * The agent on a pseudo-terminal, against a server that fails: the
	 * suite plays it.  The module is truncated only where the kernel
	 * loads modules, and refused by it.
	 */
	mkdir("/dev/pts", 0755);
	r = mount("devpts", "/dev/pts", "devpts", 0, NULL);
	for (i = 0; i < FAULTS; i++) {
		status = -1;
		if (i == FAULT_TRUNCATED && (!modules || !mod_len)) {
			kt_line("ok %d %s # SKIP %s", ++kt_done, fault_tests[i],
				modules ? "no artifact" : "this kernel loads no modules");
			continue;
		}
		why = r ? "no devpts" : agent_fault(i, fault_module, mod_len,
						    modname, &status);
		kt_result(!why, fault_tests[i],
			  "%s; the agent's exit status %d",
			  why ? why : "the agent gave up, the token sent", status);
	}

	/* What the kernel asks tells which contexts are in use: only an
	 * administrator of the namespace may listen.
	 */
	r = join_code_group(0);
	r2 = join_code_group(65534);
	kt_result(r == 0 && r2 == -EPERM, "joining_the_code_group_takes_cap_net_admin",
		  "as root: %s; as uid 65534: %s", errname(r), errname(r2));

	/* No one listens now: a new instance asks no one. */
	ok = !netspec_nl_stats(&s0);
	r = netspec_unheard_request();
	ok = !netspec_nl_stats(&s1) && ok;
	kt_result(ok && r == ADU + 1 && s1.code_requests == s0.code_requests &&
		  s1.code_requests_dropped == s0.code_requests_dropped,
		  "a_request_no_one_hears_is_not_counted",
		  "send %s; requests %llu, then %llu", r < 0 ? errname(r) : "sent",
		  s0.code_requests, s1.code_requests);

	memset(&s0, 0, sizeof(s0));
	memset(&s1, 0, sizeof(s1));
	r = asks_in_a_burst(&s0, &s1, &took);
	if (r == FLOOD && took >= 4500000000ULL) {
		/* The limit's window is 5 s: a slower burst spans two. */
		kt_line("ok %d a_namespace_asks_at_most_32_times_in_5_seconds # SKIP the burst took %lu ms",
			++kt_done, ns_ms(took));
	} else {
		kt_result(r == FLOOD && s1.code_requests - s0.code_requests == 32 &&
			  s1.code_requests_dropped - s0.code_requests_dropped ==
			  FLOOD - 32,
			  "a_namespace_asks_at_most_32_times_in_5_seconds",
			  "%s; requests %llu, then %llu; dropped %llu, then %llu",
			  r < 0 ? errname(r) : "made", s0.code_requests,
			  s1.code_requests, s0.code_requests_dropped,
			  s1.code_requests_dropped);
	}
	kt_line("# remote: %ld tokens made in %lu ms asked %llu times, %llu held back",
		r, ns_ms(took), s1.code_requests - s0.code_requests,
		s1.code_requests_dropped - s0.code_requests_dropped);

	kind = ns_request("00000000000000000000000000000000000000ff", "partial",
			  ADU_S, 60000, &len, &body);
	kt_result(kind == NS_KIND_ERROR && len > body + 7 &&
		  !memcmp(reply + body, "ENOENT ", 7),
		  "another_kernels_build_id_is_refused", "kind %d", kind);

	/* Garbage on the line first: the server skips to the next frame. */
	write_all((const unsigned char *)"\0NSP\377garbage", 12);
	kind = ns_request(build_id, "none", ADU_S, 60000, &len, &body);
	kt_result(ns_bound_here(kind, len, "none", ADU_S, &obj, &size2),
		  "garbage_before_a_request_is_skipped", "kind %d", kind);
	return kt_exit_status();
}
