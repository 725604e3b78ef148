/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device's end of the remote customization channel, for nolibc guest
 * programs: the agent (vm-tests/agent.c) and the remote suite.  A serial
 * port in raw mode that QEMU connects to netspecd on the host; requests
 * and replies are the frames of nsproto.h.  A program opens the port into
 * tty, sets it raw() and reads its kernel's build id into build_id.
 */
#ifndef NETSPEC_GUEST_NSCHANNEL_H
#define NETSPEC_GUEST_NSCHANNEL_H

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
		/* Not poll(): nolibc's divides, which ARMv4 cannot. */
		if (net_wait_readable(tty, timeout_ms) <= 0)
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
 * Sends a request for "udp4 csum=@csum adu=@adu" on behalf of kernel @id
 * and reads the reply to it: its kind (-1 after @timeout_ms without it),
 * and in *len and *body its length and where its text after the nonce line
 * starts.  Replies to earlier requests (one that came after its request
 * timed out) are dropped, by their nonce.
 */
static int ns_request(const char *id, const char *csum, const char *adu,
		      int timeout_ms, unsigned long *len, unsigned long *body)
{
	static unsigned int nonce;
	char text[256] = "", mine[32];
	unsigned long n;
	int kind;

	/* Seeded per process, so that the agent's and the suite's differ. */
	if (!nonce)
		nonce = (unsigned int)net_now_ns() | 1;
	nonce_line(mine, ++nonce);
	cat(text, sizeof(text), mine);
	cat(text, sizeof(text), "build-id=");
	cat(text, sizeof(text), id);
	cat(text, sizeof(text), "\npath=udp4\ncsum=");
	cat(text, sizeof(text), csum);
	cat(text, sizeof(text), "\nadu=");
	cat(text, sizeof(text), adu);
	cat(text, sizeof(text), "\n");
	n = ns_encode(out, NS_KIND_REQUEST, text, strlen(text));
	in_len = 0;
	ioctl(tty, TCFLSH, TCIFLUSH);
	if (write_all(out, n))
		return -1;
	do {
		kind = read_frame(len, timeout_ms);
	} while (kind >= 0 && (*len < strlen(mine) ||
			       memcmp(reply, mine, strlen(mine))));
	*body = strlen(mine);
	return kind;
}

/* The value of @key in the binding lines of an artifact, copied to @v. */
static int ns_binding(unsigned long len, const char *key, char *v, int size)
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

/* The SHA-256 of the context "udp4 csum=@csum adu=@adu", in @hex. */
static void ns_context_sha256(const char *csum, const char *adu, char hex[65])
{
	char canon[64] = "udp4 csum=";

	cat(canon, sizeof(canon), csum);
	cat(canon, sizeof(canon), " adu=");
	cat(canon, sizeof(canon), adu);
	ns_sha256_hex(canon, strlen(canon), hex);
}

/*
 * Whether reply[] is an artifact made for this kernel and the context
 * "udp4 csum=@csum adu=@adu"; *object and *size locate its object.
 */
static int ns_bound_here(int kind, unsigned long len, const char *csum,
			 const char *adu, const unsigned char **object,
			 unsigned long *size)
{
	char want[65], got_id[129], got_hash[65], sym[64];
	unsigned long i;

	if (kind != NS_KIND_ARTIFACT)
		return 0;
	ns_context_sha256(csum, adu, want);
	if (ns_binding(len, "build-id", got_id, sizeof(got_id)) ||
	    ns_binding(len, "context-sha256", got_hash, sizeof(got_hash)) ||
	    ns_binding(len, "symbol", sym, sizeof(sym)))
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
static unsigned long ns_ms(unsigned long long ns)
{
	unsigned long n = 0;

	while (ns >= 1000000) {
		ns -= 1000000;
		n++;
	}
	return n;
}

/* Writes @len bytes of @p to a file of this process and loads it with
 * finit_module(): 0 or -errno.
 */
static long ns_load(const unsigned char *p, unsigned long len)
{
	char path[32] = "/tmp/module-";
	long fd, r;
	int pid = getpid(), i = strlen(path), shift = 28;

	/* Hex: ARMv4 cannot divide. */
	while (shift > 0 && !(pid >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		path[i++] = "0123456789abcdef"[(pid >> shift) & 15];
	path[i] = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	r = write(fd, p, len);
	close(fd);
	if (r != (long)len) {
		unlink(path);
		return -EIO;
	}
	fd = open(path, O_RDONLY, 0);
	r = fd < 0 ? -errno : my_syscall3(__NR_finit_module, fd, "", 0);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return r;
}

#endif /* NETSPEC_GUEST_NSCHANNEL_H */
