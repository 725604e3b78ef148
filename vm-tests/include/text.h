/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading /proc and /sys text in nolibc guest programs, which have no stdio
 * or strstr().
 */
#ifndef NETSPEC_GUEST_TEXT_H
#define NETSPEC_GUEST_TEXT_H

/* Reads the whole file at path into buf, NUL-terminated; its length or -errno. */
static __attribute__((unused)) long read_text(const char *path, char *buf,
					      unsigned long size)
{
	long fd = open(path, O_RDONLY, 0), n = 0, r;

	if (fd < 0)
		return fd;
	while ((r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return r < 0 ? r : n;
}

/* The decimal number s starts with (0 if none). */
static __attribute__((unused)) unsigned long long parse_uint(const char *s)
{
	unsigned long long v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

/* The first place needle occurs in hay, or NULL. */
static __attribute__((unused)) char *find(char *hay, const char *needle)
{
	unsigned int n = strlen(needle);

	for (; *hay; hay++)
		if (!strncmp(hay, needle, n))
			return hay;
	return NULL;
}

#endif /* NETSPEC_GUEST_TEXT_H */
