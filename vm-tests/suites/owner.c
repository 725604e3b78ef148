// SPDX-License-Identifier: GPL-2.0
/*
 * The owner of a token is the descriptor table, as for any descriptor:
 * threads share tokens (a thread's exit leaves them to the process),
 * fork() passes copies on (the same open token: no new user of the
 * instance), vfork() and clone(CLONE_VM) without CLONE_FILES give the
 * child a table of its own, exec closes tokens (O_CLOEXEC) but not a
 * socket without FD_CLOEXEC, and SCM_RIGHTS passes a token and its socket
 * to another process, where they work.  A customize whose result cannot
 * be written leaves neither a descriptor nor an instance behind.  Closing
 * the socket while a send through its token is blocked (a userfaultfd page
 * holds it mid-copy) returns at once; the send completes as send() would,
 * and only then is the socket gone: the token says EPIPE.
 *
 * Run with "--exec-check TOKEN SOCK" it is the new image of the exec
 * test: the token must be closed, the socket open and working.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "genl.h"
#include "fds.h"
#include "thread.h"
#include "uffd.h"

#define ADU 64
#define ADU2 100
#define LOOPBACK 0x7f000001

static unsigned char buf[ADU2], got[ADU2];
static unsigned short port;
static int rx;
static struct thread th;

/* What a child task and this one share (CLONE_VM) or copy (fork). */
static struct {
	int sock, token, child_token, step;
	int go[2], back[2];
} sh;

/* Closes what a test put in sh. */
static void sh_close(void)
{
	close(sh.token);
	close(sh.sock);
	close(sh.go[0]);
	close(sh.go[1]);
	close(sh.back[0]);
	close(sh.back[1]);
}

/* One datagram of len bytes with the bytes of buf within a second: 1/0. */
static int arrives(unsigned long len)
{
	return net_wait_readable(rx, 1000) == 1 &&
	       net_recvfrom(rx, got, sizeof(got), MSG_DONTWAIT, NULL, NULL) ==
	       (long)len && !memcmp(got, buf, len);
}

static long customize(int fd, unsigned int adu)
{
	struct netspec_customize c = netspec_udp_connected(fd, adu);

	return netspec_customize(&c);
}

static unsigned int users(int token)
{
	return netspec_info_of(token).users;
}

/* A token's descriptor is open, and close-on-exec. */
static int is_token_fd(int fd)
{
	long f = fd_flags(fd);

	return f >= 0 && (f & FD_CLOEXEC) && users(fd) != 0xffffffffU;
}

/* The thread: it sends through the process's token and customizes one. */
static int a_thread_fn(void *arg)
{
	(void)arg;
	net_fill(buf, ADU, 10);
	if (netspec_send(sh.token, buf, ADU, 0) != ADU)
		return sh.step = 1;
	sh.child_token = customize(sh.sock, ADU);
	if (sh.child_token <= 0)
		return sh.step = 2;
	return sh.step = 0;
}

static void test_threads(void)
{
	long id, r;

	sh.sock = net_udp_sender(LOOPBACK, port);
	sh.token = customize(sh.sock, ADU);
	sh.step = -1;
	id = thread_start(&th, THREAD_FLAGS, 0, a_thread_fn, NULL);
	if (id > 0)
		thread_join(&th);
	net_fill(buf, ADU, 10);
	kt_result(id > 0 && sh.step == 0 && arrives(ADU),
		  "a_thread_sends_through_the_process_s_token",
		  "clone3 %s, thread step %d (1 send, 2 customize)", errname(id),
		  sh.step);
	/* The thread is gone; its token is the process's. */
	net_fill(buf, ADU, 11);
	r = sh.step ? -1 : netspec_send(sh.child_token, buf, ADU, 0);
	kt_result(r == ADU && arrives(ADU) && is_token_fd(sh.child_token) &&
		  users(sh.token) == 2,
		  "a_thread_s_token_outlives_the_thread_in_the_process",
		  "send %s users %u", errname(r), users(sh.token));
	close(sh.child_token);
	close(sh.token);
	close(sh.sock);
}

/*
 * fork(): the child's copy is the same open token, so the instance gains
 * no user; the child sends through it, and still does after the parent
 * closed its own descriptor.  A token the child customizes for the same
 * context is a second user, until the child exits.
 */
static void test_fork(void)
{
	unsigned int u_child_token, u_after;
	int st = -1, acked;
	pid_t pid;
	long r;

	sh.sock = net_udp_sender(LOOPBACK, port);
	sh.token = customize(sh.sock, ADU);
	if (net_pipe(sh.go) || net_pipe(sh.back))
		return;
	pid = fork();
	if (pid == 0) {
		long t2;

		if (users(sh.token) != 1)
			exit(10);
		net_fill(buf, ADU, 20);
		if (netspec_send(sh.token, buf, ADU, 0) != ADU)
			exit(11);
		t2 = customize(sh.sock, ADU);
		if (t2 <= 0 || users(sh.token) != 2)
			exit(12);
		net_send_byte(sh.back[1], 'c');
		net_wait_byte(sh.go[0]);	/* the parent closed its token */
		net_fill(buf, ADU, 21);
		if (netspec_send(sh.token, buf, ADU, 0) != ADU)
			exit(13);
		exit(0);
	}
	acked = net_wait_byte(sh.back[0]) == 'c';
	u_child_token = users(sh.token);
	net_fill(buf, ADU, 20);
	r = arrives(ADU);
	close(sh.token);
	net_send_byte(sh.go[1], 'g');
	waitpid(pid, &st, 0);
	net_fill(buf, ADU, 21);
	kt_result(acked && r && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		  arrives(ADU),
		  "fork_child_sends_through_the_inherited_token_after_the_parent_closed_it",
		  "child exit %d (10 users, 11 send, 12 own token, 13 send after close)",
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	sh.token = customize(sh.sock, ADU);
	u_after = users(sh.token);
	kt_result(u_child_token == 2 && u_after == 1,
		  "fork_child_s_own_token_counts_as_a_user_until_it_exits",
		  "users while the child held its own token %u, after %u",
		  u_child_token, u_after);
	sh_close();
}

/* A vfork child (CLONE_VM | CLONE_VFORK): customize into its own table. */
static int vfork_fn(void *arg)
{
	(void)arg;
	sh.child_token = customize(sh.sock, ADU);
	if (sh.child_token <= 0 || !is_token_fd(sh.child_token))
		return sh.step = 1;
	if (users(sh.token) != 2)
		return sh.step = 2;
	net_fill(buf, ADU, 30);
	if (netspec_send(sh.child_token, buf, ADU, 0) != ADU)
		return sh.step = 3;
	return sh.step = 0;
}

static void test_vfork(void)
{
	long id, f;
	int st = -1;

	sh.sock = net_udp_sender(LOOPBACK, port);
	sh.token = customize(sh.sock, ADU);
	sh.step = -1;
	id = thread_start(&th, CLONE_VM | CLONE_VFORK, SIGCHLD, vfork_fn, NULL);
	/* The parent resumes once the child is gone. */
	if (id > 0)
		waitpid(id, &st, 0);
	f = fd_flags(sh.child_token);
	net_fill(buf, ADU, 30);
	kt_result(id > 0 && sh.step == 0 && arrives(ADU) && f == -EBADF &&
		  users(sh.token) == 1,
		  "vfork_child_s_customize_lands_in_its_own_table",
		  "clone3 %s, child step %d (1 customize, 2 users, 3 send), its token %d here: %s, users %u",
		  errname(id), sh.step, sh.child_token, errname(f < 0 ? f : 0),
		  users(sh.token));
	close(sh.token);
	close(sh.sock);
}

/*
 * clone(CLONE_VM) without CLONE_FILES, running beside this task: the same
 * memory, two tables.  The child customizes for ADU, this task then for
 * ADU2 on another socket, and both tokens get the same number, each in
 * its own table.
 */
static int clone_vm_fn(void *arg)
{
	(void)arg;
	sh.child_token = customize(sh.sock, ADU);
	if (sh.child_token <= 0)
		return 1;
	net_send_byte(sh.back[1], 'c');
	net_wait_byte(sh.go[0]);	/* this task customized its own */
	if (netspec_info_of(sh.child_token).adu != ADU)
		return 2;
	return 0;
}

static void test_clone_vm(void)
{
	long id, f_before, t2 = -1;
	int st = -1, sock2, acked;
	unsigned int adu_here = 0, u_child;

	sh.sock = net_udp_sender(LOOPBACK, port);
	sh.token = customize(sh.sock, ADU);
	sock2 = net_udp_sender(LOOPBACK, port);
	if (net_pipe(sh.go) || net_pipe(sh.back))
		return;
	sh.child_token = -1;
	id = thread_start(&th, CLONE_VM, SIGCHLD, clone_vm_fn, NULL);
	acked = id > 0 && net_wait_byte(sh.back[0]) == 'c';
	f_before = fd_flags(sh.child_token);
	u_child = users(sh.token);
	if (acked) {
		t2 = customize(sock2, ADU2);
		adu_here = netspec_info_of(sh.child_token).adu;
	}
	net_send_byte(sh.go[1], 'g');
	if (id > 0)
		waitpid(id, &st, 0);
	kt_result(acked && f_before == -EBADF && u_child == 2 &&
		  t2 == sh.child_token && adu_here == ADU2 && WIFEXITED(st) &&
		  WEXITSTATUS(st) == 0 && users(sh.token) == 1,
		  "clone_vm_without_clone_files_has_a_table_of_its_own",
		  "clone3 %s, the child's token %d here before: %s, users %u, this task's new token %ld (adu %u), child exit %d (1 customize, 2 its token changed)",
		  errname(id), sh.child_token, errname(f_before < 0 ? f_before : 0),
		  u_child, t2, adu_here, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(t2);
	close(sock2);
	sh_close();
}

/* The new image of the exec test: exit status 0 or the failed step. */
static int exec_check(char **argv)
{
	int token = parse_uint(argv[2]), sock = parse_uint(argv[3]);
	long t;

	if (fd_flags(token) != -EBADF)
		return 1;
	if (fd_flags(sock) < 0)
		return 2;
	net_fill(buf, ADU, 40);
	if (net_sendto(sock, buf, ADU, 0, NULL, 0) != ADU)
		return 3;
	t = customize(sock, ADU);
	net_fill(buf, ADU, 41);
	if (t <= 0 || netspec_send(t, buf, ADU, 0) != ADU)
		return 4;
	return 0;
}

static void test_exec(void)
{
	int st = -1, ok;
	pid_t pid;

	sh.sock = net_udp_sender(LOOPBACK, port);
	sh.token = customize(sh.sock, ADU);
	pid = fork();
	if (pid == 0) {
		char a[16], b[16];
		char *args[] = { "/proc/self/exe", "--exec-check", a, b, NULL };
		char *envp[] = { NULL };

		u64toa_r(sh.token, a);
		u64toa_r(sh.sock, b);
		execve(args[0], args, envp);
		exit(20);
	}
	waitpid(pid, &st, 0);
	net_fill(buf, ADU, 40);
	ok = arrives(ADU);
	net_fill(buf, ADU, 41);
	ok = ok && arrives(ADU);
	kt_result(WIFEXITED(st) && WEXITSTATUS(st) == 0 && ok &&
		  users(sh.token) == 1,
		  "exec_closes_the_token_but_not_the_socket",
		  "new image exit %d (1 token open, 2 socket closed, 3 send, 4 customize, 20 exec), datagrams %d",
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1, ok);
	close(sh.token);
	close(sh.sock);
}

/*
 * SCM_RIGHTS: the receiver, a process that never had either, gets the
 * token and the socket after the sender closed its own descriptors; the
 * token sends, and a customize of the same context on the received socket
 * shares its instance.
 */
static void test_scm_rights(void)
{
	int sv[2], st = -1, fds[2];
	pid_t pid;
	long r;

	if (fds_socketpair(sv)) {
		kt_result(0, "token_and_socket_passed_with_scm_rights_work_in_the_receiver",
			  "no socketpair");
		return;
	}
	pid = fork();
	if (pid == 0) {
		int got_fds[2];
		long t2;

		close(sv[0]);
		if (fds_recv(sv[1], got_fds, 2) != 2)
			exit(10);
		/* No FD_CLOEXEC here: recvmsg() had no MSG_CMSG_CLOEXEC. */
		if (users(got_fds[0]) != 1)
			exit(11);
		net_fill(buf, ADU, 50);
		if (netspec_send(got_fds[0], buf, ADU, 0) != ADU)
			exit(12);
		t2 = customize(got_fds[1], ADU);
		if (t2 <= 0 || users(t2) != 2)
			exit(13);
		net_fill(buf, ADU, 51);
		if (netspec_send(t2, buf, ADU, 0) != ADU)
			exit(14);
		exit(0);
	}
	close(sv[1]);
	fds[1] = net_udp_sender(LOOPBACK, port);
	fds[0] = customize(fds[1], ADU);
	r = fds_send(sv[0], fds, 2);
	close(fds[0]);
	close(fds[1]);
	waitpid(pid, &st, 0);
	net_fill(buf, ADU, 50);
	kt_result(r == 1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		  arrives(ADU) && (net_fill(buf, ADU, 51), arrives(ADU)),
		  "token_and_socket_passed_with_scm_rights_work_in_the_receiver",
		  "sendmsg %ld, receiver exit %d (10 recvmsg, 11 not a token, 12 send, 13 customize, 14 its send)",
		  r, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(sv[0]);
}

/*
 * A customize whose struct sits in a read-only page: the kernel reads the
 * context, makes (or finds) the instance and the token, and cannot write
 * the result back: EFAULT, and neither the descriptor nor the instance
 * stays.  Once with an instance of the context in place (its users must
 * not change), once without (the namespace must list no new instance).
 */
static void test_efault(void)
{
	struct netspec_customize *c;
	long before_fds, after_fds, r1, r2, nl_before, nl_after;
	unsigned int u_before, u_after;
	int sock = net_udp_sender(LOOPBACK, port), sock2, lowest, lowest2;
	long ref = customize(sock, ADU);
	void *page = mmap(NULL, UFFD_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	sock2 = net_udp_sender(LOOPBACK, port);
	if (page == MAP_FAILED || ref <= 0 || sock2 < 0) {
		kt_result(0, "customize_that_cannot_write_its_result_is_efault_and_leaves_nothing",
			  "setup failed");
		return;
	}
	c = page;
	u_before = users(ref);
	nl_before = netspec_nl_count_pid(getpid());
	before_fds = fd_count();
	lowest = dup(0);
	close(lowest);

	*c = netspec_udp_connected(sock, ADU);
	my_syscall3(__NR_mprotect, page, UFFD_PAGE, PROT_READ);
	r1 = netspec_call(NETSPEC_OP_CUSTOMIZE, c, sizeof(*c));
	u_after = users(ref);
	my_syscall3(__NR_mprotect, page, UFFD_PAGE, PROT_READ | PROT_WRITE);
	*c = netspec_udp_connected(sock2, ADU);
	my_syscall3(__NR_mprotect, page, UFFD_PAGE, PROT_READ);
	r2 = netspec_call(NETSPEC_OP_CUSTOMIZE, c, sizeof(*c));

	after_fds = fd_count();
	lowest2 = dup(0);
	close(lowest2);
	nl_after = netspec_nl_count_pid(getpid());
	kt_result(r1 == -EFAULT && r2 == -EFAULT && after_fds == before_fds &&
		  lowest2 == lowest && u_before == 1 && u_after == 1 &&
		  nl_before >= 1 && nl_after == nl_before,
		  "customize_that_cannot_write_its_result_is_efault_and_leaves_nothing",
		  "customize %s and %s, descriptors %ld -> %ld (lowest free %d -> %d), users %u -> %u, instances %ld -> %ld",
		  errname(r1), errname(r2), before_fds, after_fds, lowest,
		  lowest2, u_before, u_after, nl_before, nl_after);
	munmap(page, UFFD_PAGE);
	close(ref);
	close(sock);
	close(sock2);
}

/*
 * Close while a send is blocked.  The send's payload is in a page that a
 * userfaultfd holds missing, so the send stops in its copy.  The closer, a
 * task sharing the descriptor table, sees the fault, closes the socket,
 * and only then fills the page in.  A watchdog fills it after 10 s if the
 * close never returns, so that a kernel that waits fails instead of hanging.
 */
static struct {
	int uffd, done[2], res[2];
	unsigned char *region;
} ub;
static unsigned char fill_page[UFFD_PAGE] __attribute__((aligned(UFFD_PAGE)));

struct close_result {
	long close_ret;
	unsigned long long close_ns;
	int fault_seen;
};

static int closer_fn(void *arg)
{
	struct close_result cr = { -1, 0, 0 };
	unsigned long long t0;
	unsigned long addr = uffd_wait_fault(ub.uffd);

	(void)arg;
	cr.fault_seen = addr >= (unsigned long)ub.region &&
			addr < (unsigned long)ub.region + UFFD_PAGE;
	t0 = net_now_ns();
	cr.close_ret = close(sh.sock) ? -errno : 0;
	cr.close_ns = net_now_ns() - t0;
	write(ub.res[1], &cr, sizeof(cr));
	net_sleep_ms(100);	/* the send stays stopped meanwhile */
	uffd_fill(ub.uffd, ub.region, fill_page);
	return 0;
}

static void test_close_during_blocked_send(void)
{
	struct close_result cr = { -1, 0, 0 };
	struct netspec_info i;
	long id, sent, after, info, ms;
	pid_t dog;
	int st = -1, dst = -1, ok;

	if (uffd_page(&ub.uffd, &ub.region) || net_pipe(ub.done) ||
	    net_pipe(ub.res)) {
		kt_line("# setup: userfaultfd %d", ub.uffd);
		kt_result(0, "close_returns_while_a_send_is_blocked_on_a_fault",
			  "setup failed");
		kt_result(0, "the_blocked_send_completes_and_its_datagram_arrives",
			  "setup failed");
		kt_result(0, "the_token_is_epipe_once_that_send_returned",
			  "setup failed");
		return;
	}
	net_fill(fill_page, ADU, 60);

	/* Forked before the socket exists, so that it holds no copy of it:
	 * the closer's close must be the last.
	 */
	dog = fork();
	if (dog == 0) {
		close(ub.done[1]);
		if (net_wait_readable(ub.done[0], 10000) == 1)
			exit(0);
		uffd_fill(ub.uffd, ub.region, fill_page);
		exit(1);
	}
	close(ub.done[0]);
	sh.sock = net_udp_sender(LOOPBACK, port);
	sh.token = customize(sh.sock, ADU);
	id = thread_start(&th, CLONE_FILES, SIGCHLD, closer_fn, NULL);
	sent = id > 0 ? netspec_send(sh.token, ub.region, ADU, 0) : id;
	net_send_byte(ub.done[1], 'd');
	if (net_wait_readable(ub.res[0], 5000) != 1 ||
	    read(ub.res[0], &cr, sizeof(cr)) != sizeof(cr))
		cr.close_ret = -EIO;
	if (id > 0)
		waitpid(id, &st, 0);
	waitpid(dog, &dst, 0);
	for (ms = 0; cr.close_ns >= 1000000; ms++)
		cr.close_ns -= 1000000;
	kt_line("# close during a blocked send: close took %ld ms", ms);
	kt_result(cr.fault_seen && cr.close_ret == 0 && ms < 5000 &&
		  WIFEXITED(dst) && WEXITSTATUS(dst) == 0,
		  "close_returns_while_a_send_is_blocked_on_a_fault",
		  "fault seen %d, close %s after %ld ms, watchdog exit %d (1: it had to fill the page)",
		  cr.fault_seen, errname(cr.close_ret), ms,
		  WIFEXITED(dst) ? WEXITSTATUS(dst) : -1);

	memcpy(buf, fill_page, ADU);
	ok = arrives(ADU);
	kt_result(sent == ADU && ok,
		  "the_blocked_send_completes_and_its_datagram_arrives",
		  "send %s, datagram %d", errname(sent), ok);

	after = netspec_send(sh.token, buf, ADU, 0);
	info = netspec_info(sh.token, &i);
	kt_result(after == -EPIPE && info == -EPIPE && fd_flags(sh.sock) == -EBADF,
		  "the_token_is_epipe_once_that_send_returned",
		  "send %s info %s", errname(after), errname(info));
	close(sh.token);
	close(ub.uffd);
	close(ub.done[1]);
	close(ub.res[0]);
	close(ub.res[1]);
	munmap(ub.region, UFFD_PAGE);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--exec-check"))
		return exec_check(argv);

	kt_plan(1, 12);
	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	if (rx < 0) {
		kt_line("# cannot set up the receiver");
		return 1;
	}
	test_threads();
	test_fork();
	test_vfork();
	test_clone_vm();
	test_exec();
	test_scm_rights();
	test_efault();
	test_close_during_blocked_send();
	return kt_exit_status();
}
