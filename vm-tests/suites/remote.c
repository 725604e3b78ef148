// SPDX-License-Identifier: GPL-2.0
/*
 * The device's end of the remote customization channel (issue 16): a
 * serial port that QEMU connects to netspecd on the host, which the harness
 * starts for this kernel's build.  The suite asks as the device's agent
 * will: a nonce, its kernel's build id and a context's scalar values out;
 * an object back, with the nonce (a late reply to an earlier request is
 * dropped) and bound to that build id and the SHA-256 of the context's
 * canonical text, which the suite checks, as the agent must before loading
 * it.
 * Where the kernel loads modules (signatures enforced: signed-modules.config), the
 * artifact is a module signed with the build's key: the suite loads it with
 * finit_module(), sends through a token that adopts it, and checks that the
 * module is held while the token is and that a module not signed, or
 * changed after it was, is refused.  Elsewhere those tests are skipped.
 * The channel is named by the harness in NETSPEC_CHANNEL (e.g. ttyS1); the
 * harness leaves this suite out on arches without one.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "capture.h"
#include "nsproto.h"

#include <asm/ioctls.h>
#include <asm/termbits.h>

static unsigned char out[NS_MAX_PAYLOAD + 64], in[NS_MAX_PAYLOAD + 64];
static unsigned char reply[NS_MAX_PAYLOAD];
static unsigned long in_len;
static char build_id[129];
static int tty = -1;

/* No echo, no line discipline, 8 bits: the bytes as they are. */
static int raw(int fd)
{
	struct termios t;

	if (ioctl(fd, TCGETS, &t) < 0)
		return -1;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
		       ICRNL | IXON | IXOFF);
	t.c_oflag &= ~OPOST;
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB | CRTSCTS | CBAUD);
	/* The fastest rate both UARTs take (an 8250's 1.8432 MHz clock). */
	t.c_cflag |= CS8 | CLOCAL | CREAD | B115200;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return ioctl(fd, TCSETS, &t);
}

static int write_all(const unsigned char *p, unsigned long n)
{
	while (n) {
		long w = write(tty, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/*
 * Reads the next frame into reply[]; returns its kind and sets *len, or -1
 * after @timeout_ms without one.  Bytes that start no frame are skipped.
 */
static int read_frame(unsigned long *len, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = tty, .events = POLLIN };
		unsigned long i, n;
		long r;

		/* Drop what cannot begin a frame. */
		for (i = 0; i < in_len; i++)
			if (!memcmp(in + i, "NSPD", in_len - i < 4 ? in_len - i : 4))
				break;
		memmove(in, in + i, in_len - i);
		in_len -= i;
		if (in_len >= NS_HEADER) {
			n = ns_get32(in + 6);
			if (in[4] != 1 || n > NS_MAX_PAYLOAD) {
				memmove(in, in + 1, --in_len);
				continue;
			}
			if (in_len >= NS_HEADER + n + 4) {
				int kind = in[5];

				/* A damaged header's length means nothing: look
				 * for a frame from the next byte on.
				 */
				if (ns_get32(in + NS_HEADER + n) !=
				    ns_crc32(in + 4, 6 + n)) {
					memmove(in, in + 1, --in_len);
					continue;
				}
				memcpy(reply, in + NS_HEADER, n);
				memmove(in, in + NS_HEADER + n + 4,
					in_len - NS_HEADER - n - 4);
				in_len -= NS_HEADER + n + 4;
				*len = n;
				return kind;
			}
		}
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		r = read(tty, in + in_len, sizeof(in) - in_len);
		if (r <= 0)
			return -1;
		in_len += r;
	}
}

/* Appends @src to the string in @dst, of @size bytes, cutting it short. */
static void cat(char *dst, unsigned long size, const char *src)
{
	strncat(dst, src, size - strlen(dst) - 1);
}

/* "nonce=<n in hex>\n" in @buf, of 32 bytes (hex: ARMv4 cannot divide). */
static void nonce_line(char *buf, unsigned int n)
{
	char *p = buf;
	int shift = 28;

	memcpy(p, "nonce=", 6);
	p += 6;
	while (shift > 0 && !(n >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[(n >> shift) & 15];
	*p++ = '\n';
	*p = 0;
}

#define LOOPBACK 0x7f000001

/* The message size of every context the suite asks for. */
#define ADU	64
#define ADU_S	"64"

/*
 * Sends a request for "udp4 csum=@csum adu=64" on behalf of kernel @id and reads
 * the reply to it: its kind, and in *len and *body its length and where
 * its text after the nonce line starts.  Replies to earlier requests (one
 * that came after its request timed out) are dropped, by their nonce.
 */
static int request(const char *id, const char *csum, unsigned long *len,
		   unsigned long *body)
{
	static unsigned int nonce;
	char text[256] = "", mine[32];
	unsigned long n;
	int kind;

	nonce_line(mine, ++nonce);
	cat(text, sizeof(text), mine);
	cat(text, sizeof(text), "build-id=");
	cat(text, sizeof(text), id);
	cat(text, sizeof(text), "\npath=udp4\ncsum=");
	cat(text, sizeof(text), csum);
	cat(text, sizeof(text), "\nadu=" ADU_S "\n");
	n = ns_encode(out, NS_KIND_REQUEST, text, strlen(text));
	in_len = 0;
	ioctl(tty, TCFLSH, TCIFLUSH);
	if (write_all(out, n))
		return -1;
	do {
		kind = read_frame(len, 60000);
	} while (kind >= 0 && (*len < strlen(mine) ||
			       memcmp(reply, mine, strlen(mine))));
	*body = strlen(mine);
	return kind;
}

/* The value of @key in the binding lines of an artifact, copied to @v. */
static int binding(unsigned long len, const char *key, char *v, int size)
{
	unsigned long i = 0, k = strlen(key);

	while (i < len && reply[i] != '\n') {
		unsigned long e = i;

		while (e < len && reply[e] != '\n')
			e++;
		if (e - i > k && !memcmp(reply + i, key, k) && reply[i + k] == '=' &&
		    e - i - k - 1 < (unsigned long)size) {
			memcpy(v, reply + i + k + 1, e - i - k - 1);
			v[e - i - k - 1] = 0;
			return 0;
		}
		i = e + 1;
	}
	return -1;
}

/*
 * Whether reply[] is an artifact made for this kernel and the context
 * "udp4 csum=@csum adu=64"; *object and *size locate its object.
 */
static int bound_here(int kind, unsigned long len, const char *csum,
		      const unsigned char **object, unsigned long *size)
{
	char want[65], canon[64], got_id[129], got_hash[65], sym[64];
	unsigned long i;

	if (kind != NS_KIND_ARTIFACT)
		return 0;
	canon[0] = 0;
	cat(canon, sizeof(canon), "udp4 csum=");
	cat(canon, sizeof(canon), csum);
	cat(canon, sizeof(canon), " adu=" ADU_S);
	ns_sha256_hex(canon, strlen(canon), want);
	if (binding(len, "build-id", got_id, sizeof(got_id)) ||
	    binding(len, "context-sha256", got_hash, sizeof(got_hash)) ||
	    binding(len, "symbol", sym, sizeof(sym)))
		return 0;
	if (strcmp(got_id, build_id) || strcmp(got_hash, want) ||
	    strcmp(sym, "netspec_gen_udp4_send"))
		return 0;
	for (i = 0; i + 1 < len; i++)
		if (reply[i] == '\n' && reply[i + 1] == '\n')
			break;
	if (i + 1 >= len)
		return 0;
	*object = reply + i + 2;
	*size = len - i - 2;
	return *size > 4 && !memcmp(*object, "\177ELF", 4);
}

/* @ns in whole milliseconds: ARMv4 has no divide instruction and the
 * guests link no libgcc, so it counts (as init's print_took()).
 */
static unsigned long ms(unsigned long long ns)
{
	unsigned long n = 0;

	while (ns >= 1000000) {
		ns -= 1000000;
		n++;
	}
	return n;
}

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
		return fd;
	while ((unsigned long)n < size && (r = read(fd, buf + n, size - n)) > 0)
		n += r;
	close(fd);
	return n;
}

/* Writes @len bytes of @p to /module.ko and loads it: 0 or -errno. */
static long load(const unsigned char *p, unsigned long len)
{
	long fd = open("/module.ko", O_WRONLY | O_CREAT | O_TRUNC, 0600), r;

	if (fd < 0)
		return fd;
	r = write(fd, p, len);
	close(fd);
	if (r != (long)len)
		return -EIO;
	fd = open("/module.ko", O_RDONLY, 0);
	if (fd < 0)
		return fd;
	r = my_syscall3(__NR_finit_module, fd, "", 0);
	close(fd);
	return r;
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
	"the_signed_module_loads",
	"a_token_adopts_it_and_sends_what_send_sends",
	"a_module_in_use_cannot_be_removed",
	"closing_the_token_releases_the_module",
	"closing_the_socket_releases_it_and_it_unloads",
};

/*
 * The module made for "udp4 csum=partial adu=64" (@ko, @size bytes), named
 * @name: refused unsigned, changed or signed with another key (the module
 * @foreign, which the harness made), loaded signed, adopted by a token of
 * that context on lo (whose device sums the datagram: csum=partial), held
 * while the token is open and released when it closes, or when the socket
 * does (the token then sends nothing: EPIPE), and then unloaded.
 */
static void module_tests_run(const unsigned char *ko, unsigned long size,
			     const char *name, const char *foreign)
{
	static unsigned char copy[NS_MAX_PAYLOAD];
	unsigned long body = unsigned_len(ko, size);
	unsigned short port = 0;
	struct netspec_customize c;
	struct netspec_info info;
	unsigned long long t0;
	const char *why;
	long r, tok, n0, n1;
	int rx, tx, cap;

	/*
	 * The kernel gives EKEYREJECTED for each refusal below, whatever its
	 * reason, so each test first makes sure that its module differs from
	 * the good one in that reason only: here, the artifact is signed and
	 * this is it without its signature.
	 */
	r = body ? load(ko, body) : -ENODATA;
	kt_result(r == -EKEYREJECTED && refcnt(name) < 0, module_tests[0],
		  "%lu of %lu bytes: %s", body, size, errname(r));

	/* One byte of the module's text changed, its signature kept: the
	 * digest no longer matches.
	 */
	memcpy(copy, ko, size);
	copy[body / 2] ^= 0x01;
	r = body ? load(copy, size) : -ENODATA;
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
		r = load(copy, n0);
	kt_result(r == -EKEYREJECTED && refcnt(foreign) < 0, module_tests[2],
		  "/extra/foreign.ko, %ld bytes: %s", n0, errname(r));

	t0 = net_now_ns();
	r = load(ko, size);
	t0 = net_now_ns() - t0;
	n0 = refcnt(name);
	kt_result(r == 0 && n0 == 0, module_tests[3], "%s, refcnt %ld",
		  errname(r), n0);
	kt_line("# remote: the module written and loaded in %lu ms, in guest time",
		ms(t0));

	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	tx = net_udp_sender(LOOPBACK, port);
	cap = cap_open(CAP_LO);
	c = netspec_udp_connected(tx, ADU);
	tok = rx >= 0 && tx >= 0 && cap >= 0 ? netspec_customize(&c) : -1;
	why = tok < 0 ? "no token" : c.path != NETSPEC_PATH_UDP4 ?
	      "not specialized" : send_both(tx, rx, tok, cap, port, 1);
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
	int kind, ok;

	environ = envp;	/* 6.1's nolibc leaves it to us */
	name = getenv("NETSPEC_CHANNEL");
	kt_plan(1, 6 + MODULE_TESTS);
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
	kind = request(build_id, "partial", &len, &body);
	cold = net_now_ns() - t0;
	ok = bound_here(kind, len, "partial", &obj, &size);
	if (ok)
		crc = ns_crc32(obj, size);
	kt_result(ok, "artifact_bound_to_this_kernel_and_context",
		  "kind %d, %lu bytes, object %lu bytes", kind, len, size);

	t0 = net_now_ns();
	kind = request(build_id, "partial", &len, &body);
	warm = net_now_ns() - t0;
	ok = bound_here(kind, len, "partial", &obj, &size2) && size2 == size &&
	     ns_crc32(obj, size2) == crc;
	kt_result(ok, "the_same_request_gets_the_same_object",
		  "kind %d, object %lu bytes", kind, size2);
	kt_line("# remote: a request compiled %lu ms, answered from the server's cache %lu ms, in guest time; artifact %lu bytes",
		ms(cold), ms(warm), size);

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
		module_tests_run(obj, size, modname, foreign);
	} else {
		for (i = 0; i < MODULE_TESTS; i++)
			kt_line("ok %d %s # SKIP %s", ++kt_done, module_tests[i],
				ok ? "this kernel loads no modules" : "no artifact");
	}

	kind = request("00000000000000000000000000000000000000ff", "partial", &len,
		       &body);
	kt_result(kind == NS_KIND_ERROR && len > body + 7 &&
		  !memcmp(reply + body, "ENOENT ", 7),
		  "another_kernels_build_id_is_refused", "kind %d", kind);

	/* Garbage on the line first: the server skips to the next frame. */
	write_all((const unsigned char *)"\0NSP\377garbage", 12);
	kind = request(build_id, "none", &len, &body);
	kt_result(bound_here(kind, len, "none", &obj, &size2),
		  "garbage_before_a_request_is_skipped", "kind %d", kind);
	return kt_exit_status();
}
