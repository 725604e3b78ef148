/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A client of the netspec generic netlink family for nolibc guest programs:
 * the instances of the caller's network namespace it may see, one by number
 * or all of them, and the code manager's counters.  The family is described
 * by Documentation/netlink/specs/netspec.yaml in the series.
 *
 * Every call returns 0 or -errno; a kernel without the family gives
 * -ENOENT from the family lookup.
 */
#ifndef NETSPEC_GUEST_GENL_H
#define NETSPEC_GUEST_GENL_H

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/netspec_nl.h>

#include "net.h"

#ifndef NETLINK_GENERIC
#define NETLINK_GENERIC	16
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif
#ifndef NETLINK_ADD_MEMBERSHIP
#define NETLINK_ADD_MEMBERSHIP	1
#endif

/* One instance, as the family reports it. */
struct netspec_nl_inst {
	unsigned int id, pid, path, protocol, adu, send_flags, users;
	unsigned int policy_socket, policy_route, policy_mss, mss, mss_clamp;
	unsigned short family, port;	/* port in network byte order */
	unsigned char addr[16];
	unsigned long long sends, fallbacks, reroutes, trips, rewrites;
	int code_wanted;	/* the checksum mode to ask code for, or -1 */
};

/* The code manager's counters of the caller's namespace. */
struct netspec_nl_stats {
	unsigned long long hits, misses, evictions, code_requests;
	unsigned long long code_requests_dropped;
	unsigned int versions, max_versions;
};

static char genl_buf[32768];

/* An open NETLINK_GENERIC socket, or -errno. */
static __attribute__((unused)) int genl_open(void)
{
	return my_syscall3(__NR_socket, AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
}

/*
 * Sends a request of family fam: command cmd, with flags, and at most one
 * attribute (attr 0 for none) of len bytes.
 */
static __attribute__((unused)) long genl_request(int fd, int fam, int cmd,
						  int flags, int attr,
						  const void *val, int len)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		char attrs[64];
	} m;
	struct nlattr *na = (struct nlattr *)m.attrs;
	int size = NLMSG_LENGTH(GENL_HDRLEN);

	memset(&m, 0, sizeof(m));
	m.n.nlmsg_type = fam;
	m.n.nlmsg_flags = NLM_F_REQUEST | flags;
	m.n.nlmsg_seq = 1;
	m.g.cmd = cmd;
	m.g.version = 1;
	if (attr) {
		na->nla_type = attr;
		na->nla_len = NLA_HDRLEN + len;
		memcpy((char *)na + NLA_HDRLEN, val, len);
		size += NLA_ALIGN(na->nla_len);
	}
	m.n.nlmsg_len = size;
	return my_syscall6(__NR_sendto, fd, &m, size, 0, NULL, 0);
}

/* The first attribute of type t in a message, or NULL. */
static __attribute__((unused)) struct nlattr *genl_attr(struct nlmsghdr *h,
							 int t)
{
	struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
	int rem = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= rem) {
		if ((a->nla_type & NLA_TYPE_MASK) == t)
			return a;
		rem -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return NULL;
}

static __attribute__((unused)) unsigned int genl_u32(struct nlmsghdr *h,
						      int t)
{
	struct nlattr *a = genl_attr(h, t);
	unsigned int v = 0;

	if (a && a->nla_len >= NLA_HDRLEN + 4)
		memcpy(&v, (char *)a + NLA_HDRLEN, 4);
	return v;
}

static __attribute__((unused)) unsigned long long genl_u64(struct nlmsghdr *h,
							    int t)
{
	struct nlattr *a = genl_attr(h, t);
	unsigned long long v = 0;

	if (a && a->nla_len >= NLA_HDRLEN + 8)
		memcpy(&v, (char *)a + NLA_HDRLEN, 8);
	return v;
}

static __attribute__((unused)) unsigned short genl_u16(struct nlmsghdr *h,
							int t)
{
	struct nlattr *a = genl_attr(h, t);
	unsigned short v = 0;

	if (a && a->nla_len >= NLA_HDRLEN + 2)
		memcpy(&v, (char *)a + NLA_HDRLEN, 2);
	return v;
}

/* The netspec family's number, or -errno (-ENOENT without the family). */
static __attribute__((unused)) int genl_family(int fd)
{
	struct nlmsghdr *h = (struct nlmsghdr *)genl_buf;
	long n;

	if (genl_request(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0,
			 CTRL_ATTR_FAMILY_NAME, NETSPEC_FAMILY_NAME,
			 sizeof(NETSPEC_FAMILY_NAME)) < 0)
		return -EIO;
	n = my_syscall6(__NR_recvfrom, fd, genl_buf, sizeof(genl_buf), 0,
			NULL, 0);
	if (n < (long)NLMSG_HDRLEN || h->nlmsg_len > n)
		return n < 0 ? n : -EIO;
	if (h->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
	return genl_u16(h, CTRL_ATTR_FAMILY_ID) ?: -ENOENT;
}

/*
 * The number of the netspec family's multicast group @name, from the reply
 * to genl_family(), which must be the last call that used genl_buf; or
 * -ENOENT.
 */
static __attribute__((unused)) int genl_mcast_group(const char *name)
{
	struct nlmsghdr *h = (struct nlmsghdr *)genl_buf;
	struct nlattr *grps = genl_attr(h, CTRL_ATTR_MCAST_GROUPS), *g;
	int rem, n = strlen(name) + 1;

	if (!grps)
		return -ENOENT;
	rem = grps->nla_len - NLA_HDRLEN;
	g = (struct nlattr *)((char *)grps + NLA_HDRLEN);
	while (rem >= NLA_HDRLEN && g->nla_len >= NLA_HDRLEN &&
	       g->nla_len <= rem) {
		struct nlattr *a = (struct nlattr *)((char *)g + NLA_HDRLEN);
		int r = g->nla_len - NLA_HDRLEN, id = -ENOENT, match = 0;

		while (r >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
		       a->nla_len <= r) {
			if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_NAME &&
			    a->nla_len == NLA_HDRLEN + n &&
			    !memcmp((char *)a + NLA_HDRLEN, name, n))
				match = 1;
			if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_ID &&
			    a->nla_len >= NLA_HDRLEN + 4)
				memcpy(&id, (char *)a + NLA_HDRLEN, 4);
			r -= NLA_ALIGN(a->nla_len);
			a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
		}
		if (match)
			return id;
		rem -= NLA_ALIGN(g->nla_len);
		g = (struct nlattr *)((char *)g + NLA_ALIGN(g->nla_len));
	}
	return -ENOENT;
}

/*
 * A NETLINK_GENERIC socket on the netspec family's multicast group @name,
 * or -errno; *stage says what failed: "socket", "family", "group" or
 * "join".
 */
static __attribute__((unused)) int genl_join(const char *name,
					     const char **stage)
{
	int fd = genl_open(), grp;
	long r;

	*stage = "socket";
	if (fd < 0)
		return fd;
	*stage = "family";
	grp = genl_family(fd);
	if (grp >= 0) {
		*stage = "group";
		grp = genl_mcast_group(name);
	}
	if (grp < 0) {
		close(fd);
		return grp;
	}
	*stage = "join";
	r = my_syscall5(__NR_setsockopt, fd, SOL_NETLINK,
			NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp));
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static __attribute__((unused)) void genl_inst_of(struct nlmsghdr *h,
						  struct netspec_nl_inst *i)
{
	struct nlattr *a = genl_attr(h, NETSPEC_A_INST_ADDR);

	memset(i, 0, sizeof(*i));
	i->id = genl_u32(h, NETSPEC_A_INST_ID);
	i->pid = genl_u32(h, NETSPEC_A_INST_PID);
	i->path = genl_u32(h, NETSPEC_A_INST_PATH);
	i->protocol = genl_u32(h, NETSPEC_A_INST_PROTOCOL);
	i->adu = genl_u32(h, NETSPEC_A_INST_ADU);
	i->send_flags = genl_u32(h, NETSPEC_A_INST_SEND_FLAGS);
	i->family = genl_u16(h, NETSPEC_A_INST_FAMILY);
	i->port = genl_u16(h, NETSPEC_A_INST_PORT);
	if (a && a->nla_len > NLA_HDRLEN && a->nla_len - NLA_HDRLEN <= 16)
		memcpy(i->addr, (char *)a + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
	i->users = genl_u32(h, NETSPEC_A_INST_USERS);
	i->policy_socket = genl_u32(h, NETSPEC_A_INST_POLICY_SOCKET);
	i->policy_route = genl_u32(h, NETSPEC_A_INST_POLICY_ROUTE);
	i->policy_mss = genl_u32(h, NETSPEC_A_INST_POLICY_MSS);
	i->mss = genl_u32(h, NETSPEC_A_INST_MSS);
	i->mss_clamp = genl_u32(h, NETSPEC_A_INST_MSS_CLAMP);
	i->sends = genl_u64(h, NETSPEC_A_INST_SENDS);
	i->fallbacks = genl_u64(h, NETSPEC_A_INST_FALLBACKS);
	i->reroutes = genl_u64(h, NETSPEC_A_INST_REROUTES);
	i->trips = genl_u64(h, NETSPEC_A_INST_TRIPS);
	i->rewrites = genl_u64(h, NETSPEC_A_INST_REWRITES);
	i->code_wanted = genl_attr(h, NETSPEC_A_INST_CODE_WANTED) ?
			 (int)genl_u32(h, NETSPEC_A_INST_CODE_WANTED) : -1;
}

/*
 * Calls fn on every instance of the caller's namespace it may see, until
 * fn returns non-zero; returns how many it saw, or -errno.
 */
static __attribute__((unused)) long
netspec_nl_each(int (*fn)(const struct netspec_nl_inst *, void *), void *arg)
{
	int fd = genl_open(), fam, done = 0, stop = 0;
	struct netspec_nl_inst i;
	long n, count = 0;

	if (fd < 0)
		return fd;
	fam = genl_family(fd);
	if (fam < 0 || genl_request(fd, fam, NETSPEC_CMD_INST_GET, NLM_F_DUMP,
				    0, NULL, 0) < 0) {
		close(fd);
		return fam < 0 ? fam : -EIO;
	}
	while (!done) {
		struct nlmsghdr *h = (struct nlmsghdr *)genl_buf;

		n = my_syscall6(__NR_recvfrom, fd, genl_buf, sizeof(genl_buf),
				0, NULL, 0);
		if (n <= 0) {
			close(fd);
			return n < 0 ? n : -EIO;
		}
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				close(fd);
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
			}
			count++;
			if (!stop && fn) {
				genl_inst_of(h, &i);
				stop = fn(&i, arg);
			}
		}
	}
	close(fd);
	return count;
}

static __attribute__((unused)) int netspec_nl_pid_is(const struct netspec_nl_inst *i,
						     void *arg)
{
	int *p = arg;

	if (i->pid == (unsigned int)p[0])
		p[1]++;
	return 0;
}

/* How many instances process pid made that the caller sees, or -errno. */
static __attribute__((unused)) long netspec_nl_count_pid(int pid)
{
	int arg[2] = { pid, 0 };
	long r = netspec_nl_each(netspec_nl_pid_is, arg);

	return r < 0 ? r : arg[1];
}

/* Instance id, as NETSPEC_CMD_INST_GET reports it: 0 or -errno (-ENOENT). */
static __attribute__((unused)) long netspec_nl_inst(unsigned int id,
						     struct netspec_nl_inst *i)
{
	struct nlmsghdr *h = (struct nlmsghdr *)genl_buf;
	int fd = genl_open(), fam;
	long n, r = 0;

	if (fd < 0)
		return fd;
	fam = genl_family(fd);
	if (fam < 0) {
		close(fd);
		return fam;
	}
	if (genl_request(fd, fam, NETSPEC_CMD_INST_GET, 0, NETSPEC_A_INST_ID,
			 &id, 4) < 0)
		r = -EIO;
	else if ((n = my_syscall6(__NR_recvfrom, fd, genl_buf,
				  sizeof(genl_buf), 0, NULL, 0)) < (long)NLMSG_HDRLEN)
		r = n < 0 ? n : -EIO;
	else if (h->nlmsg_type == NLMSG_ERROR)
		r = ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
	else
		genl_inst_of(h, i);
	close(fd);
	return r;
}

/* The code manager's counters: 0 or -errno. */
static __attribute__((unused)) long netspec_nl_stats(struct netspec_nl_stats *s)
{
	struct nlmsghdr *h = (struct nlmsghdr *)genl_buf;
	int fd = genl_open(), fam;
	long n, r = 0;

	if (fd < 0)
		return fd;
	fam = genl_family(fd);
	if (fam < 0) {
		close(fd);
		return fam;
	}
	if (genl_request(fd, fam, NETSPEC_CMD_STATS_GET, 0, 0, NULL, 0) < 0)
		r = -EIO;
	else if ((n = my_syscall6(__NR_recvfrom, fd, genl_buf,
				  sizeof(genl_buf), 0, NULL, 0)) < (long)NLMSG_HDRLEN)
		r = n < 0 ? n : -EIO;
	else if (h->nlmsg_type == NLMSG_ERROR)
		r = ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
	else {
		s->hits = genl_u64(h, NETSPEC_A_STATS_HITS);
		s->misses = genl_u64(h, NETSPEC_A_STATS_MISSES);
		s->evictions = genl_u64(h, NETSPEC_A_STATS_EVICTIONS);
		s->versions = genl_u32(h, NETSPEC_A_STATS_VERSIONS);
		s->max_versions = genl_u32(h, NETSPEC_A_STATS_MAX_VERSIONS);
		s->code_requests = genl_u64(h, NETSPEC_A_STATS_CODE_REQUESTS);
		s->code_requests_dropped =
			genl_u64(h, NETSPEC_A_STATS_CODE_REQUESTS_DROPPED);
	}
	close(fd);
	return r;
}

#endif /* NETSPEC_GUEST_GENL_H */
