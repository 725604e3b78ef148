/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An audit daemon in a few calls, for nolibc guest programs: it enables
 * auditing, registers itself as the daemon, adds an always,exit rule for
 * one system call, and reads the records the kernel sends it.  Every call
 * returns 0 (or a descriptor) or -errno.  It needs CAP_AUDIT_CONTROL in
 * the initial namespaces and a kernel with CONFIG_AUDITSYSCALL.
 */
#ifndef NETSPEC_GUEST_AUDIT_H
#define NETSPEC_GUEST_AUDIT_H

#include <linux/audit.h>
#include <linux/netlink.h>

#include "net.h"
#include "text.h"

#ifndef NETLINK_AUDIT
#define NETLINK_AUDIT	9
#endif

static char audit_buf[8192] __attribute__((aligned(4)));

/* Sends one request and waits for its acknowledgement: 0 or -errno. */
static long audit_request(int fd, int type, const void *data, unsigned int len)
{
	static char msg[NLMSG_SPACE(sizeof(struct audit_rule_data))]
		__attribute__((aligned(4)));
	struct nlmsghdr *m = (struct nlmsghdr *)msg, *h;
	long n;

	if (NLMSG_LENGTH(len) > sizeof(msg))
		return -EINVAL;
	memset(msg, 0, sizeof(msg));
	m->nlmsg_len = NLMSG_LENGTH(len);
	m->nlmsg_type = type;
	m->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m->nlmsg_seq = 1;
	memcpy(NLMSG_DATA(m), data, len);
	n = my_syscall6(__NR_sendto, fd, m, m->nlmsg_len, 0, NULL, 0);
	if (n < 0)
		return n;
	/* The acknowledgement; records the kernel sends meanwhile are skipped. */
	for (;;) {
		if (net_wait_readable(fd, 2000) != 1)
			return -ETIMEDOUT;
		n = net_recvfrom(fd, audit_buf, sizeof(audit_buf), 0, NULL, NULL);
		if (n < 0)
			return n;
		for (h = (struct nlmsghdr *)audit_buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == 1)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

/* Turns auditing on or off, with this socket's process as the daemon. */
static __attribute__((unused)) long audit_set(int fd, int on)
{
	struct audit_status s;

	memset(&s, 0, sizeof(s));
	s.mask = AUDIT_STATUS_ENABLED | AUDIT_STATUS_PID;
	s.enabled = on;
	s.pid = on ? getpid() : 0;
	return audit_request(fd, AUDIT_SET, &s, sizeof(s));
}

/* An open NETLINK_AUDIT socket whose process is the daemon, or -errno. */
static __attribute__((unused)) int audit_open(void)
{
	long fd = my_syscall3(__NR_socket, AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	long r;

	if (fd < 0)
		return fd;
	r = audit_set(fd, 1);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* Adds (add) or deletes an always,exit rule for system calls nr1 and nr2. */
static __attribute__((unused)) long audit_rule(int fd, int add,
					       unsigned int nr1,
					       unsigned int nr2)
{
	static struct audit_rule_data rule;

	memset(&rule, 0, sizeof(rule));
	rule.flags = AUDIT_FILTER_EXIT;
	rule.action = AUDIT_ALWAYS;
	rule.mask[nr1 >> 5] |= 1u << (nr1 & 31);
	rule.mask[nr2 >> 5] |= 1u << (nr2 & 31);
	return audit_request(fd, add ? AUDIT_ADD_RULE : AUDIT_DEL_RULE, &rule,
			     sizeof(rule));
}

/*
 * Waits up to ms for a record of type whose text contains text; 1 if one
 * came, else 0.  Records of other types, or without it, are consumed.
 * kauditd sends one record per datagram, whose nlmsg_len counts the text
 * only (audit_log_end()), so the datagram's length is the one to trust.
 */
static __attribute__((unused)) int audit_wait(int fd, int type,
					      const char *text, int ms)
{
	struct nlmsghdr *h = (struct nlmsghdr *)audit_buf;
	long n;

	while (net_wait_readable(fd, ms) == 1) {
		n = net_recvfrom(fd, audit_buf, sizeof(audit_buf) - 1,
				 MSG_DONTWAIT, NULL, NULL);
		if (n < 0)
			return 0;
		audit_buf[n] = 0;	/* the text is not terminated */
		if (n >= NLMSG_HDRLEN && h->nlmsg_type == type &&
		    find(NLMSG_DATA(h), text))
			return 1;
	}
	return 0;
}

#endif /* NETSPEC_GUEST_AUDIT_H */
