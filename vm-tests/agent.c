// SPDX-License-Identifier: GPL-2.0
/*
 * netspec-agent: the device's customization agent (issue 16; nolibc,
 * static, every arch with a channel).
 *
 * It joins the "code" group of the netspec generic netlink family, on which
 * an instance that finds no code made for its context asks for it, once
 * (NETSPEC_CMD_CODE_REQUEST).  For each request it asks netspecd over the
 * serial channel for "udp4 csum=<mode> adu=<n>", checks that the artifact
 * is bound to this kernel's build id and to that context's hash, and loads
 * it with finit_module(); the instance adopts it on its next send.  Only
 * scalars leave the device: the context's values, the build id and a
 * nonce.  The kernel never waits for the agent: a request it cannot serve
 * (the server down or slow, a garbled or truncated reply, a module the
 * kernel refuses) leaves the instance on its built-in path, and the agent
 * says why on stdout, in lines that KTAP reads as comments.
 *
 * Usage: netspec-agent <tty> [<count> [<ready file> [<timeout>]]]
 * Serves <count> contexts (0, the default: until killed).  Exits 0 if each
 * ended with its module loaded, else with the errno of the first that did
 * not: ETIMEDOUT (no reply), EREMOTEIO (the server refused), EBADMSG (a
 * reply not bound to this kernel and context) or finit_module()'s; 255 if
 * it could not start.  Creates <ready file> once it listens, so that a
 * test knows its first request will be heard.  Gives the server <timeout>
 * ms for each reply (SERVER_TIMEOUT_MS by default).
 *
 * An instance asks once, and not again if no one heard it or the kernel
 * could not send it: the agent catches up from a dump of the instances,
 * serving each context one of them wants code for (code-wanted), once.  It
 * does so when it starts, when its socket overran (ENOBUFS: it empties the
 * socket first, which takes nothing until it is empty), and when it finds
 * code-requests-dropped grown, which it looks at every CATCH_UP_MS.
 * Before it serves a request, it asks the instance what it wants now: a
 * catch-up may have served it already, or its checksum mode changed.
 *
 * It keeps no cache of its own: the kernel asks only for a context that
 * has no code registered, so a module of that context's name already
 * loaded (EEXIST) is a failure to report, not a hit.
 */
#include "netspec_raw.h"
#include "nschannel.h"
#include "genl.h"

/* How long a request may take the server: a cold compile on armv4 takes a
 * second of host time, the reply a few over the UART.
 */
#define SERVER_TIMEOUT_MS	60000

static int server_timeout_ms = SERVER_TIMEOUT_MS;

static char msgbuf[4096];

static void say(const char *what, unsigned int id, const char *csum,
		unsigned int adu, const char *how, long err)
{
	printf("# agent: instance %u, udp4 csum=%s adu=%u: %s%s%s\n", id, csum,
	       adu, what, how ? ", " : "", how ? how : "");
	if (err)
		printf("# agent:   %s\n", errname(err));
}

/* Serves one request: 0 once its module is loaded, else -errno. */
static long serve(unsigned int id, unsigned int path, unsigned int csum,
		  unsigned int adu)
{
	static const char *const modes[] = {
		[NETSPEC_CODE_CSUM_PARTIAL]	= "partial",
		[NETSPEC_CODE_CSUM_SOFTWARE]	= "software",
		[NETSPEC_CODE_CSUM_NONE]	= "none",
	};
	const unsigned char *obj;
	unsigned long len, body, size;
	unsigned long long t0, t1;
	const char *mode;
	char adu_s[12], how[96] = "";
	unsigned long i;
	int kind;
	long r;

	if (path != NETSPEC_PATH_UDP4 || csum > NETSPEC_CODE_CSUM_NONE || !adu ||
	    adu > 65507) {
		printf("# agent: instance %u: path %u, csum %u, adu %u: no code is made for it\n",
		       id, path, csum, adu);
		return -EOPNOTSUPP;
	}
	mode = modes[csum];
	utoa_r(adu, adu_s);
	t0 = net_now_ns();
	kind = ns_request(build_id, mode, adu_s, server_timeout_ms, &len,
			  &body);
	t1 = net_now_ns();
	if (kind < 0) {
		say("no reply from the server (or the channel failed)", id, mode,
		    adu, NULL, -ETIMEDOUT);
		return -ETIMEDOUT;
	}
	if (kind == NS_KIND_ERROR) {
		if (len - body > 64)
			len = body + 64;
		/* The server's words, up to the first control character. */
		for (i = body; i < len && reply[i] >= 0x20 && reply[i] < 0x7f; i++)
			;
		reply[i] = 0;
		say("the server refused", id, mode, adu,
		    (const char *)reply + body, 0);
		return -EREMOTEIO;
	}
	if (!ns_bound_here(kind, len, mode, adu_s, &obj, &size)) {
		say("the reply is not an artifact for this kernel and context",
		    id, mode, adu, NULL, -EBADMSG);
		return -EBADMSG;
	}
	r = ns_load(obj, size);
	cat(how, sizeof(how), "server ");
	utoa_r(ns_ms(t1 - t0), how + strlen(how));
	cat(how, sizeof(how), " ms, load ");
	utoa_r(ns_ms(net_now_ns() - t1), how + strlen(how));
	cat(how, sizeof(how), " ms");
	if (r == -EEXIST) {
		say("a module of that name is loaded already, yet the kernel asked",
		    id, mode, adu, how, r);
		return r;
	}
	if (r) {
		say("the kernel refused the module", id, mode, adu, how, r);
		return r;
	}
	say("module loaded", id, mode, adu, how, 0);
	return 0;
}

/* The first failure's errno, kept for the exit status. */
static int failed;

static void note(long r)
{
	if (r && !failed)
		failed = -r < 255 ? -r : 254;
}

/*
 * The contexts a catch-up found wanted, each once, with an instance of
 * each; its dumps take CATCH_UP_BATCH new ones at a time.
 */
#define CATCH_UP_BATCH	64
#define CATCH_UP_MAX	1024

static struct wanted {
	unsigned int id, csum, adu;
} tried[CATCH_UP_MAX];
static unsigned int tried_n, batch_from;

static int want(const struct netspec_nl_inst *i, void *arg)
{
	unsigned int k;

	if (i->code_wanted < 0)
		return 0;
	for (k = 0; k < tried_n; k++)
		if (tried[k].csum == (unsigned int)i->code_wanted &&
		    tried[k].adu == i->adu)
			return 0;
	if (tried_n == CATCH_UP_MAX || tried_n - batch_from == CATCH_UP_BATCH)
		return 1;	/* in the next dump */
	tried[tried_n].id = i->id;
	tried[tried_n].csum = i->code_wanted;
	tried[tried_n++].adu = i->adu;
	return 0;
}

/*
 * Catches up with requests the agent did not get: serves each context an
 * instance wants code for, as dumps of the instances name them, up to
 * @left of them (0: all).  Returns how many it served, or -errno.
 */
static long catch_up(int left)
{
	long r, served = 0;
	unsigned int k;

	tried_n = 0;
	do {
		batch_from = tried_n;
		r = netspec_nl_each(want, NULL);
		if (r < 0) {
			printf("# agent: dumping the instances: %s\n",
			       errname(r));
			return r;
		}
		for (k = batch_from; k < tried_n; k++) {
			if (left && served == left)
				return served;
			note(serve(tried[k].id, NETSPEC_PATH_UDP4, tried[k].csum,
				   tried[k].adu));
			served++;
		}
	} while (tried_n > batch_from && tried_n < CATCH_UP_MAX);
	return served;
}

/*
 * Catches up with what is left of @count contexts (0: no bound), of which
 * *served are served: 0, or -1 if the instances could not be dumped.
 */
static int catch_up_rest(int count, int *served)
{
	long r = catch_up(count ? count - *served : 0);

	if (r < 0)
		return -1;
	*served += r;
	return 0;
}

/* How often the agent looks at the counters: the kernel's limit lets 32
 * requests through in 5 seconds.
 */
#define CATCH_UP_MS	5000

/* Whether code-requests-dropped grew since the last call. */
static int dropped_grew(void)
{
	static unsigned long long last;
	struct netspec_nl_stats s;
	int grew;

	if (netspec_nl_stats(&s))
		return 0;
	grew = s.code_requests_dropped != last;
	last = s.code_requests_dropped;
	return grew;
}

/* The number in @s, or -1 if it is not one. */
static int count_of(const char *s)
{
	int n = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000)
			return -1;
		n = n * 10 + *s - '0';
	}
	return n;
}

int main(int argc, char **argv, char **envp)
{
	char path[64] = "/dev/";
	int count = argc > 2 ? count_of(argv[2]) : 0, served = 0;
	int nl, fam, fd;
	struct netspec_nl_inst inst;
	unsigned long long checked;
	const char *stage;
	unsigned int id;
	long r;

	environ = envp;
	if (argc > 4)
		server_timeout_ms = count_of(argv[4]);
	if (argc < 2 || count < 0 || server_timeout_ms <= 0) {
		printf("usage: netspec-agent <tty> [<count> [<ready file> [<timeout>]]]\n");
		return 255;
	}
	cat(path, sizeof(path), argv[1]);
	tty = open(path, O_RDWR | O_NOCTTY);
	if (tty < 0 || raw(tty) || ns_build_id(build_id, sizeof(build_id))) {
		printf("# agent: %s: no channel or no build id\n", path);
		return 255;
	}
	nl = genl_join(NETSPEC_MCGRP_CODE, &stage);
	if (nl < 0) {
		printf("# agent: the code group (%s): %s\n", stage, errname(nl));
		return 255;
	}
	/* genl_join() looked the family up; its number is in genl_buf. */
	fam = genl_u16((struct nlmsghdr *)genl_buf, CTRL_ATTR_FAMILY_ID);
	if (argc > 3) {
		fd = open(argv[3], O_WRONLY | O_CREAT, 0600);
		if (fd < 0) {
			printf("# agent: %s: %s\n", argv[3], errname(-errno));
			return 255;
		}
		close(fd);
	}
	/* Listening now: what was asked before, a dump tells. */
	dropped_grew();
	checked = net_now_ns();
	if (catch_up_rest(count, &served))
		return 255;
	while (!count || served < count) {
		struct nlmsghdr *h = (struct nlmsghdr *)msgbuf;
		long n = net_wait_readable(nl, CATCH_UP_MS);

		/* Every CATCH_UP_MS: were requests held back meanwhile? */
		if (net_now_ns() - checked >= CATCH_UP_MS * 1000000ULL) {
			checked = net_now_ns();
			if (dropped_grew() && catch_up_rest(count, &served))
				return 255;
			if (count && served >= count)
				break;
		}
		if (n == 0)
			continue;
		if (n > 0)
			n = my_syscall6(__NR_recvfrom, nl, msgbuf,
					sizeof(msgbuf), 0, NULL, 0);
		if (n < 0) {
			printf("# agent: reading requests: %s\n", errname(n));
			if (n != -ENOBUFS)
				return 255;
			/*
			 * Requests were lost, and are not asked again.  The
			 * socket takes none until its queue is empty: empty it
			 * first, then a dump tells what the queue and the lost
			 * ones asked for.
			 */
			while (my_syscall6(__NR_recvfrom, nl, msgbuf,
					   sizeof(msgbuf), MSG_DONTWAIT, NULL,
					   0) >= 0)
				;
			if (catch_up_rest(count, &served))
				return 255;
			continue;
		}
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			struct genlmsghdr *g = NLMSG_DATA(h);

			if (h->nlmsg_type != fam ||
			    h->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN) ||
			    g->cmd != NETSPEC_CMD_CODE_REQUEST ||
			    (count && served == count))
				continue;
			id = genl_u32(h, NETSPEC_A_CODE_ID);
			/*
			 * What the instance wants now: nothing if a catch-up
			 * served it or it is gone; if the family cannot say,
			 * what it asked for.
			 */
			r = netspec_nl_inst(id, &inst);
			if (r == -ENOENT || (!r && inst.code_wanted < 0)) {
				printf("# agent: instance %u wants no code now\n",
				       id);
				continue;
			}
			if (r)
				note(serve(id, genl_u32(h, NETSPEC_A_CODE_PATH),
					   genl_u32(h, NETSPEC_A_CODE_CSUM),
					   genl_u32(h, NETSPEC_A_CODE_ADU)));
			else
				note(serve(id, NETSPEC_PATH_UDP4,
					   inst.code_wanted, inst.adu));
			served++;
		}
	}
	return failed;
}
