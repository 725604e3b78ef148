/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device's side of netspecd's wire protocol (tools/netspecd/src/proto.rs):
 * "NSPD", version 1, kind, a little-endian u32 length, the payload, and a
 * CRC-32 of version..payload; SHA-256 for the context hash an artifact is
 * bound to; and the kernel's GNU build id from /sys/kernel/notes.
 */
#ifndef NETSPEC_NSPROTO_H
#define NETSPEC_NSPROTO_H

#define NS_KIND_REQUEST		1
#define NS_KIND_ARTIFACT	2
#define NS_KIND_ERROR		3
#define NS_HEADER		10
#define NS_MAX_PAYLOAD		(256 * 1024)

static unsigned int ns_crc32(const unsigned char *p, unsigned long n)
{
	unsigned int crc = ~0u;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static void ns_put32(unsigned char *p, unsigned int v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static unsigned int ns_get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (unsigned int)p[3] << 24;
}

/* Frames @len bytes of @payload into @out; returns the frame's length. */
static unsigned long ns_encode(unsigned char *out, int kind,
			       const void *payload, unsigned long len)
{
	memcpy(out, "NSPD", 4);
	out[4] = 1;
	out[5] = kind;
	ns_put32(out + 6, len);
	memcpy(out + NS_HEADER, payload, len);
	ns_put32(out + NS_HEADER + len, ns_crc32(out + 4, 6 + len));
	return NS_HEADER + len + 4;
}

/* SHA-256 (FIPS 180-4) of @n bytes, as 64 lowercase hex digits in @hex. */
static void ns_sha256_hex(const void *data, unsigned long n, char hex[65])
{
	static const unsigned int k[64] = {
		0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
		0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
		0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
		0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
		0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
		0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
		0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
		0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
		0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
		0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
		0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
		0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
		0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
	};
	unsigned int h[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	const unsigned char *in = data;
	unsigned long total = n + 9, blocks = (total + 63) / 64, b, i;
	unsigned char blk[64];
	unsigned int w[64], t[8], t1, t2;

#define NS_ROR(x, r) (((x) >> (r)) | ((x) << (32 - (r))))
	for (b = 0; b < blocks; b++) {
		for (i = 0; i < 64; i++) {
			unsigned long at = b * 64 + i;
			unsigned long long bits = (unsigned long long)n * 8;

			if (at < n)
				blk[i] = in[at];
			else if (at == n)
				blk[i] = 0x80;
			else if (at >= blocks * 64 - 8)
				blk[i] = bits >> (8 * (blocks * 64 - 1 - at));
			else
				blk[i] = 0;
		}
		for (i = 0; i < 16; i++)
			w[i] = (unsigned int)blk[4 * i] << 24 | blk[4 * i + 1] << 16 |
			       blk[4 * i + 2] << 8 | blk[4 * i + 3];
		for (i = 16; i < 64; i++)
			w[i] = w[i - 16] + w[i - 7] +
			       (NS_ROR(w[i - 15], 7) ^ NS_ROR(w[i - 15], 18) ^
				(w[i - 15] >> 3)) +
			       (NS_ROR(w[i - 2], 17) ^ NS_ROR(w[i - 2], 19) ^
				(w[i - 2] >> 10));
		memcpy(t, h, sizeof(t));
		for (i = 0; i < 64; i++) {
			t1 = t[7] + (NS_ROR(t[4], 6) ^ NS_ROR(t[4], 11) ^
				     NS_ROR(t[4], 25)) +
			     ((t[4] & t[5]) ^ (~t[4] & t[6])) + k[i] + w[i];
			t2 = (NS_ROR(t[0], 2) ^ NS_ROR(t[0], 13) ^
			      NS_ROR(t[0], 22)) +
			     ((t[0] & t[1]) ^ (t[0] & t[2]) ^ (t[1] & t[2]));
			memmove(t + 1, t, 7 * sizeof(t[0]));
			t[4] += t1;
			t[0] = t1 + t2;
		}
		for (i = 0; i < 8; i++)
			h[i] += t[i];
	}
#undef NS_ROR
	for (i = 0; i < 64; i++)
		hex[i] = "0123456789abcdef"[(h[i / 8] >> (28 - 4 * (i % 8))) & 15];
	hex[64] = 0;
}

/*
 * The GNU build id of the running kernel, from /sys/kernel/notes (the
 * kernel's own ELF notes: namesz, descsz, type, then the name and the
 * description, each padded to 4 bytes), as lowercase hex in @hex; 0, or
 * -1 when there is none.
 */
static int ns_build_id(char *hex, unsigned long size)
{
	static unsigned char notes[4096];
	long n, at = 0, i;
	int fd = open("/sys/kernel/notes", O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, notes, sizeof(notes));
	close(fd);
	while (n > 0 && at + 12 <= n) {
		unsigned int namesz, descsz, type;

		memcpy(&namesz, notes + at, 4);
		memcpy(&descsz, notes + at + 4, 4);
		memcpy(&type, notes + at + 8, 4);
		at += 12;
		if (namesz > 4096 || descsz > 4096)
			return -1;
		if (type == 3 && namesz == 4 && at + 4 + descsz <= n &&
		    !memcmp(notes + at, "GNU", 4) && 2 * descsz < size) {
			for (i = 0; i < descsz; i++) {
				hex[2 * i] = "0123456789abcdef"[notes[at + 4 + i] >> 4];
				hex[2 * i + 1] = "0123456789abcdef"[notes[at + 4 + i] & 15];
			}
			hex[2 * descsz] = 0;
			return 0;
		}
		at += ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
	}
	return -1;
}

#endif /* NETSPEC_NSPROTO_H */
