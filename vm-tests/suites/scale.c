// SPDX-License-Identifier: GPL-2.0
/*
 * What a customize, a setsockopt() and a close cost does not grow with the
 * number of instances in the system.  Four worker processes, two in this
 * network namespace and two in another, hold instances (sockets of
 * DESTS destinations each: one instance per socket and destination), grown
 * in steps up to MAX_INSTANCES; at each step this process times a batch of
 * BATCH customizes, BATCH setsockopt(SO_PRIORITY) calls on specialized
 * sockets and BATCH closes of the tokens, the median of REPS tries each, and
 * prints the figures as KTAP diagnostics.  The batch at the largest step
 * must take at most FLAT times the batch at the smallest, compared at the
 * clock's step at least.  Two clocks make that hard.  A jiffies
 * clocksource (6.1's and 7.3's x86_64 test kernels under TCG) moves 4 ms
 * at a time, so most batches read as taking no time: such a reading is 0,
 * a time shorter than the step.  The i486 guest's PIT stands still
 * between the counter's wrap and the tick after it, so one batch can read
 * as taking no time, or less than it took: hence the median, not the
 * best.  Each step waits
 * SETTLE_MS after its growth: what the growth deferred (the instance
 * table's rehash when it doubles, RCU frees) runs in kernel threads and
 * would be charged to whichever batch it overlaps.  Under -icount
 * (vm-test --icount), the figures are instruction counts.
 *
 * net.netspec.max_versions is raised to its limit in both namespaces, so
 * that (nearly) every instance is specialized and in the code manager's
 * list.  The guest's memory (512 MB, with KASAN and kmemleak) bounds the
 * steps: if a worker cannot make its share, the suite says how far it got
 * and measures what fits.  Then it times the exit of a process holding
 * EXIT_SOCKS tokens on as many customized sockets, against one holding the
 * sockets alone.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "genl.h"
#include "far.h"

#define ADU 64
#define LOOPBACK 0x7f000001
#define WORKERS 4
#define DESTS 100
#define BATCH 100
#define REPS 5		/* the diagnostics in main() print five */
#define FLAT 4
#define SETTLE_MS 2000
#define EXIT_SOCKS 1000
#define MAX_VERSIONS "/proc/sys/net/netspec/max_versions"
#define RLIMIT_NOFILE_ 7	/* the generic value, on the five test arches */
#define NOFILE 27000

/* The steps: instances held by the workers, and each worker's share. */
static const struct {
	unsigned int total;
	unsigned int share[WORKERS];
} steps[] = {
	{ 10, { 3, 3, 2, 2 } },
	{ 1000, { 250, 250, 250, 250 } },
	{ 10000, { 2500, 2500, 2500, 2500 } },
	{ 100000, { 25000, 25000, 25000, 25000 } },
};
#define STEPS (sizeof(steps) / sizeof(steps[0]))

/* CI's run stops at 10,000 instances (512 MB guests, KASAN); the long mode
 * (NETSPEC_LONG=1, vm-test --long, which gives a 64-bit guest 2 GB) goes on
 * to 100,000 on a 64-bit arch.
 */
static unsigned int nsteps = STEPS - 1;

enum { OP_CUSTOMIZE, OP_SETSOCKOPT, OP_CLOSE, OPS };
static const char *const op_name[OPS] = { "customize", "setsockopt", "close" };

struct worker {
	pid_t pid;
	int cmd, reply;		/* our ends of its pipes */
	unsigned int held;
	long err;
	int dead;
};

static struct worker workers[WORKERS];

static long raise_nofile(unsigned long long n)
{
	struct {
		unsigned long long cur, max;
	} r = { n, n };

	return my_syscall4(__NR_prlimit64, 0, RLIMIT_NOFILE_, &r, NULL);
}

/* A context for ADU-byte datagrams to 127.0.0.1:port from fd. */
static long customize_to(int fd, unsigned short port)
{
	struct netspec_customize c =
		netspec_udp_to_ipv4(fd, ADU, net_htonl(LOOPBACK), net_htons(port));

	return netspec_customize(&c);
}

/*
 * A worker: reads a target count of instances, makes instances until it
 * holds that many (a new socket every DESTS), and answers how many it
 * holds and the error that stopped it, if one did.  It exits, closing
 * everything, when its command pipe closes.
 */
static void worker_main(int cmd, int reply)
{
	unsigned int held = 0, target, d = DESTS;
	long sock = -1, r = 0;
	long ans[2];

	raise_nofile(NOFILE);
	while (read(cmd, &target, sizeof(target)) == sizeof(target)) {
		while (held < target && !r) {
			if (d == DESTS) {
				sock = net_socket(AF_INET, SOCK_DGRAM, 0);
				if (sock < 0) {
					r = sock;
					break;
				}
				d = 0;
			}
			r = customize_to(sock, 10000 + d);
			if (r > 0) {
				r = 0;
				held++;
				d++;
			}
		}
		ans[0] = held;
		ans[1] = r;
		write(reply, ans, sizeof(ans));
	}
	exit(0);
}

static int start_workers(void)
{
	int w;

	for (w = 0; w < WORKERS; w++) {
		int c[2], a[2];

		if (net_pipe(c) || net_pipe(a))
			return -1;
		workers[w].pid = fork();
		if (workers[w].pid == 0) {
			int o;

			close(c[1]);
			close(a[0]);
			/* The earlier workers' pipe ends: a copy left open
			 * here would keep their command pipe from closing.
			 */
			for (o = 0; o < w; o++) {
				close(workers[o].cmd);
				close(workers[o].reply);
			}
			/* Half of them in the far namespace. */
			if (w >= WORKERS / 2 && far_enter() < 0)
				exit(2);
			worker_main(c[0], a[1]);
		}
		close(c[0]);
		close(a[1]);
		if (workers[w].pid < 0)
			return -1;
		workers[w].cmd = c[1];
		workers[w].reply = a[0];
	}
	return 0;
}

/* Grows every worker to its share of step s; the instances they hold. */
static unsigned long grow(unsigned int s)
{
	unsigned long total = 0;
	int w;

	for (w = 0; w < WORKERS; w++)
		if (!workers[w].dead)
			write(workers[w].cmd, &steps[s].share[w], sizeof(unsigned int));
	for (w = 0; w < WORKERS; w++) {
		long ans[2];

		if (!workers[w].dead &&
		    read(workers[w].reply, ans, sizeof(ans)) == sizeof(ans)) {
			workers[w].held = ans[0];
			workers[w].err = ans[1];
		} else if (!workers[w].dead) {
			workers[w].dead = 1;	/* killed: out of memory? */
			workers[w].held = 0;
		}
		total += workers[w].held;
	}
	return total;
}

/* Prints a /proc/meminfo field, in kB. */
static unsigned long long meminfo(const char *field)
{
	static char text[4096];
	char *p;

	if (read_text("/proc/meminfo", text, sizeof(text)) < 0 ||
	    !(p = find(text, field)))
		return 0;
	p += strlen(field);
	while (*p == ' ' || *p == ':')
		p++;
	return parse_uint(p);
}

static int probe[BATCH];
static long probe_tok[BATCH];

/* A batch with a failure, or whose clock could not be read. */
#define FAILED (~0ULL)

/* The first error of a batch, for the diagnostics. */
static long first_err[OPS];

static unsigned long long elapsed(unsigned long long t0, long err, int op)
{
	unsigned long long t = net_now_ns();

	if (err && !first_err[op])
		first_err[op] = err;
	if (err || !t0 || !t)
		return FAILED;
	/* 0: the clock did not move, less than a step went by. */
	return t > t0 ? t - t0 : 0;
}

/* One timed batch of each operation on the probe sockets; ns per batch
 * into t (0 if the clock did not move), or FAILED.
 */
static void measure(unsigned long long t[OPS])
{
	unsigned long long t0;
	long err = 0, r;
	int i, prio;

	t0 = net_now_ns();
	for (i = 0; i < BATCH; i++) {
		probe_tok[i] = customize_to(probe[i], 20000);
		if (probe_tok[i] <= 0 && !err)
			err = probe_tok[i] ? probe_tok[i] : -EBADF;
	}
	t[OP_CUSTOMIZE] = elapsed(t0, err, OP_CUSTOMIZE);

	err = 0;
	t0 = net_now_ns();
	for (i = 0; i < BATCH; i++) {
		prio = 1 + (i & 3);
		r = net_setsockopt(probe[i], SOL_SOCKET, SO_PRIORITY, &prio,
				   sizeof(prio));
		if (r && !err)
			err = r;
	}
	t[OP_SETSOCKOPT] = elapsed(t0, err, OP_SETSOCKOPT);

	err = 0;
	t0 = net_now_ns();
	for (i = 0; i < BATCH; i++) {
		if (probe_tok[i] <= 0)
			r = -EBADF;
		else
			r = close(probe_tok[i]) ? -errno : 0;
		if (r && !err)
			err = r;
	}
	t[OP_CLOSE] = elapsed(t0, err, OP_CLOSE);
}

/* The median of the readings that did not fail (FAILED if half did). */
static unsigned long long median(const unsigned long long t[REPS])
{
	unsigned long long v[REPS], x;
	int n = 0, i, j;

	for (i = 0; i < REPS; i++) {
		x = t[i];
		if (x == FAILED)
			continue;
		for (j = n++; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return 2 * n > REPS ? v[n >> 1] : FAILED;
}

/* The clock's step: a jiffies clocksource (6.1's x86_64 test kernel under
 * TCG) moves 4 ms at a time, and a batch shorter than that reads as 0.
 */
static unsigned long long clock_step(void)
{
	unsigned long long a = net_now_ns(), b;

	while ((b = net_now_ns()) == a)
		;
	return b - a;
}

/* us from ns, without a division (ARMv4 has none, and no libgcc here). */
static unsigned long long us_of(unsigned long long ns)
{
	unsigned long long us = 0, step = 1000, n = 1;

	/* Long division by 1000 in binary: subtract 1000 << k, largest first. */
	while (step <= ns >> 1) {
		step <<= 1;
		n <<= 1;
	}
	for (; n; step >>= 1, n >>= 1) {
		if (ns >= step) {
			ns -= step;
			us += n;
		}
	}
	return us;
}

/*
 * The exit of a child holding n customized sockets, with a token each if
 * tokens: the time from telling it to exit to its reaping, in ns (0 if it
 * could not set itself up).
 */
static unsigned long long time_exit(int n, int tokens)
{
	int go[2], ready[2], st = -1;
	unsigned long long t0, t;
	pid_t pid;

	if (net_pipe(go) || net_pipe(ready))
		return 0;
	pid = fork();
	if (pid == 0) {
		int i;

		close(go[1]);
		close(ready[0]);
		raise_nofile(2 * n + BATCH + 64);	/* and the probes it inherits */
		for (i = 0; i < n; i++) {
			long s = net_socket(AF_INET, SOCK_DGRAM, 0);

			long r = s < 0 ? s : tokens ? customize_to(s, 30000) : 1;

			if (r <= 0) {
				kt_line("# exit child: socket %d of %d: %ld", i, n, r);
				exit(1);
			}
		}
		net_send_byte(ready[1], 'r');
		net_wait_byte(go[0]);
		exit(0);
	}
	close(go[0]);
	close(ready[1]);
	if (net_wait_byte(ready[0]) != 'r') {
		waitpid(pid, &st, 0);
		return 0;
	}
	t0 = net_now_ns();
	close(go[1]);		/* its read returns 0: it exits */
	waitpid(pid, &st, 0);
	t = net_now_ns() - t0;
	close(ready[0]);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : 0;
}

int main(int argc, char **argv, char **envp)
{
	unsigned long long cost[STEPS][OPS], t[OPS], reps[OPS][REPS], step, base;
	unsigned long held[STEPS];
	unsigned int s, reached = 0, last, r, op, unread;
	struct netspec_nl_stats ns;
	long here, w1, w2;
	int i, w, ok;

	environ = envp;	/* 6.1's nolibc leaves it to us */
	kt_plan(1, 5);
	if (getenv("NETSPEC_LONG") && sizeof(long) == 8)
		nsteps = STEPS;
	kt_line("# scale: up to %u instances (%s)", steps[nsteps - 1].total,
		nsteps == STEPS ? "long mode" :
		"CI's size; vm-test --long goes to 100000 on a 64-bit arch");
	net_if_up("lo");
	raise_nofile(NOFILE);
	if (far_spawn()) {
		kt_line("# cannot start the far namespace");
		return 1;
	}
	here = far_enter();
	w2 = here < 0 ? here : net_if_up("lo");
	if (!w2)
		w2 = write_text(MAX_VERSIONS, "65536");
	if (here >= 0)
		far_leave(here);
	w1 = write_text(MAX_VERSIONS, "65536");
	for (i = 0; i < BATCH; i++) {
		probe[i] = net_socket(AF_INET, SOCK_DGRAM, 0);
		if (probe[i] < 0)
			break;
	}
	if (w1 || w2 || i < BATCH || start_workers()) {
		kt_line("# setup: max_versions %s / %s, probes %d", errname(w1),
			errname(w2), i);
		return 1;
	}

	for (s = 0; s < nsteps; s++) {
		unsigned long long t_grow = net_now_ns();

		held[s] = grow(s);
		t_grow = net_now_ns() - t_grow;
		net_sleep_ms(SETTLE_MS);
		for (r = 0; r < REPS; r++) {
			measure(t);
			for (op = 0; op < OPS; op++)
				reps[op][r] = t[op];
		}
		unread = 0;
		for (op = 0; op < OPS; op++)
			for (r = 0; r < REPS; r++)
				unread += !reps[op][r];
		for (op = 0; op < OPS; op++) {
			cost[s][op] = median(reps[op]);
			if (cost[s][op] != FAILED)
				continue;
			kt_line("# %s at %lu instances: no median of %d tries (%llu %llu %llu %llu %llu ns; %llu is a failure); first error %s",
				op_name[op], held[s], REPS, reps[op][0],
				reps[op][1], reps[op][2], reps[op][3],
				reps[op][4], FAILED, errname(first_err[op]));
		}
		memset(&ns, 0, sizeof(ns));
		netspec_nl_stats(&ns);
		kt_line("# scale: %lu instances (grown in %llu ms): %d %s (median of %d): customize %llu us, setsockopt %llu us, close %llu us (%u of %d batches read as no time); here %u specialized; MemAvailable %llu kB, Slab %llu kB",
			held[s], us_of(us_of(t_grow)), BATCH, "each", REPS,
			us_of(cost[s][OP_CUSTOMIZE]), us_of(cost[s][OP_SETSOCKOPT]),
			us_of(cost[s][OP_CLOSE]), unread, OPS * REPS, ns.versions,
			meminfo("MemAvailable"), meminfo("Slab"));
		if (held[s] < steps[s].total) {
			for (w = 0; w < WORKERS; w++)
				kt_line("# worker %d: %u instances, %s%s", w,
					workers[w].held, errname(workers[w].err),
					workers[w].dead ? ", died" : "");
			kt_line("# only %lu of %u instances fit: measured up to the step before",
				held[s], steps[s].total);
			break;
		}
		reached = s;
	}

	last = s < nsteps ? s : nsteps - 1;
	kt_result(held[last] >= steps[nsteps - 1].total,
		  "the_largest_step_fits_in_4_processes_and_2_namespaces",
		  "%lu of %u instances held at most", held[last],
		  steps[nsteps - 1].total);
	step = clock_step();
	kt_line("# scale: the clock moves %llu us at a time", us_of(step));
	for (op = 0; op < OPS; op++) {
		char name[64];

		strcpy(name, op_name[op]);
		strcpy(name + strlen(name), "_cost_stays_flat_with_the_instance_count");
		/* Compared at the clock's resolution at least. */
		base = cost[0][op] > step ? cost[0][op] : step;
		ok = reached > 0 && cost[0][op] != FAILED &&
		     cost[reached][op] != FAILED &&
		     cost[reached][op] <= FLAT * base;
		kt_result(ok, name, "%d %s took %llu us at %lu instances, %llu us at %lu",
			  BATCH, op_name[op], us_of(cost[reached][op]),
			  held[reached], us_of(cost[0][op]), held[0]);
	}

	/* The workers go, and with them the instances. */
	for (w = 0; w < WORKERS; w++) {
		unsigned long long t0 = net_now_ns();

		close(workers[w].cmd);
		waitpid(workers[w].pid, NULL, 0);
		kt_line("# worker %d exited with %u tokens in %llu ms", w,
			workers[w].held, us_of(us_of(net_now_ns() - t0)));
		close(workers[w].reply);
	}

	{
		unsigned long long bare = time_exit(EXIT_SOCKS, 0);
		unsigned long long tok = time_exit(EXIT_SOCKS, 1);

		kt_line("# exit of a process with %d customized sockets and a token each: %llu us; with the sockets alone: %llu us",
			EXIT_SOCKS, us_of(tok), us_of(bare));
		memset(&ns, 0, sizeof(ns));
		netspec_nl_stats(&ns);
		kt_result(tok && bare && ns.versions == 0,
			  "exit_with_1000_tokens_releases_every_instance",
			  "exits %llu / %llu us, %u versions left here",
			  us_of(tok), us_of(bare), ns.versions);
	}
	write_text(MAX_VERSIONS, "256");
	far_end();
	return kt_exit_status();
}
