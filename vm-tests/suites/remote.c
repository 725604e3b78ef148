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
 * Nothing is loaded: the test kernels cannot load modules yet.  The channel
 * is named by the harness in NETSPEC_CHANNEL (e.g. ttyS1); the harness
 * leaves this suite out on arches without one.
 */
#include "ktap.h"
#include "net.h"
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

/*
 * Sends a request for "udp4 csum=@csum" on behalf of kernel @id and reads
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
	cat(text, sizeof(text), "\n");
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
 * "udp4 csum=@csum"; *object and *size locate its object.
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

int main(int argc, char **argv, char **envp)
{
	char path[64] = "/dev/", hex[65];
	const char *name;
	const unsigned char *obj;
	unsigned long len, body, size = 0, size2 = 0;
	unsigned int crc = 0;
	unsigned long long t0, cold, warm;
	int kind, ok;

	environ = envp;	/* 6.1's nolibc leaves it to us */
	name = getenv("NETSPEC_CHANNEL");
	kt_plan(1, 6);
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
	kt_line("# remote: a request compiled %lu ms, answered from the server's cache %lu ms, in guest time; object %lu bytes",
		ms(cold), ms(warm), size);

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
