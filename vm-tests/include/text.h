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

/* The number in the file at path (a sysctl), or -1 if it cannot be read. */
static __attribute__((unused)) int read_sysctl(const char *path)
{
	char text[32];

	return read_text(path, text, sizeof(text)) > 0 ? (int)parse_uint(text) : -1;
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

/* Writes value to the file at path (a sysctl); 0 or -errno. */
static __attribute__((unused)) long write_text(const char *path,
					       const char *value)
{
	long fd = open(path, O_WRONLY, 0), r;

	if (fd < 0)
		return -errno;
	r = write(fd, value, strlen(value));
	close(fd);
	return r < 0 ? -errno : 0;
}

/*
 * Whether /proc/net/netspec has an instance row owned by pid: 1, 0, or -1
 * if the file cannot be read.  Rows are "id pid token ...".
 */
static __attribute__((unused)) int netspec_proc_has_pid(int pid)
{
	static char text[16384];
	char num[16], *p;
	unsigned int n;

	if (read_text("/proc/net/netspec", text, sizeof(text)) < 0)
		return -1;
	u64toa_r(pid, num);
	n = strlen(num);
	for (p = text; (p = strchr(p, '\n')); ) {
		char *f = ++p;

		while (*f && *f != ' ' && *f != '\n')
			f++;
		if (*f == ' ' && !strncmp(f + 1, num, n) && f[1 + n] == ' ')
			return 1;
	}
	return 0;
}

/*
 * The /proc/net/netspec row of the instance that pid customized first and
 * holds under token, NUL-terminated in a static buffer; NULL if there is
 * none or the file cannot be read.
 */
static __attribute__((unused)) char *netspec_proc_row(int pid, long token)
{
	static char text[16384];
	char *row, *end, *p, *q;

	if (read_text("/proc/net/netspec", text, sizeof(text)) < 0)
		return NULL;
	/* Rows are "id pid token ...": match the second and third fields. */
	for (row = text; *row; row = *end ? end + 1 : end) {
		for (end = row; *end && *end != '\n'; end++)
			;
		for (p = row; *p >= '0' && *p <= '9'; p++)	/* id */
			;
		if (p == row || *p != ' ' || parse_uint(++p) != (unsigned int)pid)
			continue;
		while (*p >= '0' && *p <= '9')
			p++;
		for (q = *p == ' ' ? ++p : p; *q >= '0' && *q <= '9'; q++)
			;
		if (q == p || *q != ' ' || parse_uint(p) != (unsigned long)token)
			continue;
		*end = 0;
		return row;
	}
	return NULL;
}

#endif /* NETSPEC_GUEST_TEXT_H */
