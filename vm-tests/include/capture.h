/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packets on the wire, for nolibc guest programs: an AF_PACKET socket that
 * sees what a device sends (loopback's, ifindex 1, by default), the next
 * outgoing UDP/IPv4 packet to a port, and the comparison of two such
 * packets field by field.  Include after net.h.
 */
#ifndef NETSPEC_GUEST_CAPTURE_H
#define NETSPEC_GUEST_CAPTURE_H

#include "net.h"

#define CAP_LO 1

/* The largest packet a test captures: a 64 KB datagram and its headers. */
#define CAP_MAX 65600

/* An AF_PACKET socket seeing every packet of device ifindex; fd or -errno. */
static __attribute__((unused)) long cap_open(int ifindex)
{
	struct sockaddr_ll sll = { 0 };
	int size = 4 << 20;
	/* Only ETH_P_ALL taps see packets on their way out. */
	long fd = net_socket(AF_PACKET, SOCK_DGRAM, net_htons(ETH_P_ALL)), r;

	if (fd < 0)
		return fd;
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = net_htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	r = net_bind(fd, &sll, sizeof(sll));
	if (!r)	/* SO_RCVBUFFORCE: room for a few 64 KB packets */
		r = net_setsockopt(fd, SOL_SOCKET, 33, &size, sizeof(size));
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * The next outgoing UDP/IPv4 packet to port (host order) that fd sees
 * within a second, into p (len bytes); its length or -errno (-EAGAIN:
 * none came).
 */
static __attribute__((unused)) long cap_next(int fd, unsigned short port,
					     unsigned char *p,
					     unsigned long len)
{
	for (;;) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		struct iphdr *iph = (struct iphdr *)p;
		struct udphdr *uh = (struct udphdr *)(p + 20);
		long r = net_wait_readable(fd, 1000);

		if (r <= 0)
			return r ? r : -EAGAIN;
		r = net_recvfrom(fd, p, len, MSG_DONTWAIT, &from, &flen);
		if (r < 0)
			return r;
		if (from.sll_pkttype == PACKET_OUTGOING && r >= 28 &&
		    iph->version == 4 && iph->ihl == 5 &&
		    iph->protocol == IPPROTO_UDP &&
		    (iph->frag_off & net_htons(0x1fff)) == 0 &&
		    uh->dest == net_htons(port))
			return r;
	}
}

/* Drops whatever fd has captured so far. */
static __attribute__((unused)) void cap_flush(int fd, unsigned char *p,
					      unsigned long len)
{
	while (net_recvfrom(fd, p, len, MSG_DONTWAIT, NULL, NULL) >= 0)
		;
}

static __attribute__((unused)) unsigned short cap_id(const unsigned char *p)
{
	return net_ntohs(((const struct iphdr *)p)->id);
}

static __attribute__((unused)) unsigned int cap_ttl(const unsigned char *p)
{
	return ((const struct iphdr *)p)->ttl;
}

static __attribute__((unused)) unsigned int cap_tos(const unsigned char *p)
{
	return ((const struct iphdr *)p)->tos;
}

static __attribute__((unused)) int cap_df(const unsigned char *p)
{
	return !!(((const struct iphdr *)p)->frag_off & net_htons(0x4000));
}

/*
 * Whether packets a (la bytes) and b (lb bytes) are the same datagram:
 * both IP header checksums valid, every IP header field equal but the ID
 * (and the checksum, which covers it), and the UDP header and payload
 * equal byte for byte.  NULL if so, else what differs.
 */
static __attribute__((unused)) const char *
cap_same_but_id(const unsigned char *a, long la, const unsigned char *b,
		long lb)
{
	const struct iphdr *ia = (const void *)a, *ib = (const void *)b;

	if (la < 28 || lb != la)
		return "lengths differ";
	if (net_csum(a, 20) || net_csum(b, 20))
		return "an IP header checksum is invalid";
	if (ia->version != ib->version || ia->ihl != ib->ihl)
		return "IP version or header length differ";
	if (ia->tos != ib->tos)
		return "TOS differs";
	if (ia->tot_len != ib->tot_len)
		return "total length differs";
	if (ia->frag_off != ib->frag_off)
		return "DF or fragment fields differ";
	if (ia->ttl != ib->ttl)
		return "TTL differs";
	if (ia->protocol != ib->protocol)
		return "protocol differs";
	if (ia->saddr != ib->saddr || ia->daddr != ib->daddr)
		return "addresses differ";
	if (memcmp(a + 20, b + 20, 8))
		return "UDP header differs";
	if (memcmp(a + 28, b + 28, la - 28))
		return "payload differs";
	return NULL;
}

/* Prints the IP header fields of a captured packet, for a failure. */
static __attribute__((unused)) void cap_print(const char *what,
					      const unsigned char *p, long len)
{
	const struct iphdr *h = (const void *)p;

	if (len < 20) {
		kt_line("# %s: %ld bytes", what, len);
		return;
	}
	kt_line("# %s: len %ld tos %x tot_len %u id %u frag_off %x ttl %u daddr %x",
		what, len, h->tos, net_ntohs(h->tot_len), net_ntohs(h->id),
		net_ntohs(h->frag_off), h->ttl, net_ntohl(h->daddr));
}

#endif /* NETSPEC_GUEST_CAPTURE_H */
