/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stateful firewall for nolibc guest programs, loaded through nf_tables'
 * netlink interface as nft(8) would load
 *
 *	table inet netspec {
 *		chain in  { type filter hook input priority 0; ct state; }
 *		chain out { type filter hook output priority 0; ct state; }
 *	}
 *
 * Each rule reads the flow's conntrack state into a register.  No verdict
 * follows, so every packet goes on to the chain's accept policy.  The rule
 * makes conntrack track every flow of the namespace (nft_ct's init takes
 * the family's conntrack hooks), and the chains cost a rule evaluation per
 * packet each way, as a distribution's firewall does.
 *
 * nft_firewall() returns 0, or -errno: -EPROTONOSUPPORT where the kernel
 * has no nfnetlink, or the first error the kernel acknowledged.
 */
#ifndef NETSPEC_GUEST_NFT_H
#define NETSPEC_GUEST_NFT_H

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "net.h"

#ifndef NETLINK_NETFILTER
#define NETLINK_NETFILTER	12
#endif

struct nft_msg {
	char buf[2048];
	unsigned int len;
	unsigned int nest[4];	/* offsets of the open nested attributes */
	unsigned int depth;
	unsigned int seq;
};

static struct nlattr *nft_put(struct nft_msg *m, unsigned short type,
			      const void *val, unsigned int len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, val, len);
	m->len += NLA_ALIGN(a->nla_len);
	return a;
}

static void nft_str(struct nft_msg *m, unsigned short type, const char *s)
{
	nft_put(m, type, s, strlen(s) + 1);
}

static void nft_be32(struct nft_msg *m, unsigned short type, unsigned int v)
{
	unsigned int be = net_htonl(v);

	nft_put(m, type, &be, sizeof(be));
}

static void nft_nest(struct nft_msg *m, unsigned short type)
{
	m->nest[m->depth++] = m->len;
	nft_put(m, type | NLA_F_NESTED, NULL, 0);
}

static void nft_end(struct nft_msg *m)
{
	unsigned int at = m->nest[--m->depth];
	struct nlattr *a = (struct nlattr *)(m->buf + at);

	a->nla_len = m->len - at;
}

/* Opens a message of type (subsystem << 8 | msg) for a family. */
static void nft_begin(struct nft_msg *m, unsigned short type,
		      unsigned short flags, unsigned char family,
		      unsigned short res_id)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(m->buf + m->len);
	struct nfgenmsg *g = (struct nfgenmsg *)NLMSG_DATA(h);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++m->seq;
	h->nlmsg_pid = 0;
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = net_htons(res_id);
	m->nest[m->depth++] = m->len;
	m->len += NLMSG_LENGTH(sizeof(*g));
}

static void nft_finish(struct nft_msg *m)
{
	unsigned int at = m->nest[--m->depth];
	struct nlmsghdr *h = (struct nlmsghdr *)(m->buf + at);

	h->nlmsg_len = m->len - at;
	m->len = NLMSG_ALIGN(m->len);
}

#define NFT_NEW(msg)	((NFNL_SUBSYS_NFTABLES << 8) | (msg))
#define NFT_TABLE	"netspec"

static void nft_chain(struct nft_msg *m, const char *name, unsigned int hook)
{
	nft_begin(m, NFT_NEW(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK,
		  NFPROTO_INET, 0);
	nft_str(m, NFTA_CHAIN_TABLE, NFT_TABLE);
	nft_str(m, NFTA_CHAIN_NAME, name);
	nft_nest(m, NFTA_CHAIN_HOOK);
	nft_be32(m, NFTA_HOOK_HOOKNUM, hook);
	nft_be32(m, NFTA_HOOK_PRIORITY, 0);
	nft_end(m);
	nft_str(m, NFTA_CHAIN_TYPE, "filter");
	nft_finish(m);

	nft_begin(m, NFT_NEW(NFT_MSG_NEWRULE),
		  NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, NFPROTO_INET, 0);
	nft_str(m, NFTA_RULE_TABLE, NFT_TABLE);
	nft_str(m, NFTA_RULE_CHAIN, name);
	nft_nest(m, NFTA_RULE_EXPRESSIONS);
	nft_nest(m, NFTA_LIST_ELEM);
	nft_str(m, NFTA_EXPR_NAME, "ct");
	nft_nest(m, NFTA_EXPR_DATA);
	nft_be32(m, NFTA_CT_KEY, NFT_CT_STATE);
	nft_be32(m, NFTA_CT_DREG, NFT_REG_1);
	nft_end(m);
	nft_end(m);
	nft_end(m);
	nft_finish(m);
}

static __attribute__((unused)) long nft_firewall(void)
{
	static struct nft_msg m;
	static char reply[4096];
	long fd, r = 0, acks = 0;

	memset(&m, 0, sizeof(m));
	fd = my_syscall3(__NR_socket, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	if (fd < 0)
		return fd;

	nft_begin(&m, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC,
		  NFNL_SUBSYS_NFTABLES);
	nft_finish(&m);
	nft_begin(&m, NFT_NEW(NFT_MSG_NEWTABLE), NLM_F_CREATE | NLM_F_ACK,
		  NFPROTO_INET, 0);
	nft_str(&m, NFTA_TABLE_NAME, NFT_TABLE);
	nft_finish(&m);
	nft_chain(&m, "in", NF_INET_LOCAL_IN);
	nft_chain(&m, "out", NF_INET_LOCAL_OUT);
	nft_begin(&m, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	nft_finish(&m);

	r = my_syscall6(__NR_sendto, fd, m.buf, m.len, 0, NULL, 0);
	if (r < 0)
		goto out;
	/* One acknowledgement per message that asked for one: five. */
	r = 0;
	while (!r && acks < 5) {
		long n = my_syscall6(__NR_recvfrom, fd, reply, sizeof(reply),
				     0, NULL, NULL);
		struct nlmsghdr *h = (struct nlmsghdr *)reply;

		if (n < 0) {
			r = n;
			break;
		}
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			r = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			acks++;
			if (r)
				break;
		}
	}
out:
	close(fd);
	return r;
}

#endif
