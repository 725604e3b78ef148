/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A far side for guest tests: a process holding its own network namespace,
 * which this process can step into to configure it or to open sockets that
 * live there, and step back out of.  It lives until far_end().
 */
#ifndef NETSPEC_GUEST_FAR_H
#define NETSPEC_GUEST_FAR_H

#include "net.h"

#define FAR_CLONE_NEWNET 0x40000000

static int far_quit[2];
static long far_pid;

static long far_set_netns(long fd)
{
	return fd < 0 ? fd : my_syscall2(__NR_setns, fd, FAR_CLONE_NEWNET);
}

/* /proc/<far_pid><leaf> into path. */
static __attribute__((unused)) void far_path(char *path, const char *leaf)
{
	char num[16];

	u64toa_r(far_pid, num);
	strcpy(path, "/proc/");
	strcpy(path + strlen(path), num);
	strcpy(path + strlen(path), leaf);
}

/* Starts the far side's process in a new namespace; 0 or -errno. */
static __attribute__((unused)) long far_spawn(void)
{
	int up[2];

	if (net_pipe(up) || net_pipe(far_quit))
		return -EMFILE;
	far_pid = fork();
	if (far_pid == 0) {
		close(far_quit[1]);
		if (net_unshare(FAR_CLONE_NEWNET))
			exit(1);
		net_send_byte(up[1], 'n');
		net_wait_byte(far_quit[0]);	/* until the parent closes it */
		exit(0);
	}
	close(far_quit[0]);
	close(up[1]);
	if (far_pid < 0 || net_wait_byte(up[0]) != 'n')
		return -ECHILD;
	close(up[0]);
	return 0;
}

/*
 * Moves this process into the far namespace; returns a descriptor of its
 * own namespace, for far_leave(), or -errno.
 */
static __attribute__((unused)) long far_enter(void)
{
	long here = open("/proc/self/ns/net", O_RDONLY, 0), there, r;
	char path[48];

	far_path(path, "/ns/net");
	there = open(path, O_RDONLY, 0);
	r = here < 0 || there < 0 ? -ENOENT : far_set_netns(there);
	if (there >= 0)
		close(there);
	if (r && here >= 0)
		close(here);
	return r ?: here;
}

/* Back from the far namespace; a process stranded there cannot go on. */
static __attribute__((unused)) void far_leave(long here)
{
	if (far_set_netns(here))
		exit(3);
	close(here);
}

/* Ends the far side, and with its namespace the devices in it. */
static __attribute__((unused)) void far_end(void)
{
	close(far_quit[1]);
	waitpid(far_pid, NULL, 0);
}

#endif /* NETSPEC_GUEST_FAR_H */
