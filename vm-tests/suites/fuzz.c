// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input: random netspec() and customized_send() calls (200,000, or a
 * million with NETSPEC_LONG=1 in the environment), the descriptor calls
 * that release and copy tokens, and the socket calls that netspec's guards
 * watch.
 *
 * Each call is one entry of a table of operations (ops[] below), which makes
 * its arguments from a deterministic PRNG (xorshift64, seed printed; set it
 * with fuzz_seed=N on the kernel command line, e.g. cargo xtask vm-test
 * --append fuzz_seed=0x1234 fuzz): ops known and unknown, sizes short, exact,
 * larger with a zero or a non-zero tail, a page and over, huge; pointers
 * NULL, low, unmapped, PROT_NONE, kernel, misaligned, read-only, straddling
 * a PROT_NONE page, or a buffer with a valid, mutated or random struct;
 * policies valid, defaulted, of the other event or out of range; tokens
 * held, closed, duplicated, of a closed socket, never issued, descriptors
 * that are no token (the sockets, a pipe, a /proc file, the console), 0,
 * negative, huge, with high bits above the int; descriptors of UDP sockets
 * (IPv4 and IPv6, connected and not), TCP and UNIX sockets, a pipe, a /proc
 * file, a token, a closed one, random numbers.  Valid contexts on loopback
 * sockets make real customizations and sends, which two receivers drain.
 *
 * Tokens are descriptors: close() releases one (the cancel op), dup()
 * copies one (the instance's users count token files, not descriptors), and
 * now and then the program forks, and the child uses, customizes again and
 * closes what it inherited while the parent keeps its copies.  A few calls
 * are setsockopt() (SO_ADU, the options a UDP/IPv4 instance froze and some
 * it did not), getsockopt(SO_ADU) and connect() on those sockets, and
 * close() of one, which is then opened again: the socket policies (EBUSY
 * for a frozen option under reject; under invalidate and respecialize the
 * change goes through and the next send through each instance notices it),
 * SO_ADU and the EPIPE of a closed socket's tokens are fuzzed with the rest.
 * It runs in a network namespace of its own, whose default policies it
 * sets from the seed.
 *
 * Every result must be a success or an errno documented for that call
 * (include/uapi/linux/netspec.h, Documentation/networking/netspec.rst, and
 * send(2), udp(7) and ip(7) for what customized_send() passes on); and where
 * the arguments decide the result (a size over a page, an unknown op, a
 * descriptor that is no token, a flag, an unreadable struct...), it must be
 * exactly that one, which a model of the process's descriptors, its tokens,
 * their instances and the sockets' frozen state predicts: paths, users,
 * sends, fallbacks and trips, and the descriptor numbers the kernel hands
 * out (the lowest free one, O_CLOEXEC for a token); a socket a send went
 * out of is bound, and no datagram reaches the receivers from port 0, as
 * send() binds an unbound socket before it sends.  Before the end the
 * netspec generic netlink family must list exactly the model's instances;
 * then every token still held is closed, and neither a token nor an
 * instance of this process may be left.  init asks kmemleak for a scan
 * afterwards, and the host fails the run on any kernel report.
 *
 * Two more knobs on the kernel command line, for working on this program:
 * fuzz_calls=N makes N calls, and fuzz_profile=1 times every call (a clock
 * read each) and prints the time per op and per result.
 *
 * Guest code links no libgcc: no division or modulo by a variable and no
 * 64-bit division anywhere (ranges use a multiply-high, times use shifts).
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"
#include "text.h"
#include "genl.h"

/* The structs of the UAPI this program models: one published size each. */
_Static_assert(sizeof(struct netspec_query) == 48, "struct netspec_query");
_Static_assert(sizeof(struct netspec_customize) == 56, "struct netspec_customize");
_Static_assert(sizeof(struct netspec_info) == 112, "struct netspec_info");

#define PAGE 4096
#define CI_CALLS 200000UL
#define LONG_CALLS 1000000UL
#define LOOPBACK 0x7f000001
#define FD_SLOTS 512		/* every descriptor of this program is below */
#define LIVE_MAX 192		/* token descriptors held at once */
#define MAX_ADU_V4 (65535 - 8 - 20)
#define MAX_ADU_V6 (65535 - 8)
#define ERRNO_SLOTS 134		/* errnos 1..133 (EHWPOISON), generic numbering */
#define MAX_REPORTS 20
#define SHUT_WR 1
#define PROT_READ_ONLY 1
#define PROT_NOACCESS 0
#define N_NETSPEC_OPS 3		/* QUERY, CUSTOMIZE, INFO */
#define CLONE_NEWNET 0x40000000
#define IPPROTO_IP_LEVEL 0
#define SO_UNKNOWN 0x4e52	/* next to SO_ADU, and no socket option */
#define F_GETFD 1
#define FD_CLOEXEC 1

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

/* Whether any of the n bytes at p is not zero. */
static int memchr_nonzero(const unsigned char *p, unsigned long n)
{
	while (n--)
		if (*p++)
			return 1;
	return 0;
}

/* ---- memory --------------------------------------------------------------- */

/*
 * The only memory the kernel is ever pointed at, so that no random call can
 * corrupt the program: page-aligned, in .bss.
 *   pages 0-1  ARENA: argument structs, zero but where a call writes them;
 *   page 2     GUARD: PROT_NONE, right after the arena, for structs that
 *              straddle into it;
 *   pages 3-5  RO: read-only, page 3+n holds a valid struct of netspec op n;
 *   pages 6-7  HOLE: unmapped.
 */
static unsigned char mem[8 * PAGE] __attribute__((aligned(PAGE)));
#define ARENA (mem)
#define GUARD (mem + 2 * PAGE)
#define RO(n) (mem + (3 + (n)) * PAGE)
#define HOLE (mem + 6 * PAGE)

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

/*
 * What a descriptor number is.  Each kind but K_UNKNOWN and K_TOKEN has one
 * slot in fds[]; the K_CLOSED and K_TOKEN slots are set before every op to
 * a free number and to a token held (a free number if none is).
 */
enum fd_kind {
	K_UNKNOWN,	/* inherited (the console): no token, nothing else known */
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
	K_CLOSED,	/* a free number */
	K_TOKEN,	/* a token held */
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
	"unknown", "udp4-connected", "udp4-dup", "udp4-nonblock",
	"udp4-refused", "udp4-unconnected", "udp6-connected",
	"udp6-unconnected", "rx4", "rx6", "udp4-shut", "tcp", "unix", "pipe",
	"proc", "closed", "token",
};

/*
 * The socket state a UDP/IPv4 instance records and every send through it
 * compares (netspec_udp4_same()), as far as this program changes it: the
 * options it sets, and the source port, which an unconnected socket gets on
 * its first send or customize and loses to connect(AF_UNSPEC).
 */
struct sk_state {
	unsigned int mark;	/* SO_MARK */
	unsigned short sport;	/* network order, 0: not bound */
	unsigned char tos;	/* IP_TOS */
	unsigned char no_check;	/* SO_NO_CHECK */
	unsigned char pmtudisc;	/* IP_MTU_DISCOVER */
};

static int same_state(const struct sk_state *a, const struct sk_state *b)
{
	return a->mark == b->mark && a->sport == b->sport && a->tos == b->tos &&
	       a->no_check == b->no_check && a->pmtudisc == b->pmtudisc;
}

struct fd_info {
	int fd;
	unsigned char v6;	/* a UDP socket of AF_INET6 */
	unsigned char connected;
	unsigned char shut;
	unsigned char lenient;	/* the socket policy its customizes mostly ask */
	unsigned int sock;	/* the open socket, shared by dup(); 0 if none */
	unsigned int adu;	/* its SO_ADU */
	struct sk_state st;	/* its live state */
};

static struct fd_info fds[K_COUNT];
/* The kind of every descriptor number below FD_SLOTS; above, none is open. */
static unsigned char fd_kind[FD_SLOTS];
static int rx4 = -1, rx6 = -1;
static unsigned short port4, port6, closed_port;
static unsigned int next_sock;
/* net.netspec.socket_policy, route_policy and mss_policy */
static unsigned char default_policy[NETSPEC_EVENTS];
/* What the query reported at setup: every query must report it again. */
static struct netspec_query query0;
/* ADUs from this one up get the generic path (page fragments on lo). */
static unsigned int udp4_adu_limit;

/* The kind of descriptor fd, as far as the model knows it. */
static int kind_of(long fd)
{
	if (fd < 0 || fd >= FD_SLOTS)
		return K_CLOSED;
	return fd_kind[fd];
}

/* The lowest free descriptor: the one the kernel hands out next. */
static int lowest_free(void)
{
	int fd;

	for (fd = 0; fd < FD_SLOTS; fd++)
		if (fd_kind[fd] == K_CLOSED)
			return fd;
	return FD_SLOTS;
}

/* A free number: mostly a small one, now and then one above the table. */
static int free_fd(void)
{
	int fd;

	if (chance(16))
		return FD_SLOTS + below(1 << 16);
	for (fd = below(64); fd < FD_SLOTS; fd++)
		if (fd_kind[fd] == K_CLOSED)
			return fd;
	return FD_SLOTS;
}

/* Whether a descriptor still refers to socket s. */
static int sock_open(unsigned int s)
{
	int k;

	for (k = 1; k < K_COUNT; k++)
		if (fds[k].sock == s && k != K_CLOSED && k != K_TOKEN)
			return 1;
	return 0;
}

/* The live state of socket s (any descriptor of it has the same). */
static struct sk_state *sock_state(unsigned int s)
{
	static struct sk_state none;
	int k;

	for (k = 1; k < K_COUNT; k++)
		if (fds[k].sock == s && k != K_CLOSED && k != K_TOKEN)
			return &fds[k].st;
	return &none;
}

/* Sets the live state of socket s in every descriptor of it. */
static void sock_set_state(unsigned int s, const struct sk_state *st)
{
	struct sk_state copy = *st;
	int k;

	for (k = 1; k < K_COUNT; k++)
		if (fds[k].sock == s && k != K_CLOSED && k != K_TOKEN)
			fds[k].st = copy;
}

static int is_udp(int k)
{
	return k >= K_UDP4_CONN && k <= K_UDP4_SHUT;
}

/* The source port of the socket in slot k, network order, or 0. */
static unsigned short sock_port(int k)
{
	struct sockaddr_in6 s6;
	socklen_t len = sizeof(s6);

	memset(&s6, 0, sizeof(s6));
	if (net_getsockname(fds[k].fd, &s6, &len))
		return 0;
	return s6.sin6_port;	/* where sin_port is too */
}

/*
 * The UDP sockets the model thinks unbound: a send or a customize may
 * have bound them since (an autobind), which the instances' recorded state
 * must see.  One getsockname() each, only while unbound.
 */
static void sync_ports(void)
{
	struct sk_state st;
	int k;

	for (k = K_UDP4_CONN; k <= K_UDP4_SHUT; k++)
		if (fds[k].fd >= 0 && !fds[k].st.sport) {
			st = fds[k].st;
			st.sport = sock_port(k);
			if (st.sport)
				sock_set_state(fds[k].sock, &st);
		}
}

/* ---- the instance and token model -------------------------------------------- */

/*
 * An instance as net/netspec/inst.c keeps it: its context (the key under
 * which customizes share it, with the ADU in effect and the policies
 * resolved), path, the socket state a UDP/IPv4 one recorded, and its
 * counters.  Only this process's sockets have instances, so users, sends,
 * fallbacks and trips are known exactly.  A token file holds one; there are
 * never more instances than token files, nor files than token descriptors.
 */
struct inst_model {
	unsigned char used;
	unsigned char hashed;	/* in the table: a customize may share it */
	unsigned char dead;	/* its socket was released */
	unsigned char path;
	unsigned char policy[NETSPEC_EVENTS];
	unsigned short family, port;	/* as the struct has them */
	unsigned char addr[16];
	unsigned int sock, adu, send_flags, users;
	struct sk_state rec;	/* what a UDP/IPv4 instance was built for */
	unsigned long long sends, fallbacks, trips;
	unsigned long long id;	/* info's, once an info told it; else 0 */
};

static struct inst_model insts[LIVE_MAX + 1];

/* A token file: what customize opened; dup() and fork() copy descriptors. */
struct file_model {
	unsigned char used;
	unsigned char kind;	/* the descriptor it was customized on */
	unsigned short inst;
	unsigned short nfd;	/* this process's descriptors of it */
};

static struct file_model files[LIVE_MAX + 1];
static unsigned short tok_file[FD_SLOTS];	/* of each K_TOKEN descriptor */
static int live_list[LIVE_MAX + 1], nlive;
static unsigned int closed_tokens[16], nclosed;

/* Counts of what the guards did, for the final check. */
static unsigned long n_rejected, n_invalidated, n_respecialized;
static unsigned long n_closed_live, n_dead_epipe, n_so_adu_used;
static unsigned long n_bound_by_failed;
static unsigned long n_forks, n_child_sends, n_dups;

static struct inst_model *inst_of(int t)
{
	return &insts[files[tok_file[t]].inst];
}

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
	memcpy(insts[i].policy, pol, NETSPEC_EVENTS);
	insts[i].family = c->family;
	insts[i].port = c->port;
	memcpy(insts[i].addr, c->addr, 16);
	insts[i].sock = sock;
	insts[i].adu = adu;
	insts[i].send_flags = c->send_flags;
	insts[i].rec = *sock_state(sock);
	return i;
}

static void live_add(int t)
{
	fd_kind[t] = K_TOKEN;
	live_list[nlive++] = t;
}

/* A new token file for instance inst, at descriptor t. */
static void token_add(int t, int inst, int kind)
{
	int f;

	for (f = 0; f <= LIVE_MAX; f++)
		if (!files[f].used)
			break;
	files[f].used = 1;
	files[f].kind = kind;
	files[f].inst = inst;
	files[f].nfd = 1;
	insts[inst].users++;
	tok_file[t] = f;
	live_add(t);
}

/* Descriptor t is a copy of token descriptor from. */
static void token_dup(int t, int from)
{
	tok_file[t] = tok_file[from];
	files[tok_file[t]].nfd++;
	live_add(t);
}

/* Descriptor t is closed; its file with its last descriptor, and the
 * instance with its last file.
 */
static void token_del(int t)
{
	struct file_model *f = &files[tok_file[t]];
	int i;

	fd_kind[t] = K_CLOSED;
	if (!--f->nfd) {
		f->used = 0;
		if (!--insts[f->inst].users)
			insts[f->inst].used = 0;
	}
	for (i = 0; i < nlive; i++)
		if (live_list[i] == t) {
			live_list[i] = live_list[--nlive];
			break;
		}
	closed_tokens[nclosed++ & 15] = t;
}

/* A token descriptor of this process. */
static int held(long long t)
{
	return t >= 0 && t < FD_SLOTS && fd_kind[t] == K_TOKEN;
}

/* Held and its socket open: sends and info take it. */
static int usable(long long t)
{
	return held(t) && !inst_of(t)->dead;
}

/* The socket was released: its instances are dead, their tokens EPIPE. */
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

/* Whether a UDP/IPv4 instance froze option name at level (connect(): level
 * -1), as netspec_udp4_froze() lists them, for the options used here.
 */
static int froze(int level, int name)
{
	if (level < 0)
		return 1;
	if (level == SOL_SOCKET)
		return name == SO_ADU || name == SO_MARK || name == SO_NO_CHECK;
	if (level == IPPROTO_IP_LEVEL)
		return name == IP_TOS || name == IP_MTU_DISCOVER;
	return 0;
}

/* Whether socket s has a specialized instance that rejects a change of a
 * frozen option (__netspec_sock_change).
 */
static int rejects(unsigned int s)
{
	int i;

	for (i = 0; i <= LIVE_MAX; i++) {
		const struct inst_model *m = &insts[i];

		if (m->used && m->sock == s && !m->dead &&
		    m->path == NETSPEC_PATH_UDP4 &&
		    m->policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_REJECT)
			return 1;
	}
	return 0;
}

/* A refused change: a trip of every specialized instance that refused it. */
static void rejected(unsigned int s)
{
	int i;

	for (i = 0; i <= LIVE_MAX; i++) {
		struct inst_model *m = &insts[i];

		if (m->used && m->sock == s && !m->dead &&
		    m->path == NETSPEC_PATH_UDP4 &&
		    m->policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_REJECT) {
			m->trips++;
			n_rejected++;
		}
	}
}

/* A token number: mostly held ones, else every kind of bad one. */
static unsigned long pick_token(void)
{
	unsigned int c = rnd() & 255;

	if (c < 128 && nlive)
		return live_list[below(nlive)];
	if (c < 148 && nclosed)
		return closed_tokens[below(nclosed < 16 ? nclosed : 16)];
	if (c < 160) {	/* open, and no token */
		int k = 1 + below(K_CLOSED - 1);

		return fds[k].fd >= 0 ? (unsigned long)fds[k].fd : 1;
	}
	if (c < 170)
		return 0;
	if (c < 180)
		return (unsigned int)-1 - below(4);	/* -1..-4 as an int */
	if (c < 190)
		return 0x7fffffff;
	if (c < 200)
		return 0x80000000;
	if (c < 230)
		return below(FD_SLOTS + 8);
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
	OP_CUSTOMIZE, OP_CANCEL, OP_DUP, OP_QUERY, OP_INFO, OP_UNKNOWN, OP_SEND,
	OP_SETSOCKOPT, OP_GETSOCKOPT, OP_CONNECT, OP_CLOSE, OP_FORK, N_OPS
};
static struct op ops[N_OPS];

static unsigned long n_calls, n_failed, n_model_failed;
static unsigned long customized, sent, received, n_batch_sent, n_port0;
static char first_failure[512], first_model_failure[512];

enum { C_NETSPEC, C_SEND, C_SOCKET, C_FD, C_CHECK };

/* The current call, formatted only when it fails. */
static struct {
	int call;		/* C_NETSPEC, C_SEND, C_SOCKET or C_FD: name(fd, ...),
				 * C_CHECK: a check of name */
	const char *name;
	unsigned long a[4];	/* the raw arguments */
	int pc;			/* pointer class of a[1] */
	const unsigned char *view;	/* the struct the kernel read, or NULL */
	unsigned int view_len;
	const struct inst_model *m;	/* the token's instance, for a send */
	int kind;		/* the socket the token was customized on */
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
	"QUERY", "CUSTOMIZE", "INFO"
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

static void format_inst(struct kt_buf *b, const struct inst_model *m)
{
	kt_puts(b, " adu ");
	kt_putu(b, m->adu, 10);
	kt_puts(b, " path ");
	kt_putu(b, m->path, 10);
	kt_puts(b, " policy ");
	kt_putu(b, m->policy[0], 10);
	kt_putu(b, m->policy[1], 10);
	kt_putu(b, m->policy[2], 10);
	kt_puts(b, " users ");
	kt_putu(b, m->users, 10);
	kt_puts(b, " sends ");
	kt_putu(b, m->sends, 10);
	kt_puts(b, " trips ");
	kt_putu(b, m->trips, 10);
	if (m->dead)
		kt_puts(b, " (socket closed)");
}

static void format_call(struct kt_buf *b)
{
	unsigned int i, w;
	int k;

	if (cur.call == C_CHECK) {
		kt_puts(b, cur.name);
		if (cur.m)
			format_inst(b, cur.m);
		return;
	}
	if (cur.call == C_SOCKET || cur.call == C_FD) {
		k = kind_of(cur.a[0]);
		kt_puts(b, cur.name);
		kt_puts(b, "(fd=");
		kt_putu(b, cur.a[0], cur.call == C_FD ? 16 : 10);
		for (i = 1; cur.call == C_SOCKET && i < 4; i++) {
			kt_puts(b, ", ");
			kt_putu(b, cur.a[i], 16);
		}
		kt_puts(b, ") ");
		kt_puts(b, kind_names[k]);
		if (cur.call == C_SOCKET) {
			kt_puts(b, " SO_ADU ");
			kt_putu(b, fds[k].adu, 10);
			kt_puts(b, ", ");
			format_sock(b, fds[k].sock);
		} else if (cur.m) {
			format_inst(b, cur.m);
		}
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
		kt_puts(b, cur.m ? " token of " : " no token held");
		if (cur.m) {
			kt_puts(b, kind_names[cur.kind]);
			format_inst(b, cur.m);
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

/* A descriptor call (close, dup, fcntl) on fd, for the reports. */
static void fd_call(const char *name, unsigned long fd)
{
	cur.call = C_FD;
	cur.name = name;
	cur.a[0] = fd;
	cur.view = NULL;
	cur.m = held((unsigned int)fd) ? inst_of((unsigned int)fd) : NULL;
}

/* The descriptor the kernel handed out for a new file or a copy: the
 * lowest free one (want), and O_CLOEXEC exactly for a token.
 */
static int check_new_fd(long r, int want, int cloexec)
{
	long fl;

	if (r < 0 || r >= FD_SLOTS || fd_kind[r] != K_CLOSED) {
		fail(r, "a descriptor number that is taken or out of range");
		return 0;
	}
	if (r != want)
		model_fail(r, "not the lowest free descriptor");
	fl = my_syscall3(__NR_fcntl, r, F_GETFD, 0);
	if (fl != (cloexec ? FD_CLOEXEC : 0))
		fail(fl, cloexec ? "a token that is not O_CLOEXEC" :
		     "a dup() that is O_CLOEXEC");
	return 1;
}

/* ---- argument structs for netspec() ------------------------------------------ */

static const unsigned int struct_size[N_NETSPEC_OPS] = {
	sizeof(struct netspec_query), sizeof(struct netspec_customize),
	sizeof(struct netspec_info),
};
static const unsigned int ver0_size[N_NETSPEC_OPS] = {
	NETSPEC_QUERY_SIZE_VER0, NETSPEC_CUSTOMIZE_SIZE_VER0,
	NETSPEC_INFO_SIZE_VER0,
};
#define MAX_STRUCT 112	/* the largest: struct netspec_info */

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
 * socket whose customizes mostly ask to be invalidated or respecialized
 * lets frozen options and connect() through; on the others they mostly get
 * EBUSY.
 */
static void policies(unsigned char *p, int lenient)
{
	static const unsigned char sock_ok[] = {
		NETSPEC_POLICY_DEFAULT, NETSPEC_POLICY_REJECT,
		NETSPEC_POLICY_INVALIDATE, NETSPEC_POLICY_RESPECIALIZE,
	};
	static const unsigned char route_ok[] = {
		NETSPEC_POLICY_DEFAULT, NETSPEC_POLICY_INVALIDATE,
		NETSPEC_POLICY_RESPECIALIZE, NETSPEC_POLICY_REINFORCE,
	};
	/* The MSS takes the route's policies; UDP instances never use it. */
	const unsigned char *mss_ok = route_ok;

	memset(p, 0, 8);
	if (lenient && chance(248))
		p[NETSPEC_EVENT_SOCKET] =
			default_policy[NETSPEC_EVENT_SOCKET] == lenient &&
			chance(128) ? NETSPEC_POLICY_DEFAULT : lenient;
	else
		p[NETSPEC_EVENT_SOCKET] = sock_ok[below(4)];
	p[NETSPEC_EVENT_ROUTE] = route_ok[below(4)];
	p[NETSPEC_EVENT_MSS] = mss_ok[below(4)];
	if (chance(6))
		p[NETSPEC_EVENT_SOCKET] = chance(128) ? NETSPEC_POLICY_REINFORCE :
					  5 + below(251);
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
 * any descriptor the program holds (TCP, UNIX, a pipe, a token, a shut
 * socket...).
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
	policies(c->policy, fds[k].lenient);
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
		struct netspec_info i;
	} u;

	memset(&u, 0, sizeof(u));
	if (op == NETSPEC_OP_CUSTOMIZE)
		valid_customize(&u.c);
	else if (op == NETSPEC_OP_INFO)
		u.i.token = (int)pick_token();
	memcpy(p, &u, struct_size[op]);
}

/* Changes one to three fields of the n-byte struct at p. */
static void mutate(unsigned char *p, unsigned int n)
{
	static const unsigned int values[] = {
		0, 1, 2, 3, 4, 10, 0x40, 0x4000, 0x4040, 0xff, 0xffff, 4096,
		4097, 65507, 65508, 65527, 65528, 0x7fffffff, 0x80000000,
		0xffffffff,
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

/* The policies in effect, defaults resolved: 0, or an errno as
 * netspec_policies() decides, in its order: a byte past the events, then
 * event by event the reinforce policy of the route (EOPNOTSUPP without
 * netfilter; the program runs as root, so never EPERM) and a policy the
 * event does not take, by the bitmaps the query reported.
 */
static int resolve_policies(const unsigned char *in, unsigned char *out)
{
	int e;

	for (e = NETSPEC_EVENTS; e < 8; e++)
		if (in[e])
			return -EINVAL;
	for (e = 0; e < NETSPEC_EVENTS; e++) {
		if (e == NETSPEC_EVENT_ROUTE && in[e] == NETSPEC_POLICY_REINFORCE &&
		    !(query0.policies[e] & (1 << NETSPEC_POLICY_REINFORCE)))
			return -EOPNOTSUPP;
		if (in[e] >= 8 || (in[e] && !(query0.policies[e] & (1 << in[e]))))
			return -EINVAL;
		out[e] = in[e] ? in[e] : default_policy[e];
	}
	return 0;
}

/*
 * What a customize of struct c must return, checked in the order
 * net/netspec/inst.c checks it: an errno, 0 for a token, or ANY for a
 * descriptor the model does not know.
 */
static long customize_model(const struct netspec_customize *c)
{
	static const unsigned char zero[16];
	unsigned char pol[NETSPEC_EVENTS];
	const struct fd_info *f;
	int k;

	if (c->flags || (c->send_flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)))
		return -EINVAL;
	k = kind_of(c->fd);
	if (k == K_UNKNOWN)
		return ANY;
	if (k == K_CLOSED)
		return -EBADF;
	if (k == K_PIPE || k == K_PROC || k == K_TOKEN)
		return -ENOTSOCK;
	if (c->protocol != NETSPEC_PROTO_UDP && c->protocol != NETSPEC_PROTO_TCP)
		return -EPROTONOSUPPORT;
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

/*
 * The path a new instance takes: specialized when it can be, an IPv4
 * destination (of an IPv4 socket, or v4-mapped on an IPv6 one that is not
 * IPv6-only; the connected IPv6 sockets' peer is ::1) with an ADU
 * the path builds linearly and a unicast route (the peers are 127.0.0.1; lo
 * has only 127/8, whose last address is broadcast), far below
 * net.netspec.max_versions.
 */
static unsigned int new_path(const struct netspec_customize *c,
			     const struct fd_info *f, unsigned int adu)
{
	static const unsigned char v4_mapped[12] = {
		[10] = 0xff, [11] = 0xff,
	};
	const unsigned char *a = c->addr;

	if (!adu || adu >= udp4_adu_limit)
		return NETSPEC_PATH_GENERIC;
	if (c->family == AF_UNSPEC)
		return f->v6 ? NETSPEC_PATH_GENERIC : NETSPEC_PATH_UDP4;
	/* The IPv6 receiver is bound to ::1, which made it IPv6-only. */
	if (f == &fds[K_RX6])
		return NETSPEC_PATH_GENERIC;
	if (f->v6) {
		if (memcmp(a, v4_mapped, sizeof(v4_mapped)))
			return NETSPEC_PATH_GENERIC;
		a += 12;
	}
	return a[0] == 127 && (a[1] & a[2] & a[3]) != 255 ?
	       NETSPEC_PATH_UDP4 : NETSPEC_PATH_GENERIC;
}

/* A successful customize: what it wrote back, and the instance it got. */
static void customized_ok(long r, const struct netspec_customize *in,
			  const struct netspec_customize *out, int writable)
{
	static const unsigned char zero[8];
	int k = kind_of(in->fd), i;
	unsigned int adu, path;
	unsigned char pol[NETSPEC_EVENTS];

	if (!check_new_fd(r, lowest_free(), 1))
		return;
	if (k == K_UNKNOWN || k == K_CLOSED || resolve_policies(in->policy, pol)) {
		fail(r, "customize succeeded where the model says it cannot");
		return;
	}
	if (!writable) {
		fail(r, "customize succeeded with a read-only struct");
		return;
	}
	/* A new UDP/IPv4 instance bound its unbound socket: it records the
	 * port.
	 */
	sync_ports();
	adu = adu_in_effect(in, &fds[k]);
	i = inst_find(fds[k].sock, adu, in, pol);
	path = i >= 0 ? insts[i].path : new_path(in, &fds[k], adu);
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

/* What an info and the model say of the counters, for a failure report. */
static const char *info_diff(const struct netspec_info *out,
			     const struct inst_model *m)
{
	static struct kt_buf b;

	b.n = 0;
	kt_format(&b, "info (the model's in brackets): path %u [%u], users %u [%u], sends %llu [%llu], fallbacks %llu [%llu], trips %llu [%llu], reroutes %llu [0], rewrites %llu [0]; policies socket %u, route %u",
		  out->path, m->path, out->users, m->users, out->sends,
		  m->sends, out->fallbacks, m->fallbacks, out->trips, m->trips,
		  out->reroutes, out->rewrites,
		  m->policy[NETSPEC_EVENT_SOCKET], m->policy[NETSPEC_EVENT_ROUTE]);
	b.s[b.n] = 0;
	return b.s;
}

/*
 * An info of a usable token: its instance, exactly as the model has it.
 * The policy bytes past the events are zero; UDP instances hold no MSS, and
 * with no route change nothing is rerouted or rewritten.
 */
static void info_ok(long r, unsigned int t, const struct netspec_info *out)
{
	struct inst_model *m = inst_of(t);
	unsigned int e, i;

	if (out->flags || out->token != (int)t ||
	    out->protocol != NETSPEC_PROTO_UDP || out->adu != m->adu ||
	    out->send_flags != m->send_flags || out->family != m->family ||
	    out->port != m->port || memcmp(out->addr, m->addr, 16))
		fail(r, "info differs from the token's context");
	else if (out->path != m->path || out->users != m->users ||
		 out->sends != m->sends || out->fallbacks != m->fallbacks ||
		 out->trips != m->trips)
		model_fail(r, info_diff(out, m));
	else if (out->reroutes || out->rewrites)
		fail(r, info_diff(out, m));
	else if (out->mss || out->mss_clamp)
		fail(r, "info reports an MSS for a UDP instance");
	else if (!out->id || (m->id && out->id != m->id))
		fail(r, "info's id is zero or changed");
	for (e = 0; e < 8; e++)
		if (out->policy[e] != (e < NETSPEC_EVENTS ? m->policy[e] : 0)) {
			fail(r, "info's policies are not customize's");
			break;
		}
	if (!m->id) {
		for (i = 0; i <= LIVE_MAX; i++)
			if (insts[i].used && insts[i].id == out->id &&
			    !insts[i].dead && !m->dead)
				fail(r, "info's id is another instance's");
		m->id = out->id;
	}
}

/* After a successful call: what the kernel wrote back must be right. */
static void check_output(unsigned int op, long r, const unsigned char *view,
			 const unsigned char *p, int writable)
{
	union {
		struct netspec_query q;
		struct netspec_customize c;
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
	case NETSPEC_OP_INFO:
		if (!usable(in.i.token))
			break;
		if (!writable)
			fail(r, "info succeeded with a read-only struct");
		else
			info_ok(r, in.i.token, &out.i);
		break;
	case NETSPEC_OP_QUERY:
		if (!writable || r ||
		    memcmp(&out.q, &query0, sizeof(query0)))
			fail(r, "query reports something else than at setup");
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
	if (!known)
		want = -EOPNOTSUPP;	/* whatever the size */
	else if (size > PAGE)
		want = -E2BIG;
	else if (size < ver0_size[op])
		want = -EINVAL;
	else if (pc < P_STRADDLE)
		want = -EFAULT;
	else if (pc == P_STRADDLE)
		want = ANY;	/* EFAULT, or E2BIG if a non-zero tail came first */
	else if (tail_nonzero)
		want = -E2BIG;
	else if (op == NETSPEC_OP_QUERY)
		want = ((const struct netspec_query *)view)->flags ? -EINVAL :
		       pc == P_RO ? -EFAULT : 0;
	else if (op == NETSPEC_OP_CUSTOMIZE)
		want = customize_model((const void *)view);
	else {
		const struct netspec_info *in = (const void *)view;

		want = in->flags ? -EINVAL : !held(in->token) ? -EBADF :
		       inst_of(in->token)->dead ? -EPIPE :
		       pc == P_RO ? -EFAULT : 0;
	}
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
			check_output(op, r, view, p, pc != P_RO);
	} else if (op == NETSPEC_OP_INFO && want == -EPIPE && r == -EPIPE) {
		n_dead_epipe++;
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

/* close() of descriptor t, one the model holds as a token. */
static void close_token(struct op *o, int t)
{
	fd_call("close", t);
	if (judge(o, my_syscall1(__NR_close, t), 0))
		token_del(t);
}

static void op_customize(struct op *o)
{
	/* With enough tokens held, close one instead of making another. */
	if (nlive >= LIVE_MAX) {
		close_token(&ops[OP_CANCEL], live_list[below(nlive)]);
		return;
	}
	netspec_random(o, NETSPEC_OP_CUSTOMIZE);
}

/*
 * A number for close() or dup(), which take an unsigned int: a token or a
 * number that is not open, never another descriptor of the program's.
 */
static unsigned long fd_arg(struct op *o)
{
	unsigned long raw = pick_token();
	unsigned int fd;

	/* Mostly not a token held (a closed token's number is soon another
	 * token's): customizes succeed about as often as closes would, and
	 * the tokens held should rather grow to LIVE_MAX.
	 */
	if (held(raw) && chance(208))
		raw = free_fd();
	if (chance(o->cheap))
		raw = chance(128) ? (unsigned long)free_fd() :
		      chance(128) ? 0x80000000UL | rnd() : (unsigned int)-1;
	if (sizeof(long) > 4 && chance(8))
		raw |= (unsigned long)rnd() << 16 << 16;	/* not the fd's */
	fd = (unsigned int)raw;
	if (fd < FD_SLOTS && fd_kind[fd] != K_TOKEN && fd_kind[fd] != K_CLOSED)
		raw = free_fd();
	return raw;
}

/*
 * close(), the release of a token: 0 for a token held, whether its socket
 * is open or not; EBADF for a number that is not open.
 */
static void op_cancel(struct op *o)
{
	unsigned long raw = fd_arg(o);
	unsigned int fd = (unsigned int)raw;
	long r;

	fd_call("close", raw);
	r = my_syscall1(__NR_close, raw);
	if (judge(o, r, held(fd) ? 0 : -EBADF) && held(fd))
		token_del(fd);
}

/*
 * dup() of a token: another descriptor of the same token file (the lowest
 * free one, without O_CLOEXEC), which does not change the instance's users;
 * EBADF for a number that is not open.
 */
static void op_dup(struct op *o)
{
	unsigned long raw = fd_arg(o);
	unsigned int fd = (unsigned int)raw;
	int want_fd = lowest_free();
	long r;

	if (nlive >= LIVE_MAX && held(fd))
		raw = fd = (unsigned int)free_fd();
	fd_call("dup", raw);
	r = my_syscall1(__NR_dup, raw);
	if (judge(o, r, held(fd) ? 0 : -EBADF) &&
	    check_new_fd(r, want_fd, 0) && held(fd)) {
		token_dup(r, fd);
		n_dups++;
	}
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
			  chance(128) ? (rnd() | 0x80000000) : rnd() | 4);
}

/* ---- customized_send() ---------------------------------------------------------- */

/*
 * What a send that reaches instance m's path does to it, before it sends
 * anything: a specialized instance whose socket is no longer in the state
 * it recorded trips its socket guard (netspec_udp4_send()): respecialize
 * rebuilds it for the live state, and so do not the others (reject could
 * not refuse the change: it is an invalidation), which put it on the
 * generic path for good and send this message there, a fallback.
 * Returns 2 for a respecialization, 1 for an invalidation, else 0.
 */
static int sock_slot(unsigned int s);

static int send_trip(struct inst_model *m)
{
	struct sk_state *live = sock_state(m->sock);

	if (m->path != NETSPEC_PATH_UDP4 || same_state(&m->rec, live))
		return 0;
	m->trips++;
	if (m->policy[NETSPEC_EVENT_SOCKET] == NETSPEC_POLICY_RESPECIALIZE) {
		m->rec = *live;
		n_respecialized++;
		return 2;
	}
	m->path = NETSPEC_PATH_GENERIC;
	m->hashed = 0;
	n_invalidated++;
	return 1;
}

/*
 * After a send through instance m respecialized it: a respecialization for
 * an unbound socket (connect(AF_UNSPEC) unbinds one) binds it first, as
 * send() would, and records the port it got
 * (netspec_udp4_respecialize()), also when the send then fails (EFAULT
 * from its buffer).  Returns whether it bound the socket.
 */
static int respecialized_bound(struct inst_model *m)
{
	struct sk_state st = *sock_state(m->sock);
	int k = sock_slot(m->sock);

	if (m->rec.sport || k < 0)
		return 0;
	m->rec.sport = sock_port(k);
	if (!st.sport) {
		st.sport = m->rec.sport;
		sock_set_state(m->sock, &st);
	}
	return 1;
}

/*
 * After a send through instance m went out: its socket has a port, as
 * send() binds an unbound socket before it sends, and a token's datagrams
 * are those send() would build (netspec.rst).
 */
static void sent_bound(struct inst_model *m, long r)
{
	struct sk_state st = *sock_state(m->sock);
	int k = sock_slot(m->sock);

	if (st.sport || k < 0)
		return;
	st.sport = sock_port(k);
	sock_set_state(m->sock, &st);
	if (!st.sport)
		model_fail(r, "the socket is still unbound after a send: the datagram left from port 0, where send() binds a port first");
}

static void op_send(struct op *o)
{
	unsigned long token_raw, len, flags_raw = 0;
	unsigned int bc = rnd() & 255;
	struct inst_model *m = NULL;
	unsigned long q, rem = 0;
	unsigned int adu = 0, batch;
	unsigned char *buf;
	int pc, good, t, trip = 0;
	long r, want, n;

	token_raw = pick_token();
	if (chance(o->cheap)) {
		if (chance(128))
			token_raw = chance(128) ? 0 : (unsigned long)free_fd();
		else
			flags_raw = rnd() | 4;
	}
	if (sizeof(long) > 4 && chance(8))
		token_raw |= (unsigned long)rnd() << 16 << 16;	/* the kernel takes an int */
	t = (int)token_raw;
	if (held(t)) {
		m = inst_of(t);
		adu = m->adu;
	}

	good = m && flags_raw == 0 && chance(180);
	if (good) {
		len = adu ? adu : chance(248) ? below(1500) : below(65536 + 32);
		flags_raw = chance(200) ? 0 : NETSPEC_SEND_DONTWAIT;
		if (adu && chance(8)) {	/* a batch, within sendbuf */
			q = udivmod(65536, adu, &rem);
			len = adu * (1 + below(q < 8 ? q : 8));
			flags_raw |= NETSPEC_SEND_BATCH;
		}
	} else {
		unsigned int lc = rnd() & 255;

		len = lc < 100 && m ? adu + (chance(128) ? 1 : -1UL) :
		      lc < 170 ? adus[below(N_ADUS)] :
		      lc < 200 ? below(2048) :
		      lc < 210 ? below(70000) :
		      lc < 230 ? 0 : rnd_long();
		if (!flags_raw)
			flags_raw = chance(150) ? 0 :
				    chance(100) ? NETSPEC_SEND_DONTWAIT :
				    chance(80) ? NETSPEC_SEND_BATCH :
				    chance(128) ? MSG_DONTWAIT :
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

	/* In the order sys_customized_send() and netspec_send() check. */
	batch = (unsigned int)flags_raw & NETSPEC_SEND_BATCH;
	if ((unsigned int)flags_raw & ~(NETSPEC_SEND_DONTWAIT | NETSPEC_SEND_BATCH))
		want = -EINVAL;
	else if (!m)
		want = -EBADF;	/* not open, or not a token */
	else if (batch && (!adu || !len ||
			   udivmod(len, adu, &rem) > NETSPEC_BATCH_MAX || rem))
		want = -EINVAL;
	else if (!batch && adu && len != adu)
		want = -EINVAL;
	else if (m->dead)
		want = -EPIPE;	/* its socket was closed */
	else
		want = ANY;	/* as send() on the socket would */

	cur.call = C_SEND;
	cur.a[0] = token_raw;
	cur.a[1] = (unsigned long)buf;
	cur.a[2] = len;
	cur.a[3] = flags_raw;
	cur.pc = pc;
	cur.view = NULL;
	cur.m = m;
	cur.kind = m ? files[tok_file[t]].kind : 0;
	/* The message reaches the instance's path, which checks its socket. */
	if (want == ANY)
		trip = send_trip(m);
	r = my_syscall4(__NR_customized_send, token_raw, buf, len, flags_raw);
	if (trip == 2 && respecialized_bound(m) && r < 0)
		n_bound_by_failed++;
	if (judge(o, r, want)) {
		/* A batch sends its messages in order until one fails. */
		q = batch && r > 0 ? udivmod(r, adu, &rem) : 1;
		if (batch ? r <= 0 || rem || (unsigned long)r > len :
			    (unsigned long)r != len)
			fail(r, "a send returned another length than it was given");
		n = q;
		if (m) {
			m->sends += n;
			/* the first message went through the generic path */
			m->fallbacks += trip == 1;
			sent_bound(m, r);
		}
		sent += n;
		n_batch_sent += batch ? n : 0;
	} else if (m && m->dead && r == -EPIPE) {
		n_dead_epipe++;
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

/*
 * A new open file in slot k: a socket of its own, no SO_ADU, its state read
 * from the socket.
 */
static int set_fd(int k, long fd, int v6, int connected)
{
	fds[k].fd = fd;
	fds[k].v6 = v6;
	fds[k].connected = connected;
	fds[k].shut = 0;
	fds[k].lenient = chance(96) ? (chance(128) ? NETSPEC_POLICY_INVALIDATE :
				       NETSPEC_POLICY_RESPECIALIZE) : 0;
	fds[k].sock = fd < 0 ? 0 : ++next_sock;
	fds[k].adu = 0;
	memset(&fds[k].st, 0, sizeof(fds[k].st));
	if (fd < 0 || fd >= FD_SLOTS)
		return -1;
	fd_kind[fd] = k;
	if (is_udp(k)) {
		fds[k].st.sport = sock_port(k);
		fds[k].st.tos = net_getsockopt_int(fd, IPPROTO_IP_LEVEL, IP_TOS);
		fds[k].st.pmtudisc = net_getsockopt_int(fd, IPPROTO_IP_LEVEL,
							IP_MTU_DISCOVER);
	}
	return 0;
}

/* The UDP sockets close() takes, in the order setup opens them. */
static const int reopenable[] = {
	K_UDP4_CONN, K_UDP4_DUP, K_UDP4_NONBLOCK, K_UDP4_REFUSED,
	K_UDP4_UNCONN, K_UDP6_CONN, K_UDP6_UNCONN, K_UDP4_SHUT,
};
#define N_REOPENABLE (sizeof(reopenable) / sizeof(reopenable[0]))

/*
 * Opens the UDP socket of kind k (one of reopenable[]), at the lowest free
 * descriptor; 0 or -1.
 */
static int open_kind(int k)
{
	struct sockaddr_in sin = net_sin(LOOPBACK, port4);
	int err = 0, want = lowest_free();
	long fd;

	switch (k) {
	case K_UDP4_CONN:
		err = set_fd(k, net_udp_sender(LOOPBACK, port4), 0, 1);
		break;
	case K_UDP4_DUP:
		err = set_fd(k, my_syscall1(__NR_dup, fds[K_UDP4_CONN].fd), 0, 1);
		if (!err) {	/* the same open socket */
			fds[k].sock = fds[K_UDP4_CONN].sock;
			fds[k].adu = fds[K_UDP4_CONN].adu;
			fds[k].st = fds[K_UDP4_CONN].st;
		}
		break;
	case K_UDP4_NONBLOCK:
		fd = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fd >= 0 && net_connect(fd, &sin, sizeof(sin))) {
			close(fd);
			fd = -1;
		}
		err = set_fd(k, fd, 0, 1);
		break;
	case K_UDP4_REFUSED:
		err = set_fd(k, net_udp_sender(LOOPBACK, closed_port), 0, 1);
		break;
	case K_UDP4_UNCONN:
		err = set_fd(k, net_socket(AF_INET, SOCK_DGRAM, 0), 0, 0);
		break;
	case K_UDP6_CONN:
		err = set_fd(k, udp6_socket(1, NULL), 1, 1);
		break;
	case K_UDP6_UNCONN:
		err = set_fd(k, udp6_socket(0, NULL), 1, 0);
		break;
	case K_UDP4_SHUT:
		fd = net_udp_sender(LOOPBACK, port4);
		if (fd >= 0 && my_syscall2(__NR_shutdown, fd, SHUT_WR)) {
			close(fd);
			fd = -1;
		}
		err = set_fd(k, fd, 0, 1);
		fds[k].shut = 1;
		break;
	}
	if (!err && fds[k].fd != want) {
		kt_line("# %s: descriptor %d, not the lowest free one, %d",
			kind_names[k], fds[k].fd, want);
		err = -1;
	}
	return err;
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

/* What a setsockopt() or connect() (level -1) on descriptor kind k meets
 * before the call's own checks: EBADF, ENOTSOCK, or EBUSY from the reject
 * policy of a specialized instance that froze it; else 0.
 */
static long guard_model(int k, int level, int name)
{
	if (k == K_CLOSED)
		return -EBADF;
	if (k == K_PIPE || k == K_PROC || k == K_TOKEN)
		return -ENOTSOCK;
	return froze(level, name) && rejects(fds[k].sock) ? -EBUSY : 0;
}

static void set_so_adu(unsigned int sock, unsigned int adu)
{
	int k;

	for (k = 1; k < K_COUNT; k++)
		if (fds[k].sock == sock && k != K_CLOSED && k != K_TOKEN)
			fds[k].adu = adu;
}

/*
 * setsockopt(): the reject policy of a specialized instance refuses, with
 * EBUSY before the option is even looked at, a change of an option the
 * instance froze (SO_ADU, SO_MARK, SO_NO_CHECK, IP_TOS, IP_MTU_DISCOVER
 * here), and lets every other one through (SO_PRIORITY, SO_SNDBUF, IP_TTL,
 * an unknown one).  Under the other policies the change goes through, and the next
 * send through each instance finds it (send_trip()).  Mostly SO_ADU.
 */
static void op_setsockopt(struct op *o)
{
	static const int odd_adus[] = { -1, 65508, 65535, 65536, 0x7fffffff };
	static const unsigned char toss[] = { 0, 0, 4, 8, 0x10, 0x20, 0xb8, 2 };
	int k = pick_kind(), kind = kind_of(fds[k].fd), udp = is_udp(kind);
	int level = SOL_SOCKET, name, val;
	unsigned int len = 4, c = rnd() & 255;
	int *v = (int *)ARENA;
	struct sk_state st;
	long r, want;

	if (c < 150) {
		name = SO_ADU;
		val = chance(96) ? 0 : chance(224) ? (int)adus[below(N_ADUS)] :
		      chance(160) ? odd_adus[below(5)] : (int)rnd();
	} else if (c < 170 || !udp) {
		name = chance(192) ? SO_PRIORITY : SO_SNDBUF;
		val = name == SO_PRIORITY ? (int)below(7) : 1 << (18 + below(3));
	} else if (c < 190) {
		level = IPPROTO_IP_LEVEL;	/* on IPv6 sockets too */
		name = IP_TTL;
		val = 1 + below(255);
	} else if (c < 205) {
		level = IPPROTO_IP_LEVEL;
		name = IP_TOS;
		val = toss[below(8)];
	} else if (c < 215) {
		name = SO_NO_CHECK;
		val = chance(128) ? 0 : chance(128) ? 1 : (int)rnd();
	} else if (c < 225) {
		name = SO_MARK;
		val = chance(128) ? 0 : chance(128) ? 1 + below(3) : (int)rnd();
	} else if (c < 240) {
		level = IPPROTO_IP_LEVEL;
		name = IP_MTU_DISCOVER;
		val = below(7);	/* IP_PMTUDISC_DONT..OMIT, and one more */
	} else {
		name = SO_UNKNOWN;
		val = rnd();
	}
	if (level == SOL_SOCKET && chance(8))
		len = below(4);

	want = guard_model(kind, level, name);
	if (!want && len < sizeof(int))
		want = -EINVAL;
	else if (!want && name == SO_ADU)
		want = !udp ? -ENOPROTOOPT : val < 0 || val > 65535 ? -EINVAL : 0;
	else if (!want && name == IP_MTU_DISCOVER && level == IPPROTO_IP_LEVEL)
		want = val > 5 ? -EINVAL : 0;
	else if (!want && name == SO_UNKNOWN)
		want = -ENOPROTOOPT;

	*v = val;
	socket_call("setsockopt", fds[k].fd, level, name, val);
	r = my_syscall5(__NR_setsockopt, fds[k].fd, level, name, v, len);
	*v = 0;
	if (r == -EBUSY && want == -EBUSY)
		rejected(fds[kind].sock);
	if (!judge(o, r, want) || !udp)
		return;
	st = *sock_state(fds[kind].sock);
	if (name == SO_ADU)
		set_so_adu(fds[kind].sock, val);
	else if (name == SO_MARK)
		st.mark = val;
	else if (name == SO_NO_CHECK)
		st.no_check = !!val;
	else if (name == IP_TOS && level == IPPROTO_IP_LEVEL)
		st.tos = val;
	else if (name == IP_MTU_DISCOVER && level == IPPROTO_IP_LEVEL)
		st.pmtudisc = val;
	sock_set_state(fds[kind].sock, &st);
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
	       kind == K_PIPE || kind == K_PROC || kind == K_TOKEN ? -ENOTSOCK :
	       !is_udp(kind) ? -ENOPROTOOPT : 0;
	socket_call("getsockopt", fds[k].fd, SOL_SOCKET, SO_ADU, *len);
	r = my_syscall5(__NR_getsockopt, fds[k].fd, SOL_SOCKET, SO_ADU, v, len);
	if (judge(o, r, want) && ((unsigned int)*v != fds[kind].adu || *len != 4))
		model_fail(r, "SO_ADU reads back another value");
	*v = 0;
	*len = 0;
}

/*
 * connect() is a change a specialized instance froze: each UDP socket
 * connects again to its own peer (which changes nothing an instance
 * recorded), or, unconnected, to AF_UNSPEC, which unbinds its port (not the
 * receivers, whose ports it would unbind); an address length of 0 fails
 * with EINVAL, but only after the socket policies had their say.
 */
static void op_connect(struct op *o)
{
	static const int kinds[] = {
		K_UDP4_CONN, K_UDP4_DUP, K_UDP4_NONBLOCK, K_UDP4_REFUSED,
		K_UDP4_UNCONN, K_UDP6_CONN, K_UDP6_UNCONN, K_PIPE, K_CLOSED,
		K_TOKEN,
	};
	int k = kinds[below(chance(248) ? 7 : 10)], kind = kind_of(fds[k].fd);
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ARENA;
	struct sockaddr_in *sin = (struct sockaddr_in *)ARENA;
	struct sk_state st;
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
	want = guard_model(kind, -1, 0);
	if (!want && !len)
		want = -EINVAL;

	socket_call("connect", fds[k].fd, (unsigned long)ARENA, len, 0);
	r = my_syscall3(__NR_connect, fds[k].fd, ARENA, len);
	memset(ARENA, 0, sizeof(*s6));
	if (r == -EBUSY && want == -EBUSY)
		rejected(fds[kind].sock);
	if (judge(o, r, want) && is_udp(kind) && !fds[kind].connected) {
		st = *sock_state(fds[kind].sock);
		st.sport = sock_port(kind);	/* 0: __udp_disconnect() */
		sock_set_state(fds[kind].sock, &st);
	}
}

/*
 * close() of a UDP socket, opened again at once (it gets the lowest free
 * number).  Unless a dup() still has it, the socket is released: its
 * instances die, and their tokens fail with EPIPE until they are closed.
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
	fd_kind[fds[k].fd] = K_CLOSED;
	fds[k].sock = 0;
	if (!sock_open(sock))
		sock_released(sock);
	if (open_kind(k))
		fail(-1, "cannot open the socket again");
}

/* ---- fork ------------------------------------------------------------------------ */

/* A slot of a descriptor of socket s, or -1. */
static int sock_slot(unsigned int s)
{
	int k;

	for (k = 1; k < K_COUNT; k++)
		if (fds[k].sock == s && k != K_CLOSED && k != K_TOKEN &&
		    fds[k].fd >= 0)
			return k;
	return -1;
}

/*
 * A token whose context a customize can share again exactly: its instance
 * published, its socket open with no other SO_ADU, and no socket change
 * pending for its next send.  -1 if there is none.
 */
static int fork_candidate(void)
{
	int cand[LIVE_MAX + 1], n = 0, i, k;

	for (i = 0; i < nlive; i++) {
		struct inst_model *m = inst_of(live_list[i]);

		k = m->dead || !m->hashed ? -1 : sock_slot(m->sock);
		if (k < 0 || (fds[k].adu && fds[k].adu != m->adu) ||
		    (m->path == NETSPEC_PATH_UDP4 &&
		     !same_state(&m->rec, &fds[k].st)))
			continue;
		cand[n++] = live_list[i];
	}
	return n ? cand[below(n)] : -1;
}

static const char *const child_failures[] = {
	"the child's info of an inherited token is not the parent's",
	"the child's send through an inherited token failed as no send() can",
	"the child's customize of the same context did not share the instance",
	"the child's own token did not add a user to the instance",
	"the child could not close an inherited token",
	"the child's token lost a user when the child closed its copy of another",
	"the child's send failed as no send() can once it closed its copies of the socket",
};

/* A send through a token held, whose socket is open: never EBADF, EPIPE or
 * EINVAL (the length is the ADU), and all or nothing.
 */
static int child_send(int t, unsigned int len, unsigned int *n)
{
	long r = netspec_send(t, sendbuf, len, 0);

	if (r == (long)len)
		++*n;
	return r >= 0 ? r != (long)len :
	       r == -EBADF || r == -EPIPE || r == -EINVAL;
}

/*
 * The child: its copy of token t is the parent's token file, so info shows
 * the parent's counts and no more users; a customize of the same context
 * shares the instance and adds a token file; closing its copies of t and
 * of the socket releases neither, since the parent holds both.  Exits with
 * the messages it sent, or 128 | the checks that failed.
 */
static void fork_child(int t)
{
	struct netspec_customize c;
	struct netspec_info in;
	struct inst_model *m;
	unsigned int bad = 0, n = 0, len;
	int k, t2;

	if (t < 0)
		exit(0);
	m = inst_of(t);
	len = m->adu ? m->adu : 64;
	if (netspec_info(t, &in) || in.users != m->users || in.sends != m->sends)
		bad |= 1;
	if (child_send(t, len, &n))
		bad |= 2;
	memset(&c, 0, sizeof(c));
	c.fd = fds[sock_slot(m->sock)].fd;
	c.protocol = NETSPEC_PROTO_UDP;
	c.adu = m->adu;
	c.send_flags = m->send_flags;
	c.family = m->family;
	c.port = m->port;
	memcpy(c.addr, m->addr, 16);
	memcpy(c.policy, m->policy, NETSPEC_EVENTS);
	t2 = netspec_customize(&c);
	if (t2 < 0 || c.path != m->path)
		bad |= 4;
	else if (netspec_info(t2, &in) || in.users != m->users + 1 ||
		 in.sends != m->sends + n)
		bad |= 8;
	if (netspec_close(t))
		bad |= 16;
	for (k = 1; k < K_COUNT; k++)
		if (k != K_CLOSED && k != K_TOKEN && fds[k].fd >= 0 &&
		    fds[k].sock == m->sock)
			close(fds[k].fd);
	if (t2 >= 0) {
		if (netspec_info(t2, &in) || in.users != m->users + 1)
			bad |= 32;
		if (child_send(t2, len, &n))
			bad |= 64;
	}
	exit(bad ? 128 | bad : (int)n);
}

/*
 * fork(): the child gets a copy of every descriptor, tokens included
 * (fork_child()).  Once it is gone, with its copies and its own token, the
 * parent's token has the users it had, and the sends the child made.
 */
static void op_fork(struct op *o)
{
	int t = fork_candidate(), status = 0, code, i;
	struct inst_model *m = t >= 0 ? inst_of(t) : NULL;
	struct netspec_info in;
	long pid, r;

	fd_call("fork (the child sends through, customizes again, closes)", t);
	pid = fork();
	if (pid == 0)
		fork_child(t);
	r = pid < 0 ? pid : waitpid(pid, &status, 0);
	if (!judge(o, r == pid ? 0 : r, 0))
		return;
	n_forks++;
	code = WEXITSTATUS(status);
	if (!WIFEXITED(status)) {
		fail(status, "the child was killed");
	} else if (code & 128) {
		for (i = 0; i < 7; i++)
			if (code & (1 << i)) {
				model_fail(code, child_failures[i]);
				break;
			}
	} else if (m) {
		m->sends += code;
		sent += code;
		n_child_sends += code;
	}
	if (m && (netspec_info(t, &in) || in.users != m->users ||
		  in.sends != m->sends))
		model_fail(in.users, "the parent's token after the child is gone");
}

/* ---- the op table -------------------------------------------------------------- */

static const int netspec_common[] = { EINVAL, E2BIG, EFAULT, 0 };
static const int customize_errnos[] = {
	EINVAL, E2BIG, EFAULT, EBADF, ENOTSOCK, EPROTONOSUPPORT, EPROTOTYPE,
	EAFNOSUPPORT, EDESTADDRREQ, ENOTCONN, EMSGSIZE, EPIPE, EMFILE, ENFILE,
	ENOMEM, EOPNOTSUPP, EPERM, 0
};
static const int info_errnos[] = { EINVAL, E2BIG, EFAULT, EBADF, EPIPE, 0 };
static const int close_token_errnos[] = { EBADF, 0 };
static const int dup_errnos[] = { EBADF, EMFILE, 0 };
static const int unknown_errnos[] = { EOPNOTSUPP, 0 };
/* EBADF, EPIPE, EINVAL, EFAULT of its own; the rest as send(2) on a UDP
 * socket documents them, with udp(7) and ip(7) (routing and ICMP errors).
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
	EBADF, ENOTSOCK, EBUSY, EINVAL, ENOPROTOOPT, EPERM, 0
};
static const int getsockopt_errnos[] = { EBADF, ENOTSOCK, ENOPROTOOPT, 0 };
static const int connect_errnos[] = { EBADF, ENOTSOCK, EBUSY, EINVAL, 0 };
static const int no_errnos[] = { 0 };

/*
 * The mix: most calls fail fast (a size over a page, a short struct, a
 * kernel pointer, a flag, a descriptor that is no token), which keeps the
 * calls affordable under TCG with KASAN; the rest make about 1% successful
 * customizes, closes, infos and queries and 2-3% sends, which cost a
 * hundred times more.  About 1.4% are socket calls, one in a thousand a
 * close of a socket, and one in a thousand a fork.
 */
static struct op ops[N_OPS] = {
	[OP_CUSTOMIZE] = { "customize", 200, 184, op_customize, customize_errnos },
	[OP_CANCEL] = { "close-token", 110, 140, op_cancel, close_token_errnos },
	[OP_DUP] = { "dup-token", 10, 60, op_dup, dup_errnos },
	[OP_QUERY] = { "query", 60, 128, op_query, netspec_common },
	[OP_INFO] = { "info", 119, 108, op_info, info_errnos },
	[OP_UNKNOWN] = { "unknown-op", 60, 0, op_unknown, unknown_errnos },
	[OP_SEND] = { "customized_send", 450, 228, op_send, send_errnos },
	[OP_SETSOCKOPT] = { "setsockopt", 8, 0, op_setsockopt, setsockopt_errnos },
	[OP_GETSOCKOPT] = { "getsockopt", 2, 0, op_getsockopt, getsockopt_errnos },
	[OP_CONNECT] = { "connect", 3, 0, op_connect, connect_errnos },
	[OP_CLOSE] = { "close-socket", 1, 0, op_close, no_errnos },
	[OP_FORK] = { "fork", 1, 0, op_fork, no_errnos },
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

/*
 * A namespace of its own: its sysctls start at their defaults, and nothing
 * else sends or changes a route in it, so the model knows every instance's
 * path.  Each seed picks the namespace's default policies.  The query tells
 * which policies each event takes; every later query must say the same.
 */
static const char *setup_netns(int *own)
{
	int e;

	*own = !net_unshare(CLONE_NEWNET);
	if (netspec_query(&query0))
		return "the query failed";
	if (query0.flags || query0.batch_max != NETSPEC_BATCH_MAX ||
	    query0.ops != 7 || query0.protocols != 3 || query0.paths != 7 ||
	    query0.send_flags != 3 || query0.policies[NETSPEC_EVENT_SOCKET] != 0x0e ||
	    (query0.policies[NETSPEC_EVENT_ROUTE] | 0x10) != 0x1c ||
	    query0.policies[NETSPEC_EVENT_MSS] != 0x1c ||
	    memchr_nonzero(query0.policies + NETSPEC_EVENTS, 8 - NETSPEC_EVENTS))
		return "the query reports something else than the UAPI header";
	if (*own && chance(64) &&
	    write_text(SYSCTL("socket_policy"), chance(128) ? "2" : "3"))
		return "cannot set net.netspec.socket_policy";
	if (*own && chance(64) &&
	    write_text(SYSCTL("route_policy"),
		       chance(128) || !(query0.policies[NETSPEC_EVENT_ROUTE] & 0x10) ?
		       "2" : "4"))
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
		*own ? "own" : "init's", default_policy[NETSPEC_EVENT_SOCKET],
		default_policy[NETSPEC_EVENT_ROUTE],
		default_policy[NETSPEC_EVENT_MSS]);
	return NULL;
}

/* The path customize gives a connected IPv4 socket for adu, or -1. */
static int path_for(int fd, unsigned int adu)
{
	struct netspec_customize c = netspec_udp_connected(fd, adu);
	int t = netspec_customize(&c);

	if (t < 0)
		return -1;
	netspec_close(t);
	return c.path;
}

/*
 * The smallest ADU the UDP/IPv4 path leaves to the generic one: a datagram
 * __ip_append_data() would put in page fragments on lo, which takes them
 * (netspec.rst: "about 16 KB and up").  It depends on the arch's struct
 * skb_shared_info, so it is measured, and must be there.
 */
static const char *adu_limit(void)
{
	unsigned int lo = 1, hi = MAX_ADU_V4 + 1, mid;
	int fd = net_udp_sender(LOOPBACK, port4), p;

	if (fd < 0)
		return "cannot open a socket";
	if (path_for(fd, lo) != NETSPEC_PATH_UDP4)
		return "a 1-byte ADU is not specialized";
	while (hi - lo > 1) {
		mid = lo + ((hi - lo) >> 1);
		p = path_for(fd, mid);
		if (p < 0)
			return "a customize failed";
		if (p == NETSPEC_PATH_UDP4)
			lo = mid;
		else
			hi = mid;
	}
	close(fd);
	udp4_adu_limit = hi;
	kt_line("# fuzz: ADUs from %u bytes up take the generic path", hi);
	if (hi <= 4 * PAGE - 1024 || hi > 4 * PAGE)
		return "the specialized path does not stop at page fragments";
	return NULL;
}

static const char *setup(int *own)
{
	const char *err;
	int pipefd[2], i;
	unsigned int k;
	long fd;

	/* The descriptors init left open; no later one is unknown. */
	for (i = 0; i < FD_SLOTS; i++)
		fd_kind[i] = my_syscall3(__NR_fcntl, i, F_GETFD, 0) < 0 ?
			     K_CLOSED : K_UNKNOWN;
	for (k = 0; k < K_COUNT; k++)
		fds[k].fd = -1;
	for (i = 0; i < FD_SLOTS && fds[K_UNKNOWN].fd < 0; i++)
		if (fd_kind[i] == K_UNKNOWN)
			fds[K_UNKNOWN].fd = i;

	err = setup_netns(own);
	if (err)
		return err;
	if (net_if_up("lo"))
		return "cannot bring lo up";
	if (set_fd(K_RX4, net_udp_receiver(LOOPBACK, &port4), 0, 0) ||
	    set_fd(K_RX6, udp6_socket(0, &port6), 1, 0))
		return "cannot bind the receivers";
	rx4 = fds[K_RX4].fd;
	rx6 = fds[K_RX6].fd;

	/* A port nobody listens on: bind, note it, close. */
	fd = net_udp_receiver(LOOPBACK, &closed_port);
	if (fd < 0)
		return "cannot find a free port";
	close(fd);
	err = adu_limit();
	if (err)
		return err;

	for (k = 0; k < N_REOPENABLE; k++)
		if (open_kind(reopenable[k]))
			return kind_names[reopenable[k]];
	if (set_fd(K_TCP, net_socket(AF_INET, SOCK_STREAM, 0), 0, 0) ||
	    set_fd(K_UNIX, net_socket(1 /* AF_UNIX */, SOCK_DGRAM, 0), 0, 0))
		return "cannot open the TCP and UNIX sockets";
	if (my_syscall2(__NR_pipe2, pipefd, 0))
		return "cannot make a pipe";
	/* One end; the other is closed, so the model knows every descriptor. */
	i = chance(128);
	close(pipefd[!i]);
	if (set_fd(K_PIPE, pipefd[i], 0, 0) ||
	    set_fd(K_PROC, open("/proc/version", O_RDONLY, 0), 0, 0))
		return "cannot open the pipe and /proc/version";

	/* Large receive queues, drained often: few datagrams dropped. */
	i = 1 << 20;
	net_setsockopt(rx4, SOL_SOCKET, SO_RCVBUF, &i, sizeof(i));
	net_setsockopt(rx6, SOL_SOCKET, SO_RCVBUF, &i, sizeof(i));

	for (i = 0; i < (int)sizeof(sendbuf); i++)
		sendbuf[i] = rnd();
	for (i = 0; i < N_NETSPEC_OPS; i++)
		valid_struct(i, RO(i));
	if (mprotect_pages(RO(0), N_NETSPEC_OPS * PAGE, PROT_READ_ONLY) ||
	    mprotect_pages(GUARD, PAGE, PROT_NOACCESS) ||
	    munmap(HOLE, 2 * PAGE))
		return "cannot set up the memory";
	return NULL;
}

/*
 * Reads the datagrams waiting at a receiver.  None may come from source
 * port 0: send() binds an unbound socket to a port before it sends, and a
 * token's datagrams are the ones send() would build.
 */
static void drain_fd(int fd)
{
	struct sockaddr_in6 from;	/* sin_port where sin6_port is */
	socklen_t len;

	for (;;) {
		len = sizeof(from);
		from.sin6_port = 0xffff;
		if (net_recvfrom(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT, &from,
				 &len) < 0)
			break;
		received++;
		if (!from.sin6_port && !n_port0++)
			kt_line("# fuzz: a datagram from source port 0 at %s, in calls %lu..%lu",
				fd == rx4 ? "rx4" : "rx6",
				n_calls > 64 ? n_calls - 64 : 0, n_calls);
	}
}

static void drain(void)
{
	drain_fd(rx4);
	drain_fd(rx6);
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

/* A check outside a call, for the reports. */
static void check(const char *name, const struct inst_model *m)
{
	cur.call = C_CHECK;
	cur.name = name;
	cur.m = m;
}

/*
 * What the generic netlink family lists before the tokens are closed: the
 * instances of this process that the model holds attached to their sockets,
 * each as the model has it; a dead one is detached, and no longer listed.
 */
static void check_family(void)
{
	unsigned int i, f, attached = 0;
	struct netspec_nl_inst ni;
	struct netspec_info in;
	long r;

	for (i = 0; i <= LIVE_MAX; i++) {
		struct inst_model *m = &insts[i];

		if (!m->used || m->dead)
			continue;
		attached++;
		check("the family's instance", m);
		/* Its id, from one of its tokens, which info checks. */
		for (f = 0; !m->id && f < (unsigned int)nlive; f++)
			if (inst_of(live_list[f]) == m) {
				r = netspec_info(live_list[f], &in);
				if (r)
					model_fail(r, "no info of a token held");
				else
					info_ok(r, live_list[f], &in);
			}
		r = m->id ? netspec_nl_inst(m->id, &ni) : -ENOENT;
		if (r)
			model_fail(r, "the family does not list it");
		else if (ni.pid != (unsigned int)getpid() || ni.adu != m->adu ||
			 ni.protocol != NETSPEC_PROTO_UDP ||
			 ni.send_flags != m->send_flags ||
			 ni.family != m->family || ni.port != m->port ||
			 memcmp(ni.addr, m->addr, 16) ||
			 ni.policy_socket != m->policy[NETSPEC_EVENT_SOCKET] ||
			 ni.policy_route != m->policy[NETSPEC_EVENT_ROUTE] ||
			 ni.policy_mss != m->policy[NETSPEC_EVENT_MSS])
			model_fail(0, "the family lists another context");
		else if (ni.path != m->path || ni.users != m->users ||
			 ni.sends != m->sends || ni.fallbacks != m->fallbacks ||
			 ni.trips != m->trips || ni.reroutes || ni.rewrites)
			model_fail(0, "the family lists other path, users or counts");
	}
	check("the family's instances of this process", NULL);
	r = netspec_nl_count_pid(getpid());
	if (r != (long)attached)
		model_fail(r, "not the instances the model holds attached");
}

int main(int argc, char **argv, char **envp)
{
	unsigned long long seed, t0, ms;
	unsigned long i, ncalls, total_w = 0;
	const char *err;
	int t, left, bad_close = 0, still_held = 0, profile, own = 0;
	struct netspec_nl_stats stats = { 0 };
	unsigned int k;
	long r, rs;
	int is_long;

	environ = envp;	/* 6.1's nolibc leaves it to us */
	is_long = getenv("NETSPEC_LONG") != NULL;
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
	ncalls = cmdline_number("fuzz_calls=", is_long ? LONG_CALLS : CI_CALLS);
	profile = cmdline_number("fuzz_profile=", 0);
	kt_line("# fuzz: seed 0x%llx (again: cargo xtask vm-test --append fuzz_seed=0x%llx fuzz)",
		seed, seed);
	kt_line("# fuzz: %lu calls (%s)", ncalls,
		is_long ? "long mode: NETSPEC_LONG is set" :
		"CI's budget; NETSPEC_LONG=1 (vm-test --long) makes a million");

	err = setup(&own);
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

		fds[K_CLOSED].fd = free_fd();
		fds[K_TOKEN].fd = nlive ? live_list[below(nlive)] : free_fd();
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
		sync_ports();
		i = n_calls;
		if (!(i & 63))
			drain();
	}
	ms = now_ms() - t0;
	net_sleep_ms(20);
	drain();
	check_family();

	kt_line("# fuzz: %lu calls in %llu ms", n_calls, ms);
	print_counts();
	for (k = 0; k < ERRNO_SLOTS; k++)
		if (n_by_result[k])
			kt_line("# fuzz: profile: %s calls %lu us %llu", errno_name(k),
				n_by_result[k], us_by_result[k]);
	kt_line("# fuzz: customizes ok %lu, datagrams sent %lu (%lu in batches, %lu by forked children), received %lu, from port 0 %lu",
		customized, sent, n_batch_sent, n_child_sends, received,
		n_port0);
	kt_line("# fuzz: guards: trips of rejected changes %lu, invalidations at a send %lu, respecializations at a send %lu (of an unbound socket, by a send that then failed: %lu), instances killed by a close %lu, EPIPE of their tokens %lu; customizes that took SO_ADU %lu",
		n_rejected, n_invalidated, n_respecialized, n_bound_by_failed,
		n_closed_live, n_dead_epipe, n_so_adu_used);
	kt_line("# fuzz: descriptors: tokens held at the end %d, dup()s of a token %lu, forks %lu",
		nlive, n_dups, n_forks);

	kt_result(!n_failed, "every_result_is_success_or_a_documented_errno",
		  "%lu bad results (seed 0x%llx), the first: %s", n_failed,
		  seed, first_failure);
	kt_result(!n_model_failed, "every_result_is_the_one_the_arguments_decide",
		  "%lu unexpected results (seed 0x%llx), the first: %s",
		  n_model_failed, seed, first_model_failure);
	/* At least 0.5% of the calls each; every datagram received was sent,
	 * from a port.
	 */
	kt_result(customized * 200 >= n_calls && sent * 200 >= n_calls &&
		  ops[OP_CANCEL].ok * 200 >= n_calls &&
		  ops[OP_INFO].ok * 200 >= n_calls && received && received <= sent &&
		  !n_port0 && n_dups && n_forks,
		  "real_customizes_sends_cancels_and_infos_happened",
		  "customizes %lu sends %lu closes %lu infos %lu received %lu (from port 0 %lu) dups %lu forks %lu",
		  customized, sent, ops[OP_CANCEL].ok, ops[OP_INFO].ok, received,
		  n_port0, n_dups, n_forks);

	kt_result(n_rejected && n_invalidated && n_respecialized &&
		  n_closed_live && n_dead_epipe && n_so_adu_used,
		  "every_guard_was_exercised",
		  "rejected %lu invalidated %lu respecialized %lu closed %lu EPIPE %lu SO_ADU %lu",
		  n_rejected, n_invalidated, n_respecialized, n_closed_live,
		  n_dead_epipe, n_so_adu_used);

	/* Close what is held; then no descriptor may be a token. */
	left = nlive;
	while (nlive) {
		t = live_list[0];
		r = netspec_close(t);
		if (r) {
			kt_line("# close of held token %d: %s", t, errname(r));
			bad_close++;
		}
		token_del(t);
	}
	for (t = 0; t < FD_SLOTS; t++) {
		struct netspec_info in;

		if (netspec_info(t, &in) != -EBADF)
			still_held++;
	}
	kt_result(!bad_close && !still_held, "every_token_cancelled",
		  "%d of %d held tokens failed to close, %d descriptors still answer info",
		  bad_close, left, still_held);
	r = netspec_nl_count_pid(getpid());
	rs = netspec_nl_stats(&stats);
	kt_line("# fuzz: code manager: hits %llu misses %llu evictions %llu versions %u",
		stats.hits, stats.misses, stats.evictions, stats.versions);
	kt_result(r == 0 && !rs && !stats.evictions && (!own || !stats.versions),
		  "no_instance_of_this_process_left",
		  "the family lists %ld instances of this process (a negative errno if it failed; its stats %ld), %u versions, %llu evictions",
		  r, rs, stats.versions, stats.evictions);
	return kt_exit_status();
}
