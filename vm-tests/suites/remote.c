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
 * adopts it, and the module is held while the token is.  Elsewhere those
 * tests are skipped.
 * The channel is named by the harness in NETSPEC_CHANNEL (e.g. ttyS1); the
 * harness leaves this suite out on arches without one.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "capture.h"
#include "nschannel.h"
#include "genl.h"

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
 * Starts the agent on channel @tty_name for one request; its pid once it
 * listens (within ten seconds), else -1.
 */
static int start_agent(const char *tty_name)
{
	char *argv[] = { AGENT, (char *)tty_name, "1", AGENT_READY, NULL };
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

#define MODULE_TESTS	8

static const char *const module_tests[MODULE_TESTS] = {
	"an_unsigned_module_is_refused",
	"a_module_changed_after_signing_is_refused",
	"a_module_signed_with_another_key_is_refused",
	"the_agent_loads_the_module_the_kernel_asks_for_in_advance",
	"a_token_adopts_it_and_sends_what_send_sends",
	"a_module_in_use_cannot_be_removed",
	"closing_the_token_releases_the_module",
	"closing_the_socket_releases_it_and_it_unloads",
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
	struct netspec_info info;
	struct netspec_nl_stats s0, s1;
	unsigned long long t0;
	const char *why;
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
	agent = why ? -1 : start_agent(tty_name);
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
	kt_result(!why && n0 == 0 && status == 0 && stats_ok &&
		  s1.code_requests == s0.code_requests + 1, module_tests[3],
		  "%s; refcnt %ld; agent's exit status %d; requests %llu, then %llu",
		  why ? why : "loaded", n0, status, s0.code_requests,
		  s1.code_requests);
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

	r = my_syscall2(__NR_delete_module, name, O_NONBLOCK);
	kt_result(r == -EAGAIN && refcnt(name) == 1, module_tests[5],
		  "delete_module: %s", errname(r));

	if (tok >= 0)
		close(tok);
	n1 = refcnt_becomes(name, 0);
	kt_result(n1 == 0, module_tests[6], "refcnt %ld after close", n1);

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
	close(tx);
	n1 = refcnt_becomes(name, 0);
	r = tok >= 0 ? netspec_send(tok, payload, ADU, 0) : -1;
	kt_result(!why && n0 == 1 && n1 == 0 && r == -EPIPE &&
		  !my_syscall2(__NR_delete_module, name, O_NONBLOCK) &&
		  refcnt(name) < 0,
		  module_tests[7], "%s; refcnt %ld, then %ld; send %s",
		  why ? why : "sent", n0, n1, errname(r));
	if (tok >= 0)
		close(tok);
	close(cap);
	close(rx);
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
	char modname[32] = "netspec_", foreign[32] = "netspec_";
	int i;
	unsigned long long t0, cold, warm;
	struct netspec_nl_stats s0, s1;
	unsigned long long took = 0;
	long r, r2;
	int kind, ok;

	environ = envp;	/* 6.1's nolibc leaves it to us */
	name = getenv("NETSPEC_CHANNEL");
	kt_plan(1, 9 + MODULE_TESTS);
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

	/* The module's name: netspec_ and 16 hex digits of the context's hash. */
	ns_sha256_hex("udp4 csum=partial adu=" ADU_S,
		      strlen("udp4 csum=partial adu=" ADU_S), hex);
	hex[16] = 0;
	cat(modname, sizeof(modname), hex);
	ns_sha256_hex("udp4 csum=none adu=" ADU_S,
		      strlen("udp4 csum=none adu=" ADU_S), hex);
	hex[16] = 0;
	cat(foreign, sizeof(foreign), hex);
	i = open("/proc/modules", O_RDONLY, 0);
	if (i >= 0)
		close(i);
	if (i >= 0 && ok) {
		module_tests_run(obj, size, modname, foreign, name);
	} else {
		for (i = 0; i < MODULE_TESTS; i++)
			kt_line("ok %d %s # SKIP %s", ++kt_done, module_tests[i],
				ok ? "this kernel loads no modules" : "no artifact");
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
