/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network devices for nolibc guest programs: creating a link with rtnetlink
 * (a veth pair whose peer lives in another process's network namespace, or
 * a dummy device), giving it an IPv4 or IPv6 address and bringing it up.
 * Every call returns 0 or -errno.  Include after net.h.
 */
#ifndef NETSPEC_GUEST_LINK_H
#define NETSPEC_GUEST_LINK_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/veth.h>

#define LINK_SIOCSIFADDR	0x8916
#define LINK_SIOCSIFNETMASK	0x891c
#define LINK_SIOCSIFMTU		0x8922

/* Appends an attribute to the message in m; returns it, for nesting. */
static struct rtattr *link_attr(struct nlmsghdr *m, unsigned short type,
				const void *data, unsigned int len)
{
	struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	m->nlmsg_len = NLMSG_ALIGN(m->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void link_nest_end(struct nlmsghdr *m, struct rtattr *a)
{
	a->rta_len = (char *)m + m->nlmsg_len - (char *)a;
}

/* Sends the request in m, of a buffer of size bytes, and reads its ack. */
static long link_request(struct nlmsghdr *m, unsigned int size)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	long fd, r;

	fd = net_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	r = net_sendto(fd, m, m->nlmsg_len, 0, &sa, sizeof(sa));
	if (r >= 0) {
		r = net_recvfrom(fd, m, size, 0, NULL, NULL);
		if (r >= (long)NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
		    m->nlmsg_type == NLMSG_ERROR)
			r = ((struct nlmsgerr *)NLMSG_DATA(m))->error;
		else if (r >= 0)
			r = -EPROTO;
	}
	close(fd);
	return r;
}

/*
 * RTM_NEWLINK for a device of kind ("veth" or "dummy") named name; for a
 * veth, peer is the other end's name and it goes to the network namespace
 * of process peer_pid.
 */
static __attribute__((unused)) long link_create(const char *kind,
						const char *name,
						const char *peer, int peer_pid)
{
	static unsigned char msg[1024] __attribute__((aligned(4)));
	struct nlmsghdr *m = (struct nlmsghdr *)msg;
	struct rtattr *info, *data, *p;
	unsigned int pid = peer_pid;

	memset(msg, 0, sizeof(msg));
	m->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	m->nlmsg_type = RTM_NEWLINK;
	m->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	m->nlmsg_seq = 1;
	link_attr(m, IFLA_IFNAME, name, strlen(name) + 1);
	info = link_attr(m, IFLA_LINKINFO, NULL, 0);
	link_attr(m, IFLA_INFO_KIND, kind, strlen(kind) + 1);
	if (peer) {
		data = link_attr(m, IFLA_INFO_DATA, NULL, 0);
		p = link_attr(m, VETH_INFO_PEER, NULL, 0);
		/* The peer's ifinfomsg, then its attributes. */
		m->nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));
		link_attr(m, IFLA_IFNAME, peer, strlen(peer) + 1);
		link_attr(m, IFLA_NET_NS_PID, &pid, sizeof(pid));
		link_nest_end(m, p);
		link_nest_end(m, data);
	}
	link_nest_end(m, info);

	return link_request(m, sizeof(msg));
}

struct link_ifreq_addr {
	char name[16];
	struct sockaddr_in addr;
	char pad[8];
};

/* Gives interface name address/24 and brings it up. */
static __attribute__((unused)) long link_addr_up(const char *name,
						 unsigned int addr)
{
	struct link_ifreq_addr ifr;
	long fd, r;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.name, name, strlen(name) < 15 ? strlen(name) : 15);
	fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	ifr.addr = net_sin(addr, 0);
	r = my_syscall3(__NR_ioctl, fd, LINK_SIOCSIFADDR, &ifr);
	if (!r) {
		ifr.addr = net_sin(0xffffff00, 0);
		r = my_syscall3(__NR_ioctl, fd, LINK_SIOCSIFNETMASK, &ifr);
	}
	close(fd);
	return r ? r : net_if_up(name);
}

/*
 * The interface ioctl req with the struct ifreq at ifr, whose first 16
 * bytes get the interface name (the rest as the caller set it), on an
 * AF_INET socket; 0 or -errno.
 */
static __attribute__((unused)) long link_ifreq(const char *name,
					       unsigned long req, void *ifr)
{
	long fd = net_socket(AF_INET, SOCK_DGRAM, 0), r;

	if (fd < 0)
		return fd;
	memset(ifr, 0, 16);
	memcpy(ifr, name, strlen(name) < 15 ? strlen(name) : 15);
	r = my_syscall3(__NR_ioctl, fd, req, ifr);
	close(fd);
	return r;
}

/* The index of interface name (SIOCGIFINDEX), or -errno. */
static __attribute__((unused)) long link_ifindex(const char *name)
{
	struct {
		char name[16];
		int ifindex;
		char pad[20];
	} ifr = { { 0 } };
	long r = link_ifreq(name, 0x8933 /* SIOCGIFINDEX */, &ifr);

	return r ? r : ifr.ifindex;
}

/* Sets the MTU of interface name (SIOCSIFMTU); 0 or -errno. */
static __attribute__((unused)) long link_set_mtu(const char *name, int mtu)
{
	struct {
		char name[16];
		int mtu;
		char pad[20];
	} ifr = { { 0 } };

	ifr.mtu = mtu;
	return link_ifreq(name, LINK_SIOCSIFMTU, &ifr);
}

/*
 * Creates or replaces the main table's route to dst/dst_len through the
 * gateway gw (addresses in host order), with the MTU mtu locked if mtu is
 * not 0, as "ip route replace ... mtu lock MTU" does.
 */
static __attribute__((unused)) long link_route_replace_mtu(unsigned int dst,
							   unsigned char dst_len,
							   unsigned int gw,
							   unsigned int mtu)
{
	static unsigned char msg[256] __attribute__((aligned(4)));
	struct nlmsghdr *m = (struct nlmsghdr *)msg;
	unsigned int d = net_htonl(dst), g = net_htonl(gw);
	unsigned int lock = 1U << RTAX_MTU;
	struct rtattr *metrics;
	struct rtmsg *rtm;

	memset(msg, 0, sizeof(msg));
	m->nlmsg_len = NLMSG_LENGTH(sizeof(*rtm));
	m->nlmsg_type = RTM_NEWROUTE;
	m->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
	m->nlmsg_seq = 1;
	rtm = NLMSG_DATA(m);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	link_attr(m, RTA_DST, &d, sizeof(d));
	link_attr(m, RTA_GATEWAY, &g, sizeof(g));
	if (mtu) {
		metrics = link_attr(m, RTA_METRICS, NULL, 0);
		link_attr(m, RTAX_LOCK, &lock, sizeof(lock));
		link_attr(m, RTAX_MTU, &mtu, sizeof(mtu));
		link_nest_end(m, metrics);
	}
	return link_request(m, sizeof(msg));
}

/* The same, with the route's MTU the device's. */
static __attribute__((unused)) long link_route_replace(unsigned int dst,
						       unsigned char dst_len,
						       unsigned int gw)
{
	return link_route_replace_mtu(dst, dst_len, gw, 0);
}

/*
 * Gives interface name the IPv6 address addr/64 with RTM_NEWADDR, without
 * duplicate address detection (IFA_F_NODAD), so that it is usable at once
 * rather than tentative for a second or two.
 */
static __attribute__((unused)) long link_addr6(const char *name,
					       const struct in6_addr *addr)
{
	static unsigned char msg[256] __attribute__((aligned(4)));
	struct nlmsghdr *m = (struct nlmsghdr *)msg;
	unsigned int flags = IFA_F_NODAD;
	struct ifaddrmsg *ifa;
	long index = link_ifindex(name);

	if (index < 0)
		return index;
	memset(msg, 0, sizeof(msg));
	m->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	m->nlmsg_type = RTM_NEWADDR;
	m->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	m->nlmsg_seq = 1;
	ifa = NLMSG_DATA(m);
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 64;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	link_attr(m, IFA_LOCAL, addr, sizeof(*addr));
	link_attr(m, IFA_ADDRESS, addr, sizeof(*addr));
	link_attr(m, IFA_FLAGS, &flags, sizeof(flags));
	return link_request(m, sizeof(msg));
}

#endif /* NETSPEC_GUEST_LINK_H */
