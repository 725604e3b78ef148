/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KTAP output for netspec guest programs (nolibc, static, every arch).
 *
 * Every line goes out in one write(2): the console interleaves the kernel's
 * printk output with ours, and a line split over several writes could be
 * cut in the middle by a kernel message.  nolibc has no vsnprintf, so this
 * carries a small formatter for the conversions the tests use.
 */
#ifndef NETSPEC_KTAP_H
#define NETSPEC_KTAP_H

#include <stdarg.h>

struct kt_buf {
	char s[512];
	unsigned int n;
};

static __attribute__((unused)) void kt_putc(struct kt_buf *b, char c)
{
	if (b->n < sizeof(b->s) - 1)
		b->s[b->n++] = c;
}

static void kt_puts(struct kt_buf *b, const char *s)
{
	while (*s)
		kt_putc(b, *s++);
}

/* nolibc's converters avoid 64-bit division, which needs libgcc on 32-bit. */
static void kt_putu(struct kt_buf *b, unsigned long long v, unsigned int base)
{
	char tmp[24];

	if (base == 16)
		u64toh_r(v, tmp);
	else
		u64toa_r(v, tmp);
	kt_puts(b, tmp);
}

/* %s %d %u %ld %lu %lld %llu %x %lx %llx %% */
static void kt_vformat(struct kt_buf *b, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int l = 0;
		unsigned long long u;
		long long d;

		if (*fmt != '%') {
			kt_putc(b, *fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			l++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			kt_puts(b, va_arg(ap, const char *));
			break;
		case 'd':
			d = l >= 2 ? va_arg(ap, long long) :
			    l == 1 ? va_arg(ap, long) : va_arg(ap, int);
			if (d < 0) {
				kt_putc(b, '-');
				u = -(unsigned long long)d;
			} else {
				u = d;
			}
			kt_putu(b, u, 10);
			break;
		case 'u':
		case 'x':
			u = l >= 2 ? va_arg(ap, unsigned long long) :
			    l == 1 ? va_arg(ap, unsigned long) :
			    va_arg(ap, unsigned int);
			kt_putu(b, u, *fmt == 'u' ? 10 : 16);
			break;
		case '%':
			kt_putc(b, '%');
			break;
		default:
			kt_putc(b, '?');
			break;
		}
	}
}

/* Appends printf-style text to b (the conversions kt_vformat() takes). */
static __attribute__((unused)) void kt_format(struct kt_buf *b,
					      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vformat(b, fmt, ap);
	va_end(ap);
}

/* Nesting depth: a suite run by init is one level below init's plan. */
static int kt_depth;
static int kt_planned, kt_done, kt_failed;

static void kt_line(const char *fmt, ...)
{
	struct kt_buf b = { .n = 0 };
	va_list ap;
	int i;

	for (i = 0; i < kt_depth * 4; i++)
		kt_putc(&b, ' ');
	va_start(ap, fmt);
	kt_vformat(&b, fmt, ap);
	va_end(ap);
	kt_putc(&b, '\n');
	write(1, b.s, b.n);
}

static void kt_plan(int depth, int n)
{
	kt_depth = depth;
	kt_planned = n;
	kt_line("KTAP version 1");
	kt_line("1..%d", n);
}

/*
 * Report one test; on failure the printf-style reason follows the "#".
 * Returns the verdict so that callers can chain on it.
 */
static int kt_result(int ok, const char *name, const char *fmt, ...)
{
	struct kt_buf why = { .n = 0 };
	va_list ap;

	kt_done++;
	if (ok) {
		kt_line("ok %d %s", kt_done, name);
		return 1;
	}
	kt_failed++;
	va_start(ap, fmt);
	kt_vformat(&why, fmt, ap);
	va_end(ap);
	why.s[why.n] = 0;
	kt_line("not ok %d %s # %s", kt_done, name, why.s);
	return 0;
}

static __attribute__((unused)) int kt_exit_status(void)
{
	return kt_failed || kt_done != kt_planned;
}

#endif /* NETSPEC_KTAP_H */
