// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input: a million random netspec() and customized_send() calls, and
 * the socket calls that netspec's guards watch.
 *
 * Each call is one entry of a table of operations (ops[] below), which makes
 * its arguments from a deterministic PRNG (xorshift64, seed printed; set it
 * with fuzz_seed=N on the kernel command line, e.g. cargo xtask vm-test
 * --append fuzz_seed=0x1234 fuzz): ops known and unknown, sizes short, exact,
 * larger with a zero or a non-zero tail, a page and over, huge; pointers
 * NULL, low, unmapped, PROT_NONE, kernel, misaligned, read-only, straddling
 * a PROT_NONE page, or a buffer with a valid, mutated or random struct;
 * policies valid, defaulted, of the other event or out of range; tokens
 * held, cancelled, never issued, of a closed socket, 0, negative, huge, with
 * high bits above the int; descriptors of UDP sockets (IPv4 and IPv6,
 * connected and not), TCP and UNIX sockets, a pipe, a /proc file, a closed
 * one, random numbers.  Valid contexts on loopback sockets make real
 * customizations and sends, which two receivers drain.  A few calls are
 * setsockopt() (SO_ADU among others), getsockopt(SO_ADU) and connect() on
 * those sockets, and close() of one, which is then opened again: the socket
 * policies (EBUSY or invalidation), SO_ADU and the guard that makes a closed
 * socket's tokens fail are fuzzed with the rest.  It runs in a network
 * namespace of its own, whose default policies it sets from the seed.
 *
 * Every result must be a success or an errno documented for that call
 * (include/uapi/linux/netspec.h, Documentation/networking/netspec.rst, and
 * send(2), udp(7) and ip(7) for what customized_send() passes on); and where
 * the arguments decide the result (a size over a page, an unknown op, a
 * token not held, a flag, an unreadable struct...), it must be exactly that
 * one, which a small model of the process's tokens, their instances and
 * its descriptors predicts.
 * At the end every token still held is cancelled, and neither a token nor
 * an instance of this process may be left.  init asks kmemleak for a scan
 * afterwards, and the host fails the run on any kernel report.
 *
 * Two more knobs on the kernel command line, for working on this program:
 * fuzz_calls=N makes N calls instead of a million, and fuzz_profile=1 times
 * every call (a clock read each) and prints the time per op and per result.
 *
 * Guest code links no libgcc: no division or modulo by a variable and no
 * 64-bit division anywhere (ranges use a multiply-high, times use shifts).
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"

#define PAGE 4096
#define DEFAULT_CALLS 1000000UL
#define LOOPBACK 0x7f000001
#define MAX_TOKEN 4096		/* NETSPEC_TOKENS_MAX in net/netspec/netspec.h */
#define LIVE_MAX 192		/* tokens held at once, well below MAX_TOKEN */
#define MAX_ADU_V4 (65535 - 8 - 20)
#define MAX_ADU_V6 (65535 - 8)
#define ERRNO_SLOTS 134		/* errnos 1..133 (EHWPOISON), generic numbering */
#define MAX_REPORTS 20
#define SHUT_WR 1
#define PROT_READ_ONLY 1
#define PROT_NOACCESS 0
#define N_NETSPEC_OPS 4		/* QUERY, CUSTOMIZE, CANCEL, INFO */
#define CLONE_NEWNET 0x40000000
#define IPPROTO_IP_LEVEL 0
#define IP_TTL 2
#define SO_UNKNOWN 0x4e52	/* next to SO_ADU, and no socket option */

/* ---- randomness ---------------------------------------------------------- */

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned int rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng >> 32);
}

/* Uniform in [0, n), without a division: the high half of rnd() * n. */
static unsigned int below(unsigned int n)
{
	return (unsigned int)(((unsigned long long)rnd() * n) >> 32);
}

/*
 * a / b, with a % b in *rem: the guests link no libgcc, and ARMv4 has no
 * divide instruction, so C's / and % on a variable do not link there.
 */
static unsigned long udivmod(unsigned long a, unsigned long b,
			     unsigned long *rem)
{
	unsigned long q = 0, bit = 1;

	if (!b) {
		*rem = a;
		return ~0UL;
	}
	while (b <= a && !(b >> (sizeof(long) * 8 - 1))) {
		b <<= 1;
		bit <<= 1;
	}
	for (; bit; b >>= 1, bit >>= 1)
		if (a >= b) {
			a -= b;
			q |= bit;
		}
	*rem = a;
	return q;
}

/* True with probability p/256. */
static int chance(unsigned int p)
{
	return (rnd() & 255) < p;
}

static unsigned long rnd_long(void)
{
	unsigned long v = rnd();

	if (sizeof(long) > 4)
		v = v << 16 << 16 | rnd();
	return v;
}

/* ---- memory --------------------------------------------------------------- */

/*
 * The only memory the kernel is ever pointed at, so that no random call can
 * corrupt the program: page-aligned, in .bss.
 *   pages 0-1  ARENA: argument structs, zero but where a call writes them;
 *   page 2     GUARD: PROT_NONE, right after the arena, for structs that
 *              straddle into it;
 *   pages 3-6  RO: read-only, page 3+n holds a valid struct of netspec op n;
 *   pages 7-8  HOLE: unmapped.
 */
static unsigned char mem[9 * PAGE] __attribute__((aligned(PAGE)));
#define ARENA (mem)
#define GUARD (mem + 2 * PAGE)
#define RO(n) (mem + (3 + (n)) * PAGE)
#define HOLE (mem + 7 * PAGE)

/* Send buffers (the kernel only reads these). */
static unsigned char sendbuf[65536 + 64] __attribute__((aligned(8)));
static unsigned char rbuf[65536];

/* Where a pointer the kernel gets points. */
enum ptr_class {
	P_NULL, P_LOW, P_HOLE, P_GUARD, P_KERNEL,	/* nothing readable */
	P_STRADDLE,	/* readable up to the guard page */
	P_ARENA, P_MISALIGNED, P_RO,	/* all readable */
	P_COUNT
};

static const char *const ptr_names[P_COUNT] = {
	"null", "low", "unmapped", "prot-none", "kernel", "straddles-guard",
	"buffer", "misaligned", "read-only",
};

/* ---- descriptors ----------------------------------------------------------- */

enum fd_kind {
	K_UNKNOWN,	/* inherited: checked for a documented errno only */
	K_UDP4_CONN,	/* connected to rx4 */
	K_UDP4_DUP,	/* dup() of K_UDP4_CONN: the same open file */
	K_UDP4_NONBLOCK,	/* connected to rx4, O_NONBLOCK */
	K_UDP4_REFUSED,	/* connected to a port nobody listens on */
	K_UDP4_UNCONN,
	K_UDP6_CONN,	/* connected to rx6 */
	K_UDP6_UNCONN,
	K_RX4,		/* the receivers, bound, unconnected */
	K_RX6,
	K_UDP4_SHUT,	/* connected, shut down for sending */
	K_TCP,
	K_UNIX,
	K_PIPE,
	K_PROC,
	K_CLOSED,	/* was open; its number is free */
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
	"unknown", "udp4-connected", "udp4-dup", "udp4-nonblock",
	"udp4-refused", "udp4-unconnected", "udp6-connected",
	"udp6-unconnected", "rx4", "rx6", "udp4-shut", "tcp", "unix", "pipe",
	"proc", "closed",
};

struct fd_info {
	int fd;
	unsigned char v6;	/* a UDP socket of AF_INET6 */
	unsigned char connected;
	unsigned char shut;
	unsigned char invalidate;	/* customizes mostly ask to be invalidated */
	unsigned int sock;	/* the open socket, shared by dup(); 0 if none */
	unsigned int adu;	/* its SO_ADU */
};

static struct fd_info fds[K_COUNT];
static int first_fd = 1 << 30;	/* below it: inherited descriptors */
static int rx4 = -1, rx6 = -1;
static unsigned short port4, port6, closed_port;
static unsigned int next_sock;
/* net.netspec.socket_policy and route_policy */
static unsigned char default_policy[NETSPEC_EVENTS];

/* The kind of descriptor fd, as far as the model knows it. */
static int kind_of(long fd)
{
	int k;

	if (fd < 0 || fd > 0x7fffffff)
		return K_CLOSED;
	for (k = 1; k < K_COUNT; k++)
		if (fds[k].fd == fd && k != K_CLOSED)
			return k;
	return fd < first_fd ? K_UNKNOWN : K_CLOSED;
}

/* Whether a descriptor still refers to socket s. */
static int sock_open(unsigned int s)
{
	int k;

	for (k = 1; k < K_COUNT; k++)
		if (fds[k].sock == s && k != K_CLOSED)
			return 1;
	return 0;
}

/* ---- the instance and token model -------------------------------------------- */

/*
 * An instance as net/netspec/inst.c keeps it: its context (the key under
 * which customizes share it, with the ADU in effect and the policies
 * resolved), path and counters.  Only this process's sockets have
 * instances, so users, sends and trips are known exactly.  A token holds
 * one; there are never more instances than tokens.
 */
struct inst_model {
	unsigned char used;
	unsigned char hashed;	/* in the table: a customize may share it */
	unsigned char dead;	/* its socket was released */
	unsigned char path;
	unsigned char was_specialized;
	unsigned char policy[NETSPEC_EVENTS];
	unsigned short family, port;	/* as the struct has them */
	unsigned char addr[16];
	unsigned int sock, adu, send_flags, users;
	unsigned long long sends, trips;
};

static struct inst_model insts[LIVE_MAX + 1];

struct token_model {
	unsigned char live;	/* in the process's table */
	unsigned char kind;	/* the descriptor it was customized on */
	unsigned short inst;
};

static struct token_model tokens[MAX_TOKEN + 1];
static int live_list[MAX_TOKEN + 1], nlive;
static unsigned int cancelled[16], ncancelled;

/* Counts of what the guards did, for the final check. */
static unsigned long n_rejected, n_invalidated, n_dead_ebadf, n_closed_live;
static unsigned long n_so_adu_used;

static int inst_find(unsigned int sock, unsigned int adu,
		     const struct netspec_customize *c, const unsigned char *pol)
{
	int i;

	for (i = 0; i <= LIVE_MAX; i++) {
		const struct inst_model *m = &insts[i];

		if (m->used && m->hashed && m->sock == sock && m->adu == adu &&
		    m->send_flags == c->send_flags && m->family == c->family &&
		    m->port == c->port && !memcmp(m->addr, c->addr, 16) &&
		    !memcmp(m->policy, pol, NETSPEC_EVENTS))
			return i;
	}
	return -1;
}

static int inst_new(unsigned int sock, unsigned int adu,
		    const struct netspec_customize *c, const unsigned char *pol,
		    unsigned int path)
{
	int i;

	for (i = 0; i <= LIVE_MAX; i++)
		if (!insts[i].used)
			break;
	memset(&insts[i], 0, sizeof(insts[i]));
	insts[i].used = 1;
	insts[i].hashed = 1;
	insts[i].path = path;
	insts[i].was_specialized = path == NETSPEC_PATH_UDP4;
	memcpy(insts[i].policy, pol, NETSPEC_EVENTS);
	insts[i].family = c->family;
	insts[i].port = c->port;
	memcpy(insts[i].addr, c->addr, 16);
	insts[i].sock = sock;
	insts[i].adu = adu;
	insts[i].send_flags = c->send_flags;
	return i;
}

static void token_add(int t, int inst, int kind)
{
	tokens[t].live = 1;
	tokens[t].inst = inst;
	tokens[t].kind = kind;
	insts[inst].users++;
	live_list[nlive++] = t;
}

static void token_del(int t)
{
	int i;

	tokens[t].live = 0;
	if (!--insts[tokens[t].inst].users)
		insts[tokens[t].inst].used = 0;
	for (i = 0; i < nlive; i++)
		if (live_list[i] == t) {
			live_list[i] = live_list[--nlive];
			break;
		}
	cancelled[ncancelled++ & 15] = t;
}

/* In the process's table: cancel takes it. */
static int held(long long t)
{
	return t > 0 && t <= MAX_TOKEN && tokens[t].live;
}

/* Held and its socket open: sends and info take it. */
static int usable(long long t)
{
	return held(t) && !insts[tokens[t].inst].dead;
}

/* The socket was released: its instances are dead, their tokens EBADF. */
static void sock_released(unsigned int s)
{
	int i;

	for (i = 0; i <= LIVE_MAX; i++)
		if (insts[i].used && insts[i].sock == s && !insts[i].dead) {
			insts[i].dead = 1;
			insts[i].hashed = 0;
			n_closed_live++;
		}
}

/* What a setsockopt() or connect() on socket s meets (__netspec_sock_change):
 * 0 nothing, 1 specialized instances that invalidate, 2 one that rejects.
 */
static int guard_of(unsigned int s)
{
	int i, g = 0;

	for (i = 0; i <= LIVE_MAX; i++) {
		const struct inst_model *m = &insts[i];

		if (!m->used || m->sock != s || m->dead ||
		    m->path != NETSPEC_PATH_UDP4)
			continue;
		if (m->policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_REJECT)
			return 2;
		g = 1;
	}
	return g;
}

/* What the guard did, as the call's result says: rejected (EBUSY) or let
 * the change through, invalidating the specialized instances.
 */
static void guard_apply(unsigned int s, int rejected)
{
	int i;

	for (i = 0; i <= LIVE_MAX; i++) {
		struct inst_model *m = &insts[i];

		if (!m->used || m->sock != s || m->dead ||
		    m->path != NETSPEC_PATH_UDP4)
			continue;
		if (rejected) {
			if (m->policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_REJECT) {
				m->trips++;
				n_rejected++;
			}
		} else {
			m->path = NETSPEC_PATH_GENERIC;
			m->hashed = 0;
			m->trips++;
			n_invalidated++;
		}
	}
}

/* A token: mostly held ones, else every kind of bad one. */
static unsigned long pick_token(void)
{
	unsigned int c = rnd() & 255;

	if (c < 128 && nlive)
		return live_list[below(nlive)];
	if (c < 150 && ncancelled)
		return cancelled[below(ncancelled < 16 ? ncancelled : 16)];
	if (c < 165)
		return 0;
	if (c < 180)
		return (unsigned int)-1 - below(4);	/* -1..-4 as an int */
	if (c < 190)
		return 0x7fffffff;
	if (c < 200)
		return 0x80000000;
	if (c < 230)
		return 1 + below(MAX_TOKEN + 8);
	return rnd();
}

/* ---- results --------------------------------------------------------------- */

struct op;
typedef void (*op_fn)(struct op *);

/*
 * One kind of call: a function that makes the arguments, calls and checks,
 * and the errnos documented for the call.
 */
struct op {
	const char *name;
	unsigned int weight;	/* in 1/1024 of the calls */
	unsigned int cheap;	/* in 1/256: arguments that fail fast */
	op_fn run;
	const int *errnos;	/* 0-terminated */
	unsigned char documented[ERRNO_SLOTS];
	unsigned long calls, ok;
	unsigned long err[ERRNO_SLOTS];
	unsigned long long us;	/* time spent, with fuzz_profile=1 */
};

enum {
	OP_CUSTOMIZE, OP_CANCEL, OP_QUERY, OP_INFO, OP_UNKNOWN, OP_SEND,
	OP_SETSOCKOPT, OP_GETSOCKOPT, OP_CONNECT, OP_CLOSE, N_OPS
};
static struct op ops[N_OPS];

static unsigned long n_calls, n_failed, n_model_failed;
static unsigned long customized, sent, received, n_batch_sent;
static char first_failure[512], first_model_failure[512];

enum { C_NETSPEC, C_SEND, C_SOCKET };

/* The current call, formatted only when it fails. */
static struct {
	int call;		/* C_NETSPEC, C_SEND, or C_SOCKET: name(fd, ...) */
	const char *name;
	unsigned long a[4];	/* the raw arguments */
	int pc;			/* pointer class of a[1] */
	const unsigned char *view;	/* the struct the kernel read, or NULL */
	unsigned int view_len;
	const struct token_model *t;	/* the token's model, for a send */
} cur;

static const char *errno_name(long e)
{
	switch (e) {
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENOTCONN: return "ENOTCONN";
	case EINTR: return "EINTR";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EBUSY: return "EBUSY";
	default: return netspec_errname(-e);
	}
}

static const char *const op_names[N_NETSPEC_OPS] = {
	"QUERY", "CUSTOMIZE", "CANCEL", "INFO"
};

/* A socket's instances in the model: "n specialized (r reject)". */
static void format_sock(struct kt_buf *b, unsigned int sock)
{
	unsigned int i, n = 0, rej = 0;

	for (i = 0; i <= LIVE_MAX; i++)
		if (insts[i].used && insts[i].sock == sock && !insts[i].dead &&
		    insts[i].path == NETSPEC_PATH_UDP4) {
			n++;
			rej += insts[i].policy[NETSPEC_EVENT_SOCKET] ==
			       NETSPEC_POLICY_REJECT;
		}
	kt_putu(b, n, 10);
	kt_puts(b, " specialized instances (");
	kt_putu(b, rej, 10);
	kt_puts(b, " reject)");
}

static void format_call(struct kt_buf *b)
{
	unsigned int i, w;
	int k;

	if (cur.call == C_SOCKET) {
		k = kind_of(cur.a[0]);
		kt_puts(b, cur.name);
		kt_puts(b, "(fd=");
		kt_putu(b, cur.a[0], 10);
		for (i = 1; i < 4; i++) {
			kt_puts(b, ", ");
			kt_putu(b, cur.a[i], 16);
		}
		kt_puts(b, ") ");
		kt_puts(b, kind_names[k]);
		kt_puts(b, " SO_ADU ");
		kt_putu(b, fds[k].adu, 10);
		kt_puts(b, ", ");
		format_sock(b, fds[k].sock);
		return;
	}
	if (cur.call == C_SEND) {
		kt_puts(b, "customized_send(token=");
		kt_putu(b, cur.a[0], 16);
		kt_puts(b, ", buf=");
	} else {
		kt_puts(b, "netspec(op=");
		kt_putu(b, cur.a[0], 16);
		if (cur.a[0] < N_NETSPEC_OPS) {
			kt_putc(b, ' ');
			kt_puts(b, op_names[cur.a[0]]);
		}
		kt_puts(b, ", arg=");
	}
	kt_putu(b, cur.a[1], 16);
	kt_puts(b, " [");
	kt_puts(b, ptr_names[cur.pc]);
	kt_puts(b, cur.call == C_SEND ? "], len=" : "], size=");
	kt_putu(b, cur.a[2], 10);
	if (cur.call == C_SEND) {
		kt_puts(b, ", flags=");
		kt_putu(b, cur.a[3], 16);
	}
	kt_putc(b, ')');
	if (cur.call == C_SEND) {
		kt_puts(b, cur.t ? " token held, adu " : " token not held");
		if (cur.t) {
			const struct inst_model *m = &insts[cur.t->inst];

			kt_putu(b, m->adu, 10);
			kt_puts(b, " path ");
			kt_putu(b, m->path, 10);
			kt_puts(b, " socket ");
			kt_puts(b, kind_names[cur.t->kind]);
			if (m->dead)
				kt_puts(b, " (closed)");
		}
	}
	if (cur.view) {
		kt_puts(b, " struct words:");
		for (i = 0; i + 4 <= cur.view_len; i += 4) {
			memcpy(&w, cur.view + i, 4);
			kt_putc(b, ' ');
			kt_putu(b, w, 16);
		}
	}
}

static void report(char *first, unsigned long n, const char *what, long r,
		   const char *why)
{
	struct kt_buf b = { .n = 0 };

	kt_puts(&b, "call ");
	kt_putu(&b, n_calls, 10);
	kt_puts(&b, ": ");
	format_call(&b);
	kt_puts(&b, " = ");
	if (r < 0) {
		kt_putc(&b, '-');
		kt_puts(&b, errno_name(-r));
		kt_putc(&b, ' ');
		kt_putu(&b, -r, 10);
	} else {
		kt_putu(&b, r, 10);
	}
	kt_puts(&b, ": ");
	kt_puts(&b, why);
	b.s[b.n] = 0;
	if (n <= MAX_REPORTS)
		kt_line("# %s: %s", what, b.s);
	if (n == 1)
		memcpy(first, b.s, b.n + 1);
}

/* A result that is neither a success nor a documented errno of the call. */
static void fail(long r, const char *why)
{
	report(first_failure, ++n_failed, "undocumented", r, why);
}

/* A documented result, but not the one the arguments decide. */
static void model_fail(long r, const char *why)
{
	report(first_model_failure, ++n_model_failed, "model", r, why);
}

/*
 * Counts result r of op, checks that a failure is documented, and, unless
 * want is ANY, that r is exactly want (0 standing for any success).
 * Returns whether the call succeeded.
 */
#define ANY 1
static long last_r;	/* for fuzz_profile=1 */
static unsigned long long us_by_result[ERRNO_SLOTS];
static unsigned long n_by_result[ERRNO_SLOTS];

static int judge(struct op *op, long r, long want)
{
	last_r = r;
	n_calls++;
	op->calls++;
	if (r >= 0)
		op->ok++;
	else if (-r < ERRNO_SLOTS && op->documented[-r])
		op->err[-r]++;
	else
		fail(r, "not a documented errno of this call");
	if (want != ANY && (want == 0 ? r < 0 : r != want))
		model_fail(r, want == 0 ? "expected success" :
			   errno_name(-want));
	return r >= 0;
}

/* ---- argument structs for netspec() ------------------------------------------ */

static const unsigned int struct_size[N_NETSPEC_OPS] = {
	sizeof(struct netspec_query), sizeof(struct netspec_customize),
	sizeof(struct netspec_cancel), sizeof(struct netspec_info),
};
static const unsigned int ver0_size[N_NETSPEC_OPS] = {
	NETSPEC_QUERY_SIZE_VER0, NETSPEC_CUSTOMIZE_SIZE_VER0,
	NETSPEC_CANCEL_SIZE_VER0, NETSPEC_INFO_SIZE_VER0,
};
#define MAX_STRUCT 96	/* the largest: struct netspec_info */
#define INFO_POLICY __builtin_offsetof(struct netspec_info, policy)
#define INFO_REWRITES __builtin_offsetof(struct netspec_info, rewrites)
#define INFO_MSS __builtin_offsetof(struct netspec_info, mss)

/* An address no user access reaches: above every task size we run. */
static unsigned long kernel_address(void)
{
	if (sizeof(long) > 4)
		return chance(128) ? ~0UL - (rnd() & 0xfffffff) :
		       (0x8000UL << 16 << 16 << 16) | rnd();	/* non-canonical */
	return 0xc0000000UL | (rnd() & 0x3fffffff);
}

/* A pointer of class c for an object of size bytes. */
static unsigned char *pointer(int c, unsigned long size, int ro_op)
{
	unsigned long off;

	switch (c) {
	case P_NULL:
		return NULL;
	case P_LOW:
		return (unsigned char *)(unsigned long)(1 + below(PAGE - 1));
	/* all of [p, p + size) within, when size is one the kernel reads */
	case P_HOLE:
		return HOLE + below(2 * PAGE + 1 - (size < PAGE ? size : PAGE));
	case P_GUARD:
		return GUARD + below(PAGE + 1 - (size < PAGE ? size : PAGE));
	case P_KERNEL:
		return (unsigned char *)kernel_address();
	case P_STRADDLE:
		/* starts in the arena, ends in the guard page */
		off = size > 1 ? 1 + below(size < PAGE ? size - 1 : PAGE - 1) : 0;
		return GUARD - off;
	case P_MISALIGNED:
		return ARENA + (below(PAGE >> 3) << 3) + 1 + below(7);
	case P_RO:
		/* all of it within the read-only pages */
		return RO(ro_op) + (chance(200) || size > PAGE - 64 ? 0 : below(64));
	default:
		return ARENA + (below(PAGE >> 3) << 3);
	}
}

/* A destination (family, port, addr) for a customize of socket kind k. */
static void destination(struct netspec_customize *c, int k)
{
	const struct fd_info *f = &fds[k];
	unsigned int lo = net_htonl(LOOPBACK);

	memset(c->addr, 0, sizeof(c->addr));
	c->port = 0;
	if (f->connected && chance(200)) {
		c->family = AF_UNSPEC;
		return;
	}
	c->family = f->v6 ? AF_INET6 : AF_INET;
	c->port = net_htons(chance(240) ? (f->v6 ? port6 : port4) : closed_port);
	if (!f->v6) {
		memcpy(c->addr, &lo, 4);
	} else if (chance(230)) {
		c->addr[15] = 1;	/* ::1 */
	} else {
		/* ::ffff:127.0.0.1, IPv4 through the IPv6 socket */
		c->addr[10] = c->addr[11] = 0xff;
		memcpy(c->addr + 12, &lo, 4);
		c->port = net_htons(port4);
	}
}

/* Mostly small messages: a large one costs a lot under TCG with KASAN. */
static const unsigned int adus[] = { 0, 0, 1, 8, 32, 64, 100, 512, 1472, 1500 };
static const int good_kinds[] = {
	K_UDP4_CONN, K_UDP4_CONN, K_UDP4_CONN, K_UDP4_DUP, K_UDP4_NONBLOCK,
	K_UDP4_REFUSED, K_UDP4_UNCONN, K_UDP4_UNCONN, K_UDP6_CONN,
	K_UDP6_UNCONN, K_RX4, K_RX6,
};
#define N_GOOD_KINDS (sizeof(good_kinds) / sizeof(good_kinds[0]))
#define N_ADUS (sizeof(adus) / sizeof(adus[0]))

/*
 * Policies for a customize: mostly ones the events take (or the default),
 * now and then one an event does not take or a byte past the events.  A
 * socket whose customizes mostly ask to be invalidated lets setsockopt()
 * and connect() through now and then; the others mostly get EBUSY.
 */
static void policies(unsigned char *p, int invalidate)
{
	static const unsigned char sock_ok[] = {
		NETSPEC_POLICY_DEFAULT, NETSPEC_POLICY_REJECT,
		NETSPEC_POLICY_INVALIDATE,
	};
	static const unsigned char route_ok[] = {
		NETSPEC_POLICY_DEFAULT, NETSPEC_POLICY_INVALIDATE,
		NETSPEC_POLICY_RESPECIALIZE, NETSPEC_POLICY_REINFORCE,
	};
	/* The MSS takes the route's policies; UDP instances never use it. */
	const unsigned char *mss_ok = route_ok;

	memset(p, 0, 8);
	if (invalidate && chance(248))
		p[NETSPEC_EVENT_SOCKET] =
			default_policy[NETSPEC_EVENT_SOCKET] ==
			NETSPEC_POLICY_INVALIDATE && chance(128) ?
			NETSPEC_POLICY_DEFAULT : NETSPEC_POLICY_INVALIDATE;
	else
		p[NETSPEC_EVENT_SOCKET] = sock_ok[below(3)];
	p[NETSPEC_EVENT_ROUTE] = route_ok[below(4)];
	p[NETSPEC_EVENT_MSS] = mss_ok[below(4)];
	if (chance(6))
		p[NETSPEC_EVENT_SOCKET] = chance(128) ?
					  NETSPEC_POLICY_RESPECIALIZE :
					  4 + below(252);
	if (chance(6))
		p[NETSPEC_EVENT_ROUTE] = chance(128) ? NETSPEC_POLICY_REJECT :
					 5 + below(251);
	if (chance(6))
		p[NETSPEC_EVENT_MSS] = chance(128) ? NETSPEC_POLICY_REJECT :
				       5 + below(251);
	if (chance(4))
		p[NETSPEC_EVENTS + below(8 - NETSPEC_EVENTS)] = 1 + below(255);
}

/* A valid context on one of the UDP sockets, or now and then the same on
 * any descriptor the program holds (TCP, UNIX, a pipe, a shut socket...).
 */
static void valid_customize(struct netspec_customize *c)
{
	int k = chance(24) ? 1 + below(K_COUNT - 1) : good_kinds[below(N_GOOD_KINDS)];

	memset(c, 0, sizeof(*c));
	c->fd = fds[k].fd;
	/* Now and then TCP, which no socket here can take: the fuzz's TCP
	 * socket is never connected (the tcp suite tests connected ones).
	 */
	c->protocol = chance(16) ? NETSPEC_PROTO_TCP : NETSPEC_PROTO_UDP;
	c->adu = chance(4) ? below(MAX_ADU_V6 + 2) : adus[below(N_ADUS)];
	if (fds[k].adu && chance(160))	/* mostly the socket's SO_ADU */
		c->adu = chance(128) ? 0 : fds[k].adu;
	if (chance(56))
		c->send_flags = (chance(128) ? MSG_DONTWAIT : 0) |
				(chance(128) ? MSG_NOSIGNAL : 0);
	destination(c, k);
	policies(c->policy, fds[k].invalidate);
}

/*
 * Writes a valid struct of netspec op at p, through an aligned copy: p may
 * be misaligned, which ARMv4 cannot store to directly.
 */
static void valid_struct(int op, unsigned char *p)
{
	union {
		struct netspec_query q;
		struct netspec_customize c;
		struct netspec_cancel x;
		struct netspec_info i;
	} u;

	memset(&u, 0, sizeof(u));
	if (op == NETSPEC_OP_CUSTOMIZE)
		valid_customize(&u.c);
	else if (op == NETSPEC_OP_CANCEL)
		u.x.token = pick_token();
	else if (op == NETSPEC_OP_INFO)
		u.i.token = pick_token();
	memcpy(p, &u, struct_size[op]);
}

/* Changes one to three fields of the n-byte struct at p. */
static void mutate(unsigned char *p, unsigned int n)
{
	static const unsigned int values[] = {
		0, 1, 2, 3, 10, 0x40, 0x4000, 0x4040, 0xff, 0xffff, 4096, 4097,
		65507, 65508, 65527, 65528, 0x7fffffff, 0x80000000, 0xffffffff,
	};
	unsigned int i, k = 1 + below(3), v;

	for (i = 0; i < k; i++) {
		unsigned int at = below(n >> 2) << 2;

		v = chance(160) ? values[below(sizeof(values) / sizeof(values[0]))] :
				  rnd();
		if (chance(64))
			p[at + below(4)] = v;	/* one byte */
		else
			memcpy(p + at, &v, 4);
	}
}

/* The ADU a customize of struct c on socket f asks for, SO_ADU applied. */
static unsigned int adu_in_effect(const struct netspec_customize *c,
				  const struct fd_info *f)
{
	return c->adu ? c->adu : f->adu;
}

/* The policies in effect, defaults resolved: 0, or -EINVAL as
 * netspec_policies() decides.
 */
static int resolve_policies(const unsigned char *in, unsigned char *out)
{
	static const unsigned char lo[NETSPEC_EVENTS] = {
		[NETSPEC_EVENT_SOCKET] = NETSPEC_POLICY_REJECT,
		[NETSPEC_EVENT_ROUTE] = NETSPEC_POLICY_INVALIDATE,
		[NETSPEC_EVENT_MSS] = NETSPEC_POLICY_INVALIDATE,
	};
	static const unsigned char hi[NETSPEC_EVENTS] = {
		[NETSPEC_EVENT_SOCKET] = NETSPEC_POLICY_INVALIDATE,
		[NETSPEC_EVENT_ROUTE] = NETSPEC_POLICY_REINFORCE,	/* netfilter */
		[NETSPEC_EVENT_MSS] = NETSPEC_POLICY_REINFORCE,
	};
	int e;

	for (e = NETSPEC_EVENTS; e < 8; e++)
		if (in[e])
			return -EINVAL;
	for (e = 0; e < NETSPEC_EVENTS; e++) {
		out[e] = in[e] ? in[e] : default_policy[e];
		if (out[e] < lo[e] || out[e] > hi[e])
			return -EINVAL;
	}
	return 0;
}

/*
 * What a customize of struct c must return, checked as net/netspec/inst.c
 * checks it: an errno, 0 for a token, or ANY for a descriptor the model does
 * not know.
 */
static long customize_model(const struct netspec_customize *c)
{
	static const unsigned char zero[16];
	unsigned char pol[NETSPEC_EVENTS];
	const struct fd_info *f;
	int k;

	if (c->flags || (c->send_flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)))
		return -EINVAL;
	if (c->protocol != NETSPEC_PROTO_UDP && c->protocol != NETSPEC_PROTO_TCP)
		return -EPROTONOSUPPORT;
	k = kind_of(c->fd);
	if (k == K_UNKNOWN)
		return ANY;
	if (k == K_CLOSED)
		return -EBADF;
	if (k == K_PIPE || k == K_PROC)
		return -ENOTSOCK;
	/* The one TCP socket, an AF_INET one, is never connected. */
	if (c->protocol == NETSPEC_PROTO_TCP)
		return k != K_TCP ? -EPROTOTYPE :
		       c->family != AF_UNSPEC ? -EINVAL : -ENOTCONN;
	if (k == K_TCP || k == K_UNIX)
		return -EPROTOTYPE;
	f = &fds[k];
	if (f->adu && c->adu && c->adu != f->adu)
		return -EINVAL;
	if (adu_in_effect(c, f) > (f->v6 ? MAX_ADU_V6 : MAX_ADU_V4))
		return -EMSGSIZE;
	switch (c->family) {
	case AF_UNSPEC:
		if (c->port || memcmp(c->addr, zero, 16))
			return -EINVAL;
		if (!f->connected)
			return -EDESTADDRREQ;
		break;
	case AF_INET:
		if (f->v6)
			return -EAFNOSUPPORT;
		if (memcmp(c->addr + 4, zero, 12) || !c->port)
			return -EINVAL;
		break;
	case AF_INET6:
		if (!f->v6)
			return -EAFNOSUPPORT;
		if (!c->port)
			return -EINVAL;
		break;
	default:
		return -EAFNOSUPPORT;
	}
	if (f->shut)
		return -EPIPE;
	return resolve_policies(c->policy, pol);
}

/* A successful customize: what it wrote back, and the instance it got. */
static void customized_ok(long r, const struct netspec_customize *in,
			  const struct netspec_customize *out, int writable)
{
	static const unsigned char zero[8];
	int k = kind_of(in->fd), i;
	unsigned int adu, path;
	unsigned char pol[NETSPEC_EVENTS];

	if (r < 1 || r > MAX_TOKEN || held(r)) {
		fail(r, "a token out of range or already held");
		return;
	}
	if (k == K_UNKNOWN || k == K_CLOSED || resolve_policies(in->policy, pol)) {
		fail(r, "customize succeeded where the model says it cannot");
		return;
	}
	if (!writable) {
		fail(r, "customize succeeded with a read-only struct");
		return;
	}
	/* A new instance is specialized when it can be: an IPv4 socket with
	 * an ADU and a unicast route (the peers are 127.0.0.1; lo has only
	 * 127/8, whose last address is broadcast), far below
	 * net.netspec.max_versions.
	 */
	adu = adu_in_effect(in, &fds[k]);
	i = inst_find(fds[k].sock, adu, in, pol);
	path = i >= 0 ? insts[i].path :
	       adu && !fds[k].v6 && (in->family == AF_UNSPEC ||
				     (in->addr[0] == 127 &&
				      (in->addr[1] & in->addr[2] & in->addr[3]) != 255)) ?
	       NETSPEC_PATH_UDP4 : NETSPEC_PATH_GENERIC;
	if (out->token != r || out->adu != adu)
		fail(r, "token or ADU written back wrong");
	else if (memcmp(out->policy, pol, NETSPEC_EVENTS) ||
		 memcmp(out->policy + NETSPEC_EVENTS, zero, 8 - NETSPEC_EVENTS))
		fail(r, "policies written back wrong");
	else if (out->path != path)
		model_fail(r, i >= 0 ? "path is not the shared instance's" :
			   "path of a new instance");
	if (i < 0)
		i = inst_new(fds[k].sock, adu, in, pol, out->path);
	if (!in->adu && adu)
		n_so_adu_used++;
	token_add(r, i, k);
	customized++;
}

/* Whether any of the n bytes at p is not zero. */
static int memchr_nonzero(const unsigned char *p, unsigned long n)
{
	while (n--)
		if (*p++)
			return 1;
	return 0;
}

/*
 * An info of a usable token: its instance, exactly as the model has it;
 * the fields past size were not copied.  The policy bytes past the events
 * are zero, or what the caller passed in: netspec_info() copies only the
 * events' bytes into the struct it read from the caller.
 */
static void info_ok(long r, unsigned int t, const struct netspec_info *in,
		    const struct netspec_info *out, unsigned long size)
{
	const struct inst_model *m = &insts[tokens[t].inst];
	unsigned int e;

	if (out->protocol != NETSPEC_PROTO_UDP || out->adu != m->adu ||
	    out->send_flags != m->send_flags || out->family != m->family ||
	    out->port != m->port || memcmp(out->addr, m->addr, 16))
		fail(r, "info differs from the token's context");
	else if (out->path != m->path || out->users != m->users ||
		 out->sends != m->sends)
		model_fail(r, "info's path, users or sends");
	else if (out->fallbacks > out->sends ||
		 (!m->was_specialized && out->fallbacks))
		fail(r, "info counts fallbacks that cannot be");
	else if (size >= INFO_POLICY && out->trips != m->trips)
		model_fail(r, "info's trips");
	else if (size > INFO_REWRITES &&
		 memchr_nonzero((const unsigned char *)out + INFO_REWRITES,
				size - INFO_REWRITES < 8 ?
				size - INFO_REWRITES : 8))
		fail(r, "info counts rewrites with no route change");
	else if (size > INFO_MSS &&
		 memchr_nonzero((const unsigned char *)out + INFO_MSS,
				size - INFO_MSS < 8 ? size - INFO_MSS : 8))
		fail(r, "info reports an MSS for a UDP instance");
	for (e = 0; e < 8 && INFO_POLICY + e < size; e++)
		if (out->policy[e] != (e < NETSPEC_EVENTS ? m->policy[e] : 0)) {
			fail(r, "info's policies are not customize's");
			break;
		}
}

/* After a successful call: what the kernel wrote back must be right. */
static void check_output(unsigned int op, long r, const unsigned char *view,
			 const unsigned char *p, int writable, unsigned long size)
{
	union {
		struct netspec_query q;
		struct netspec_customize c;
		struct netspec_cancel x;
		struct netspec_info i;
	} in, out;

	memcpy(&in, view, struct_size[op]);
	memset(&out, 0, sizeof(out));
	if (writable)
		memcpy(&out, p, struct_size[op]);
	switch (op) {
	case NETSPEC_OP_CUSTOMIZE:
		customized_ok(r, &in.c, &out.c, writable);
		break;
	case NETSPEC_OP_CANCEL:
		if (held(in.x.token))
			token_del(in.x.token);
		break;
	case NETSPEC_OP_INFO:
		if (!usable(in.i.token))
			break;
		if (!writable)
			fail(r, "info succeeded with a read-only struct");
		else
			info_ok(r, in.i.token, &in.i, &out.i, size);
		break;
	case NETSPEC_OP_QUERY:
		if (!writable || out.q.abi_version != NETSPEC_ABI_VERSION ||
		    out.q.ops != 0xf || out.q.protocols != 3 || out.q.size != 32)
			fail(r, "query reports something else");
		break;
	}
}

/*
 * One netspec() call of operation op_raw (an unsigned int for the kernel;
 * on 64-bit, bits above it must not matter): makes the arguments, calls,
 * and checks the result against the model.
 */
static void netspec_random(struct op *o, unsigned long op_raw)
{
	unsigned int op = (unsigned int)op_raw;
	int known = op < N_NETSPEC_OPS;
	unsigned int ssize = struct_size[known ? op : 0];
	unsigned int sc = rnd() & 255, pc, i;
	unsigned long size;
	unsigned char *p, *tail = NULL;
	unsigned char view[MAX_STRUCT + 8] __attribute__((aligned(8)));
	int readable, tail_nonzero = 0, bad_flags = 0;
	long r, want;

	/* size: mostly exact */
	if (sc < 150)
		size = ssize;
	else if (sc < 160)
		size = 0;
	else if (sc < 175)
		size = below(ssize);
	else if (sc < 200)
		size = ssize + 1 + below(64);
	else if (sc < 215)
		size = ssize + 1 + below(PAGE - ssize);
	else if (sc < 222)
		size = PAGE;
	else if (sc < 229)
		size = PAGE + 1 + below(64);
	else if (sc < 236 && sizeof(long) > 4)
		size = (1UL << 16 << 16) + ssize;	/* a truncation would see ssize */
	else
		size = rnd_long() | (1UL << (sizeof(long) * 8 - 1 - below(19)));

	/* pointer: mostly a buffer */
	pc = rnd() & 255;
	pc = pc < 170 ? P_ARENA : pc < 180 ? P_MISALIGNED : pc < 200 ? P_RO :
	     below(P_STRADDLE + 1);
	if (chance(o->cheap))
		switch (rnd() & 3) {
		case 0:
			size = PAGE + 1 + (rnd() & 0xfffff);
			break;
		case 1:
			size = below(ver0_size[known ? op : 0]);
			break;
		case 2:
			size = ssize;
			pc = P_KERNEL;
			break;
		default:
			size = ssize;
			pc = P_ARENA;
			bad_flags = 1;
			break;
		}
	p = pointer(pc, size, known && chance(200) ? op : below(N_NETSPEC_OPS));

	/* contents of a buffer: valid, mutated or random */
	if (pc == P_ARENA || pc == P_MISALIGNED) {
		/* an unknown op gets the smallest struct's worth */
		unsigned int c = rnd() & 255, kind = known ? op : NETSPEC_OP_QUERY;

		if (c < 100) {
			valid_struct(kind, p);
		} else if (c < 220) {
			valid_struct(kind, p);
			mutate(p, ssize);
		} else {
			for (i = 0; i < ssize; i++)
				p[i] = rnd();
		}
		if (bad_flags)	/* every struct starts with its flags */
			p[0] = 1 + below(255);
		if (size > ssize && size <= PAGE && chance(100)) {
			tail = p + ssize + below(size - ssize);
			*tail = 1 + below(255);
			tail_nonzero = 1;
		}
	}
	readable = pc >= P_ARENA && size <= PAGE;
	if (readable) {
		memcpy(view, p, ssize);
		if (pc == P_RO)
			for (i = ssize; i < size; i++)
				tail_nonzero |= p[i];
	}

	/* What the arguments decide, in the order the kernel checks them. */
	if (size > PAGE)
		want = -E2BIG;
	else if (!known)
		want = -EOPNOTSUPP;
	else if (size < ver0_size[op])
		want = -EINVAL;
	else if (pc < P_STRADDLE)
		want = -EFAULT;
	else if (pc == P_STRADDLE)
		want = ANY;	/* EFAULT, or E2BIG if a non-zero tail came first */
	else if (tail_nonzero)
		want = -E2BIG;
	else if (op == NETSPEC_OP_QUERY)
		want = ((const struct netspec_query *)view)->flags ||
		       ((const struct netspec_query *)view)->__reserved ? -EINVAL :
		       pc == P_RO ? -EFAULT : 0;
	else if (op == NETSPEC_OP_CUSTOMIZE)
		want = customize_model((const void *)view);
	else if (op == NETSPEC_OP_CANCEL)
		want = ((const struct netspec_cancel *)view)->flags ? -EINVAL :
		       held(((const struct netspec_cancel *)view)->token) ? 0 :
		       -EBADF;
	else
		want = ((const struct netspec_info *)view)->flags ? -EINVAL :
		       !usable(((const struct netspec_info *)view)->token) ? -EBADF :
		       pc == P_RO ? -EFAULT : 0;
	if (op == NETSPEC_OP_CUSTOMIZE && want == 0 && pc == P_RO)
		want = -EFAULT;

	cur.call = C_NETSPEC;
	cur.a[0] = op_raw;
	cur.a[1] = (unsigned long)p;
	cur.a[2] = size;
	cur.pc = pc;
	cur.view = readable ? view : NULL;
	cur.view_len = size < ssize ? size : ssize;
	r = my_syscall3(__NR_netspec, op_raw, p, size);
	if (judge(o, r, want)) {
		if (!known)
			fail(r, "an unknown op succeeded");
		else
			check_output(op, r, view, p, pc != P_RO, size);
	} else if (op == NETSPEC_OP_INFO && want == -EBADF && r == -EBADF &&
		   held(((const struct netspec_info *)view)->token)) {
		n_dead_ebadf++;
	}

	if (pc == P_ARENA || pc == P_MISALIGNED) {
		/* The kernel writes back its own struct, nothing past it, and
		 * of a shorter one only what the caller's size covers.
		 */
		for (i = size; size < ssize && i < ssize; i++)
			if (p[i] != view[i]) {
				fail(r, "the kernel wrote past the caller's size");
				break;
			}
		if (!tail_nonzero)
			for (i = ssize; i < ssize + 8; i++)
				if (p[i])
					fail(r, "the kernel wrote past its struct");
		memset(p, 0, ssize);
		if (tail)
			*tail = 0;
	}
}

static void op_query(struct op *o)
{
	netspec_random(o, NETSPEC_OP_QUERY);
}

static void op_customize(struct op *o)
{
	/* With enough tokens held, cancel one instead of making another. */
	if (nlive >= LIVE_MAX) {
		struct netspec_cancel *c = (struct netspec_cancel *)ARENA;
		int t = live_list[below(nlive)];

		c->token = t;
		cur.call = C_NETSPEC;
		cur.a[0] = NETSPEC_OP_CANCEL;
		cur.a[1] = (unsigned long)c;
		cur.a[2] = sizeof(*c);
		cur.pc = P_ARENA;
		cur.view = NULL;
		if (judge(&ops[OP_CANCEL], netspec_call(NETSPEC_OP_CANCEL, c,
							sizeof(*c)), 0))
			token_del(t);
		c->token = 0;
		return;
	}
	netspec_random(o, NETSPEC_OP_CUSTOMIZE);
}

static void op_cancel(struct op *o)
{
	netspec_random(o, NETSPEC_OP_CANCEL);
}

static void op_info(struct op *o)
{
	unsigned long op = NETSPEC_OP_INFO;

	/* The kernel reads op as an unsigned int: high bits do not matter. */
	if (sizeof(long) > 4 && chance(16))
		op |= (unsigned long)(rnd() | 1) << 16 << 16;
	netspec_random(o, op);
}

static void op_unknown(struct op *o)
{
	netspec_random(o, chance(128) ? N_NETSPEC_OPS + below(60) :
			  chance(128) ? (rnd() | 0x80000000) : rnd() | N_NETSPEC_OPS);
}

/* ---- customized_send() ---------------------------------------------------------- */

static void op_send(struct op *o)
{
	unsigned long token_raw, len, flags_raw = 0;
	unsigned int bc = rnd() & 255;
	const struct token_model *t;
	struct inst_model *m = NULL;
	unsigned long q, rem = 0;
	unsigned int adu = 0, batch;
	unsigned char *buf;
	int pc, good;
	long r, want, n;

	token_raw = pick_token();
	if (chance(o->cheap)) {
		if (chance(128))
			token_raw = chance(128) ? 0 : MAX_TOKEN + 1 + below(1 << 20);
		else
			flags_raw = rnd() | 1;
	}
	if (sizeof(long) > 4 && chance(8))
		token_raw |= (unsigned long)rnd() << 16 << 16;	/* the kernel takes an int */
	t = held((int)token_raw) ? &tokens[(int)token_raw] : NULL;
	if (t) {
		m = &insts[t->inst];
		adu = m->adu;
	}

	good = t && flags_raw == 0 && chance(180);
	if (good) {
		len = adu ? adu : chance(248) ? below(1500) : below(65536 + 32);
		flags_raw = chance(200) ? 0 : MSG_DONTWAIT;
		if (adu && chance(8)) {	/* a batch, within sendbuf */
			q = udivmod(65536, adu, &rem);
			len = adu * (1 + below(q < 8 ? q : 8));
			flags_raw |= NETSPEC_SEND_BATCH;
		}
	} else {
		unsigned int lc = rnd() & 255;

		len = lc < 100 && t ? adu + (chance(128) ? 1 : -1UL) :
		      lc < 170 ? adus[below(N_ADUS)] :
		      lc < 200 ? below(2048) :
		      lc < 210 ? below(70000) :
		      lc < 230 ? 0 : rnd_long();
		if (!flags_raw)
			flags_raw = chance(150) ? 0 : chance(128) ? MSG_DONTWAIT :
				    chance(128) ? 1UL << below(32) : rnd_long();
	}

	if (good || bc < 180) {
		pc = P_ARENA;
		buf = sendbuf + (chance(200) ? 0 : 1 + below(63));
	} else if (bc < 200) {
		pc = P_RO;
		buf = RO(below(N_NETSPEC_OPS));
	} else {
		pc = below(P_STRADDLE + 1);
		buf = pointer(pc, len, 0);
	}

	batch = (unsigned int)flags_raw & NETSPEC_SEND_BATCH;
	if ((unsigned int)flags_raw & ~(MSG_DONTWAIT | NETSPEC_SEND_BATCH))
		want = -EINVAL;
	else if (!t || m->dead)
		want = -EBADF;	/* not held, or its socket was closed */
	else if (batch && (!adu || !len ||
			   udivmod(len, adu, &rem) > NETSPEC_BATCH_MAX || rem))
		want = -EINVAL;
	else if (!batch && adu && len != adu)
		want = -EINVAL;
	else
		want = ANY;	/* as send() on the socket would */

	cur.call = C_SEND;
	cur.a[0] = token_raw;
	cur.a[1] = (unsigned long)buf;
	cur.a[2] = len;
	cur.a[3] = flags_raw;
	cur.pc = pc;
	cur.view = NULL;
	cur.t = t;
	r = my_syscall4(__NR_customized_send, token_raw, buf, len, flags_raw);
	if (judge(o, r, want)) {
		/* A batch sends its messages in order until one fails. */
		q = batch && r > 0 ? udivmod(r, adu, &rem) : 1;
		if (batch ? r <= 0 || rem || (unsigned long)r > len :
			    (unsigned long)r != len)
			fail(r, "a send returned another length than it was given");
		n = q;
		if (m)
			m->sends += n;
		sent += n;
		n_batch_sent += batch ? n : 0;
	} else if (t && m->dead && r == -EBADF) {
		n_dead_ebadf++;
	}
}

/* ---- socket calls ---------------------------------------------------------------- */

static int udp6_socket(int connect_to_rx6, unsigned short *port)
{
	struct sockaddr_in6 s6 = { 0 };
	socklen_t l6 = sizeof(s6);
	long fd = net_socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	s6.sin6_family = AF_INET6;
	s6.sin6_addr.s6_addr[15] = 1;
	if (port) {
		if (net_bind(fd, &s6, sizeof(s6)) || net_getsockname(fd, &s6, &l6))
			return -1;
		*port = net_ntohs(s6.sin6_port);
	} else if (connect_to_rx6) {
		s6.sin6_port = net_htons(port6);
		if (net_connect(fd, &s6, sizeof(s6)))
			return -1;
	}
	return fd;
}

/* A new open file in slot k: a socket of its own, no SO_ADU. */
static void set_fd(int k, long fd, int v6, int connected)
{
	fds[k].fd = fd;
	fds[k].v6 = v6;
	fds[k].connected = connected;
	fds[k].shut = 0;
	fds[k].invalidate = chance(64);
	fds[k].sock = fd < 0 ? 0 : ++next_sock;
	fds[k].adu = 0;
}

/* The UDP sockets close() takes, in the order setup opens them. */
static const int reopenable[] = {
	K_UDP4_CONN, K_UDP4_DUP, K_UDP4_NONBLOCK, K_UDP4_REFUSED,
	K_UDP4_UNCONN, K_UDP6_CONN, K_UDP6_UNCONN, K_UDP4_SHUT,
};
#define N_REOPENABLE (sizeof(reopenable) / sizeof(reopenable[0]))

/* Opens the UDP socket of kind k (one of reopenable[]); 0 or -1. */
static int open_kind(int k)
{
	struct sockaddr_in sin = net_sin(LOOPBACK, port4);
	long fd;

	switch (k) {
	case K_UDP4_CONN:
		set_fd(k, net_udp_sender(LOOPBACK, port4), 0, 1);
		break;
	case K_UDP4_DUP:
		set_fd(k, my_syscall1(__NR_dup, fds[K_UDP4_CONN].fd), 0, 1);
		if (fds[k].fd >= 0) {	/* the same open socket */
			fds[k].sock = fds[K_UDP4_CONN].sock;
			fds[k].adu = fds[K_UDP4_CONN].adu;
		}
		break;
	case K_UDP4_NONBLOCK:
		fd = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fd >= 0 && net_connect(fd, &sin, sizeof(sin))) {
			close(fd);
			fd = -1;
		}
		set_fd(k, fd, 0, 1);
		break;
	case K_UDP4_REFUSED:
		set_fd(k, net_udp_sender(LOOPBACK, closed_port), 0, 1);
		break;
	case K_UDP4_UNCONN:
		set_fd(k, net_socket(AF_INET, SOCK_DGRAM, 0), 0, 0);
		break;
	case K_UDP6_CONN:
		set_fd(k, udp6_socket(1, NULL), 1, 1);
		break;
	case K_UDP6_UNCONN:
		set_fd(k, udp6_socket(0, NULL), 1, 0);
		break;
	case K_UDP4_SHUT:
		fd = net_udp_sender(LOOPBACK, port4);
		if (fd >= 0 && my_syscall2(__NR_shutdown, fd, SHUT_WR)) {
			close(fd);
			fd = -1;
		}
		set_fd(k, fd, 0, 1);
		fds[k].shut = 1;
		break;
	}
	return fds[k].fd < 0 ? -1 : 0;
}

static int is_udp(int k)
{
	return k >= K_UDP4_CONN && k <= K_UDP4_SHUT;
}

/* A descriptor for a socket call: mostly a UDP socket, now and then any. */
static int pick_kind(void)
{
	return chance(232) ? good_kinds[below(N_GOOD_KINDS)] :
			     1 + below(K_COUNT - 1);
}

static void socket_call(const char *name, long fd, unsigned long a1,
			unsigned long a2, unsigned long a3)
{
	cur.call = C_SOCKET;
	cur.name = name;
	cur.a[0] = fd;
	cur.a[1] = a1;
	cur.a[2] = a2;
	cur.a[3] = a3;
	cur.view = NULL;
}

/* What a setsockopt() or connect() on descriptor kind k meets before the
 * call's own checks: EBADF, ENOTSOCK, or EBUSY from a socket policy; else 0.
 */
static long guard_model(int k)
{
	if (k == K_CLOSED)
		return -EBADF;
	if (k == K_PIPE || k == K_PROC)
		return -ENOTSOCK;
	return guard_of(fds[k].sock) == 2 ? -EBUSY : 0;
}

/* After the call: the guard rejected it (EBUSY) or invalidated the
 * socket's specialized instances, whatever the call's own result.
 */
static void guard_result(int k, long r)
{
	if (k != K_CLOSED && k != K_PIPE && k != K_PROC)
		guard_apply(fds[k].sock, r == -EBUSY);
}

static void set_so_adu(unsigned int sock, unsigned int adu)
{
	int k;

	for (k = 1; k < K_COUNT; k++)
		if (fds[k].sock == sock)
			fds[k].adu = adu;
}

/*
 * setsockopt(), at any level and for any option, is a socket change: with
 * a specialized instance whose socket policy rejects it, EBUSY before the
 * option is even looked at; otherwise the specialized instances go to the
 * generic path and the option is set, or fails on its own.  Mostly SO_ADU.
 */
static void op_setsockopt(struct op *o)
{
	static const int odd_adus[] = { -1, 65508, 65535, 65536, 0x7fffffff };
	int k = pick_kind(), kind = kind_of(fds[k].fd), udp = is_udp(kind);
	int level = SOL_SOCKET, name, val;
	unsigned int len = 4, c = rnd() & 255;
	int *v = (int *)ARENA;
	long r, want;

	if (c < 180) {
		name = SO_ADU;
		val = chance(96) ? 0 : chance(224) ? (int)adus[below(N_ADUS)] :
		      chance(160) ? odd_adus[below(5)] : (int)rnd();
	} else if (c < 220 || !udp) {
		name = SO_PRIORITY;
		val = below(7);
	} else if (c < 240) {
		level = IPPROTO_IP_LEVEL;	/* on IPv6 sockets too */
		name = IP_TTL;
		val = 1 + below(255);
	} else {
		name = SO_UNKNOWN;
		val = rnd();
	}
	if (level == SOL_SOCKET && chance(8))
		len = below(4);

	want = guard_model(kind);
	if (!want && len < sizeof(int))
		want = -EINVAL;
	else if (!want && name == SO_ADU)
		want = !udp ? -ENOPROTOOPT : val < 0 || val > 65535 ? -EINVAL : 0;
	else if (!want && name == SO_UNKNOWN)
		want = -ENOPROTOOPT;

	*v = val;
	socket_call("setsockopt", fds[k].fd, level, name, val);
	r = my_syscall5(__NR_setsockopt, fds[k].fd, level, name, v, len);
	*v = 0;
	guard_result(kind, r);
	if (judge(o, r, want) && name == SO_ADU)
		set_so_adu(fds[kind].sock, val);
}

/* getsockopt(SO_ADU): what the last setsockopt() that succeeded set. */
static void op_getsockopt(struct op *o)
{
	int k = pick_kind(), kind = kind_of(fds[k].fd);
	int *v = (int *)ARENA;
	unsigned int *len = (unsigned int *)(ARENA + 8);
	long r, want;

	*v = -1;
	*len = chance(32) ? 8 : 4;
	want = kind == K_CLOSED ? -EBADF :
	       kind == K_PIPE || kind == K_PROC ? -ENOTSOCK :
	       !is_udp(kind) ? -ENOPROTOOPT : 0;
	socket_call("getsockopt", fds[k].fd, SOL_SOCKET, SO_ADU, *len);
	r = my_syscall5(__NR_getsockopt, fds[k].fd, SOL_SOCKET, SO_ADU, v, len);
	if (judge(o, r, want) && ((unsigned int)*v != fds[kind].adu || *len != 4))
		model_fail(r, "SO_ADU reads back another value");
	*v = 0;
	*len = 0;
}

/*
 * connect() is a socket change like setsockopt(): each UDP socket connects
 * again to its own peer, or, unconnected, to AF_UNSPEC (which changes
 * nothing the model knows; not the receivers, whose ports it would
 * unbind); an address length of 0 fails with EINVAL, but only after the
 * socket policies had their say.
 */
static void op_connect(struct op *o)
{
	static const int kinds[] = {
		K_UDP4_CONN, K_UDP4_DUP, K_UDP4_NONBLOCK, K_UDP4_REFUSED,
		K_UDP4_UNCONN, K_UDP6_CONN, K_UDP6_UNCONN, K_PIPE, K_CLOSED,
	};
	int k = kinds[below(chance(248) ? 7 : 9)], kind = kind_of(fds[k].fd);
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ARENA;
	struct sockaddr_in *sin = (struct sockaddr_in *)ARENA;
	unsigned int len;
	long r, want;

	if (!fds[k].connected) {
		len = sizeof(*sin);	/* sin_family 0: AF_UNSPEC */
	} else if (fds[k].v6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = net_htons(port6);
		s6->sin6_addr.s6_addr[15] = 1;
		len = sizeof(*s6);
	} else {
		*sin = net_sin(LOOPBACK, k == K_UDP4_REFUSED ? closed_port : port4);
		len = sizeof(*sin);
	}
	if (chance(16))
		len = 0;
	want = guard_model(kind);
	if (!want && !len)
		want = -EINVAL;

	socket_call("connect", fds[k].fd, (unsigned long)ARENA, len, 0);
	r = my_syscall3(__NR_connect, fds[k].fd, ARENA, len);
	memset(ARENA, 0, sizeof(*s6));
	guard_result(kind, r);
	judge(o, r, want);
}

/*
 * close() of a UDP socket, opened again at once (it gets the same number
 * back, the lowest free one).  Unless a dup() still has it, the socket is
 * released: its instances die, and their tokens fail with EBADF until they
 * are cancelled.
 */
static void op_close(struct op *o)
{
	int k = reopenable[below(N_REOPENABLE)];
	unsigned int sock = fds[k].sock;
	long r;

	if (fds[k].fd < 0)
		return;
	socket_call("close", fds[k].fd, 0, 0, 0);
	r = my_syscall1(__NR_close, fds[k].fd);
	judge(o, r, 0);
	fds[k].sock = 0;
	if (!sock_open(sock))
		sock_released(sock);
	if (open_kind(k))
		fail(-1, "cannot open the socket again");
}

/* ---- the op table -------------------------------------------------------------- */

static const int netspec_common[] = { EINVAL, E2BIG, EFAULT, 0 };
static const int customize_errnos[] = {
	EINVAL, E2BIG, EFAULT, EBADF, ENOTSOCK, EPROTONOSUPPORT, EPROTOTYPE,
	EAFNOSUPPORT, EDESTADDRREQ, ENOTCONN, EMSGSIZE, EPIPE, EMFILE, ENOMEM, 0
};
static const int token_errnos[] = { EINVAL, E2BIG, EFAULT, EBADF, 0 };
static const int unknown_errnos[] = { EOPNOTSUPP, E2BIG, 0 };
/* EBADF, EINVAL, EFAULT of its own; the rest as send(2) on a UDP socket
 * documents them, with udp(7) and ip(7) (routing and ICMP errors).
 */
static const int send_errnos[] = {
	EBADF, EINVAL, EFAULT, EAGAIN, ECONNREFUSED, EMSGSIZE, ENOBUFS,
	ENOMEM, EACCES, EPERM, ENETUNREACH, EHOSTUNREACH, EDESTADDRREQ,
	ENOTCONN, EPIPE, EINTR, 0
};
/* setsockopt(2), getsockopt(2) and connect(2), and EBUSY for a socket
 * policy that rejects the change (netspec.rst).
 */
static const int setsockopt_errnos[] = {
	EBADF, ENOTSOCK, EBUSY, EINVAL, ENOPROTOOPT, 0
};
static const int getsockopt_errnos[] = { EBADF, ENOTSOCK, ENOPROTOOPT, 0 };
static const int connect_errnos[] = { EBADF, ENOTSOCK, EBUSY, EINVAL, 0 };
static const int close_errnos[] = { 0 };

/*
 * The mix: most calls fail fast (a size over a page, a short struct, a
 * kernel pointer, a flag, a token not held), which keeps a million calls
 * affordable under TCG with KASAN; the rest make about 1% successful
 * customizes, cancels, infos and queries and 2-3% sends, which cost a
 * hundred times more.  About 1.4% are socket calls, a thousand of them
 * closes: each close of a socket with instances waits for an RCU grace
 * period.
 */
static struct op ops[N_OPS] = {
	[OP_CUSTOMIZE] = { "customize", 200, 184, op_customize, customize_errnos },
	[OP_CANCEL] = { "cancel", 120, 140, op_cancel, token_errnos },
	[OP_QUERY] = { "query", 60, 128, op_query, netspec_common },
	[OP_INFO] = { "info", 120, 108, op_info, token_errnos },
	[OP_UNKNOWN] = { "unknown-op", 60, 0, op_unknown, unknown_errnos },
	[OP_SEND] = { "customized_send", 450, 228, op_send, send_errnos },
	[OP_SETSOCKOPT] = { "setsockopt", 8, 0, op_setsockopt, setsockopt_errnos },
	[OP_GETSOCKOPT] = { "getsockopt", 2, 0, op_getsockopt, getsockopt_errnos },
	[OP_CONNECT] = { "connect", 3, 0, op_connect, connect_errnos },
	[OP_CLOSE] = { "close", 1, 0, op_close, close_errnos },
};

static struct op *pick_op(unsigned int total)
{
	unsigned int w = below(total), i;

	for (i = 0; i < N_OPS - 1; i++) {
		if (w < ops[i].weight)
			break;
		w -= ops[i].weight;
	}
	return &ops[i];
}

/* ---- setup ------------------------------------------------------------------- */

static long mprotect_pages(void *p, unsigned long len, int prot)
{
	return my_syscall3(__NR_mprotect, p, len, prot);
}

#define SYSCTL(name) "/proc/sys/net/netspec/" name

/* A number in a sysctl file, or -1. */
static int read_sysctl(const char *path)
{
	char text[32];

	return read_text(path, text, sizeof(text)) > 0 ? (int)parse_uint(text) : -1;
}

/*
 * A namespace of its own: its sysctls start at their defaults, and nothing
 * else sends or changes a route in it, so the model knows every instance's
 * path.  Each seed picks the namespace's default policies.
 */
static const char *setup_netns(void)
{
	int own = !net_unshare(CLONE_NEWNET), e;

	if (own && chance(64) &&
	    write_text(SYSCTL("socket_policy"), "2"))
		return "cannot set net.netspec.socket_policy";
	if (own && chance(64) &&
	    write_text(SYSCTL("route_policy"), "2"))
		return "cannot set net.netspec.route_policy";
	e = read_sysctl(SYSCTL("socket_policy"));
	default_policy[NETSPEC_EVENT_SOCKET] = e;
	if (e < 0)
		return "cannot read net.netspec.socket_policy";
	e = read_sysctl(SYSCTL("route_policy"));
	default_policy[NETSPEC_EVENT_ROUTE] = e;
	if (e < 0)
		return "cannot read net.netspec.route_policy";
	e = read_sysctl(SYSCTL("mss_policy"));
	default_policy[NETSPEC_EVENT_MSS] = e;
	if (e < 0)
		return "cannot read net.netspec.mss_policy";
	/* Eviction would put instances on the generic path behind its back. */
	if (read_sysctl(SYSCTL("max_versions")) <= LIVE_MAX)
		return "net.netspec.max_versions is not above the tokens held";
	kt_line("# fuzz: %s network namespace, default policies: socket %u, route %u, mss %u",
		own ? "own" : "init's", default_policy[NETSPEC_EVENT_SOCKET],
		default_policy[NETSPEC_EVENT_ROUTE],
		default_policy[NETSPEC_EVENT_MSS]);
	return NULL;
}

static const char *setup(void)
{
	const char *err = setup_netns();
	int pipefd[2], i;
	unsigned int k;
	long fd;

	if (err)
		return err;
	if (net_if_up("lo"))
		return "cannot bring lo up";
	rx4 = net_udp_receiver(LOOPBACK, &port4);
	rx6 = udp6_socket(0, &port6);
	if (rx4 < 0 || rx6 < 0)
		return "cannot bind the receivers";
	first_fd = rx4 < rx6 ? rx4 : rx6;
	set_fd(K_RX4, rx4, 0, 0);
	set_fd(K_RX6, rx6, 1, 0);

	/* A port nobody listens on: bind, note it, close. */
	fd = net_udp_receiver(LOOPBACK, &closed_port);
	if (fd < 0)
		return "cannot find a free port";
	close(fd);

	for (k = 0; k < N_REOPENABLE; k++)
		if (open_kind(reopenable[k]))
			return kind_names[reopenable[k]];
	set_fd(K_TCP, net_socket(AF_INET, SOCK_STREAM, 0), 0, 0);
	set_fd(K_UNIX, net_socket(1 /* AF_UNIX */, SOCK_DGRAM, 0), 0, 0);
	if (my_syscall2(__NR_pipe2, pipefd, 0))
		return "cannot make a pipe";
	/* One end; the other is closed, so the model knows every descriptor. */
	i = chance(128);
	set_fd(K_PIPE, pipefd[i], 0, 0);
	close(pipefd[!i]);
	set_fd(K_PROC, open("/proc/version", O_RDONLY, 0), 0, 0);
	/* Last, so that no later descriptor takes its number. */
	fd = open("/proc/version", O_RDONLY, 0);
	close(fd);
	set_fd(K_CLOSED, fd, 0, 0);
	for (i = 1; i < K_COUNT; i++)
		if (fds[i].fd < 0)
			return kind_names[i];

	/* Large receive queues, drained often: few datagrams dropped. */
	i = 1 << 20;
	net_setsockopt(rx4, SOL_SOCKET, SO_RCVBUF, &i, sizeof(i));
	net_setsockopt(rx6, SOL_SOCKET, SO_RCVBUF, &i, sizeof(i));

	for (i = 0; i < (int)sizeof(sendbuf); i++)
		sendbuf[i] = rnd();
	for (i = 0; i < N_NETSPEC_OPS; i++)
		valid_struct(i, RO(i));
	if (mprotect_pages(RO(0), 4 * PAGE, PROT_READ_ONLY) ||
	    mprotect_pages(GUARD, PAGE, PROT_NOACCESS) ||
	    munmap(HOLE, 2 * PAGE))
		return "cannot set up the memory";
	return NULL;
}

/* Reads the datagrams waiting at the receivers. */
static void drain(void)
{
	while (net_recvfrom(rx4, rbuf, sizeof(rbuf), MSG_DONTWAIT, NULL, NULL) >= 0)
		received++;
	while (net_recvfrom(rx6, rbuf, sizeof(rbuf), MSG_DONTWAIT, NULL, NULL) >= 0)
		received++;
}

/* ---- the run ------------------------------------------------------------------ */

static struct net_ts64 now(void)
{
	struct net_ts64 t = { 0, 0 };

#ifdef __NR_clock_gettime64
	my_syscall2(__NR_clock_gettime64, 1, &t);
#else
	my_syscall2(__NR_clock_gettime, 1, &t);
#endif
	return t;
}

/* Without a division: 4295 / 2^32 is 1.0000076e-6, 4294967 / 2^32 1e-3. */
static unsigned long long now_ms(void)
{
	struct net_ts64 t = now();

	return t.sec * 1000 + (((unsigned long long)(unsigned int)t.nsec * 4295) >> 32);
}

static unsigned long long now_us(void)
{
	struct net_ts64 t = now();

	return t.sec * 1000000 +
	       (((unsigned long long)(unsigned int)t.nsec * 4294967) >> 32);
}

/* A number after name= on the kernel command line, else dflt. */
static unsigned long long cmdline_number(const char *name, unsigned long long dflt)
{
	static char text[1024];
	unsigned long long v = 0;
	char *p;

	if (read_text("/proc/cmdline", text, sizeof(text)) < 0 ||
	    !(p = find(text, name)))
		return dflt;
	p += strlen(name);
	if (p[0] == '0' && p[1] == 'x') {
		for (p += 2;; p++) {
			int d = *p >= '0' && *p <= '9' ? *p - '0' :
				*p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;

			if (d < 0)
				break;
			v = v << 4 | d;
		}
		return v;
	}
	return parse_uint(p);
}

static void print_counts(void)
{
	unsigned int i, e;

	for (i = 0; i < N_OPS; i++) {
		struct kt_buf b = { .n = 0 };

		kt_puts(&b, ops[i].name);
		kt_puts(&b, ": calls ");
		kt_putu(&b, ops[i].calls, 10);
		kt_puts(&b, " ok ");
		kt_putu(&b, ops[i].ok, 10);
		if (ops[i].us) {
			kt_puts(&b, " us ");
			kt_putu(&b, ops[i].us, 10);
		}
		for (e = 1; e < ERRNO_SLOTS; e++) {
			if (!ops[i].err[e])
				continue;
			kt_putc(&b, ' ');
			kt_puts(&b, errno_name(e));
			kt_putc(&b, ' ');
			kt_putu(&b, ops[i].err[e], 10);
		}
		b.s[b.n] = 0;
		kt_line("# fuzz: %s", b.s);
	}
}

int main(void)
{
	unsigned long long seed, t0, ms;
	unsigned long i, ncalls, total_w = 0;
	const char *err;
	int t, left, bad_cancel = 0, still_held = 0, profile;
	unsigned int k;
	long r;

	kt_plan(1, 7);
	seed = cmdline_number("fuzz_seed=", 0);
	if (!seed) {
		struct net_ts64 ts = { 0, 0 };

#ifdef __NR_clock_gettime64
		my_syscall2(__NR_clock_gettime64, 1, &ts);
#else
		my_syscall2(__NR_clock_gettime, 1, &ts);
#endif
		seed = (unsigned long long)ts.nsec << 20 ^ ts.sec ^ 0x5eed;
	}
	rng = seed;
	ncalls = cmdline_number("fuzz_calls=", DEFAULT_CALLS);
	profile = cmdline_number("fuzz_profile=", 0);
	kt_line("# fuzz: seed 0x%llx (again: cargo xtask vm-test --append fuzz_seed=0x%llx fuzz)",
		seed, seed);

	err = setup();
	if (!kt_result(!err, "setup", "%s", err))
		return 1;
	for (k = 0; k < N_OPS; k++) {
		const int *e;

		for (e = ops[k].errnos; *e; e++)
			ops[k].documented[*e] = 1;
		total_w += ops[k].weight;
	}

	t0 = now_ms();
	for (i = 0; i < ncalls; ) {
		struct op *o = pick_op(total_w);

		if (profile) {
			unsigned long long t1 = now_us();

			unsigned long long us;

			o->run(o);
			us = now_us() - t1;
			o->us += us;
			if (last_r <= 0 && -last_r < ERRNO_SLOTS) {
				us_by_result[-last_r] += us;
				n_by_result[-last_r]++;
			}
		} else {
			o->run(o);
		}
		i = n_calls;
		if (!(i & 63))
			drain();
	}
	ms = now_ms() - t0;
	net_sleep_ms(20);
	drain();

	kt_line("# fuzz: %lu calls in %llu ms", n_calls, ms);
	print_counts();
	for (k = 0; k < ERRNO_SLOTS; k++)
		if (n_by_result[k])
			kt_line("# fuzz: profile: %s calls %lu us %llu", errno_name(k),
				n_by_result[k], us_by_result[k]);
	kt_line("# fuzz: customizes ok %lu, datagrams sent %lu (%lu in batches), received %lu",
		customized, sent, n_batch_sent, received);
	kt_line("# fuzz: guards: trips of rejected changes %lu, invalidations %lu, instances killed by a close %lu, EBADF of their tokens %lu; customizes that took SO_ADU %lu",
		n_rejected, n_invalidated, n_closed_live, n_dead_ebadf,
		n_so_adu_used);

	kt_result(!n_failed, "every_result_is_success_or_a_documented_errno",
		  "%lu bad results, the first: %s", n_failed, first_failure);
	kt_result(!n_model_failed, "every_result_is_the_one_the_arguments_decide",
		  "%lu unexpected results, the first: %s", n_model_failed,
		  first_model_failure);
	/* At least 0.5% of the calls each; every datagram received was sent. */
	kt_result(customized * 200 >= n_calls && sent * 200 >= n_calls &&
		  ops[OP_CANCEL].ok * 200 >= n_calls &&
		  ops[OP_INFO].ok * 200 >= n_calls && received && received <= sent,
		  "real_customizes_sends_cancels_and_infos_happened",
		  "customizes %lu sends %lu cancels %lu infos %lu received %lu",
		  customized, sent, ops[OP_CANCEL].ok, ops[OP_INFO].ok, received);

	kt_result(n_rejected && n_invalidated && n_closed_live && n_dead_ebadf &&
		  n_so_adu_used, "every_guard_was_exercised",
		  "rejected %lu invalidated %lu closed %lu EBADF %lu SO_ADU %lu",
		  n_rejected, n_invalidated, n_closed_live, n_dead_ebadf,
		  n_so_adu_used);

	/* Cancel what is held; then no token of this process may answer. */
	left = nlive;
	while (nlive) {
		t = live_list[0];
		r = netspec_cancel(t);
		if (r) {
			kt_line("# cancel of held token %d: %s", t, errname(r));
			bad_cancel++;
		}
		token_del(t);
	}
	for (t = 1; t <= MAX_TOKEN + 1; t++) {
		struct netspec_info in;

		if (netspec_info(t, &in) != -EBADF)
			still_held++;
	}
	kt_result(!bad_cancel && !still_held, "every_token_cancelled",
		  "%d of %d held tokens failed to cancel, %d tokens still answer",
		  bad_cancel, left, still_held);
	r = netspec_proc_has_pid(getpid());
	kt_result(r == 0, "no_instance_of_this_process_left",
		  r < 0 ? "cannot read /proc/net/netspec" :
		  "/proc/net/netspec still lists an instance of this process");
	return kt_exit_status();
}
