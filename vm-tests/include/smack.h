/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Smack policy for nolibc guest programs.  The test kernels run Smack
 * (CONFIG_LSM="smack"), whose policy is text written to smackfs: a host
 * label for an IPv4 network (netlabel) and access rules between labels
 * (load2).  Every call returns 0 or -errno.  Include after text.h.
 */
#ifndef NETSPEC_GUEST_SMACK_H
#define NETSPEC_GUEST_SMACK_H

#include "text.h"

#define SMACKFS "/sys/fs/smackfs"

/* Mounts smackfs where Smack made its mount point, unless it is there. */
static __attribute__((unused)) long smack_mount(void)
{
	long fd = open(SMACKFS "/load2", O_WRONLY, 0);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return mount("smackfs", SMACKFS, "smackfs", 0, NULL) ? -errno : 0;
}

/*
 * Labels the hosts of net ("a.b.c.d/len") with label; "-CIPSO" takes the
 * host label away again (the hosts are then judged by their packets'
 * CIPSO labels, as without an entry).
 */
static __attribute__((unused)) long smack_host_label(const char *net,
						     const char *label)
{
	char line[96];

	strcpy(line, net);
	strcpy(line + strlen(line), " ");
	strcpy(line + strlen(line), label);
	return write_text(SMACKFS "/netlabel", line);
}

/*
 * Sets what subject may do to object: access is a string of rwxatlb, or
 * "-" for nothing; it replaces the rule's access, if there was one.
 */
static __attribute__((unused)) long smack_rule(const char *subject,
					       const char *object,
					       const char *access)
{
	char line[160];

	strcpy(line, subject);
	strcpy(line + strlen(line), " ");
	strcpy(line + strlen(line), object);
	strcpy(line + strlen(line), " ");
	strcpy(line + strlen(line), access);
	return write_text(SMACKFS "/load2", line);
}

/* The calling task's Smack label, NUL-terminated in buf. */
static __attribute__((unused)) long smack_self_label(char *buf,
						     unsigned long size)
{
	long r = read_text("/proc/self/attr/current", buf, size);

	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == 0))
		buf[--r] = 0;
	return r < 0 ? r : 0;
}

#endif /* NETSPEC_GUEST_SMACK_H */
