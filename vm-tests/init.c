// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the netspec VM tests (nolibc, static, every arch).
 *
 * Mounts what the suites need, runs each suite listed in /etc/netspec-suites
 * as a child, and prints the top level of the KTAP report: one result per
 * suite, nested under which each suite prints its own tests.  Then it asks
 * kmemleak for a scan (its report lands in the console log, which the host
 * judges), prints the end marker the host waits for, and ends the VM.
 */
#include "ktap.h"
#include "net.h"

/* nolibc brings LINUX_REBOOT_*; the one in 6.1 lacks WTERMSIG. */
#ifndef WTERMSIG
#define WTERMSIG(status) ((status) & 0x7f)
#endif

#define MAX_SUITES 64
#define END_MARKER "# netspec-vm: end"

static char list[4096];

/* Prints how long suite took since t0 (net_now_ns()), in guest time; ARMv4
 * has no divide instruction and the guests link no libgcc, so it counts.
 */
static void print_took(const char *suite, unsigned long long t0)
{
	unsigned long long d = net_now_ns() - t0;
	unsigned long s = 0, ms = 0;

	while (d >= 1000000000ULL) {
		d -= 1000000000ULL;
		s++;
	}
	while (d >= 1000000) {
		d -= 1000000;
		ms++;
	}
	/* Not "# <suite>:", which the bench's parser reads as its own. */
	kt_line("# %s took %lu.%s%s%lu s of guest time", suite, s,
		ms < 100 ? "0" : "", ms < 10 ? "0" : "", ms);
}
static char *suites[MAX_SUITES];

static int read_list(void)
{
	int fd = open("/etc/netspec-suites", O_RDONLY);
	int n = 0, len;
	char *p;

	if (fd < 0)
		return -1;
	len = read(fd, list, sizeof(list) - 1);
	close(fd);
	if (len <= 0)
		return len < 0 ? -1 : 0;
	list[len] = 0;
	for (p = list; *p && n < MAX_SUITES;) {
		suites[n++] = p;
		while (*p && *p != '\n')
			p++;
		if (*p)
			*p++ = 0;
	}
	return n;
}

/* Writes a command to kmemleak; false if it has none or refused it. */
static int kmemleak_cmd(const char *cmd)
{
	int fd = open("/sys/kernel/debug/kmemleak", O_WRONLY);
	int ok;

	if (fd < 0)
		return 0;
	ok = write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd);
	close(fd);
	return ok;
}

static void kmemleak_scan(void)
{
	/* A scan reports new leaks to the kernel log, which the host reads. */
	if (!kmemleak_cmd("scan"))
		kt_line("# kmemleak: not available, or the scan failed");
}

static void end_vm(int status)
{
	kt_line("# netspec-vm: status %d", status);
	kt_line(END_MARKER);
	/* With -no-reboot, QEMU exits on a reset (collie can't: see arch table) */
	reboot(LINUX_REBOOT_CMD_RESTART);
	for (;;)
		sleep(1000);
}

int main(int argc, char **argv, char **envp)
{
	int n, i, failed = 0;

	(void)argc;
	(void)argv;
	environ = envp;	/* 6.1's nolibc leaves it to us */

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);

	/* No automatic scans: one, a minute after boot and every ten after,
	 * walks all memory in a kernel thread while the suites run, and the
	 * scale suite's 100,000 instances make it long enough to land in
	 * its timings.  The scan at the end finds what it would.
	 */
	kmemleak_cmd("scan=off");
	n = read_list();
	if (n < 0) {
		kt_line("# cannot read /etc/netspec-suites");
		end_vm(2);
	}
	kt_plan(0, n);
	for (i = 0; i < n; i++) {
		char path[128] = "/tests/";
		char *argv[] = { path, NULL };
		/* The NETSPEC_ variables of the kernel's command line
		 * (NETSPEC_LONG=1, NETSPEC_CHANNEL=<tty>), if given.
		 */
		char *envp[8];
		unsigned long long t0 = net_now_ns();
		int status = 0, e = 0;
		char **v;
		pid_t pid;

		for (v = environ; *v && e < 7; v++)
			if (!strncmp(*v, "NETSPEC_", 8))
				envp[e++] = *v;
		envp[e] = NULL;

		strncat(path, suites[i], sizeof(path) - 8);
		pid = fork();
		if (pid == 0) {
			execve(path, argv, envp);
			kt_line("# exec %s failed: %d", path, errno);
			exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid) {
			kt_result(0, suites[i], "fork or wait failed");
			failed++;
			continue;
		}
		print_took(suites[i], t0);
		/* nolibc 6.12's WIFSIGNALED() is true for status 0: use WIFEXITED */
		if (WIFEXITED(status))
			failed += !kt_result(WEXITSTATUS(status) == 0, suites[i],
					     "exit status %d",
					     WEXITSTATUS(status));
		else
			failed += !kt_result(0, suites[i], "killed by signal %d",
					     WTERMSIG(status));
	}
	kmemleak_scan();
	end_vm(failed ? 1 : 0);
	return 0;
}
