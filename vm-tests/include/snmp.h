/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SNMP counters of the reading task's network namespace, from
 * /proc/net/snmp: a header row of names and a row of values per protocol
 * ("Ip: Forwarding DefaultTTL ..." then "Ip: 1 64 ...").
 */
#ifndef NETSPEC_GUEST_SNMP_H
#define NETSPEC_GUEST_SNMP_H

#include "text.h"

/* The word p points into ends here: at a space, a newline or the end. */
static __attribute__((unused)) int snmp_word_end(char c)
{
	return !c || c == ' ' || c == '\n';
}

/*
 * The counter named field in proto's rows ("Udp", "OutDatagrams"), or -1 if
 * the file, the protocol or the field is not there.
 */
static __attribute__((unused)) long long snmp_read(const char *proto,
						   const char *field)
{
	static char text[8192];
	unsigned int plen = strlen(proto), flen = strlen(field), idx, i;
	char *line = text, *names = NULL, *values = NULL, *p;

	if (read_text("/proc/net/snmp", text, sizeof(text)) <= 0)
		return -1;
	/* "Udp:" and not "UdpLite:": the name is followed by its colon. */
	while (!values && line) {
		if (!strncmp(line, proto, plen) && line[plen] == ':') {
			if (!names)
				names = line + plen + 1;
			else
				values = line + plen + 1;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!values)
		return -1;
	for (p = names, idx = 0;; idx++) {
		while (*p == ' ')
			p++;
		if (snmp_word_end(*p))
			return -1;
		if (!strncmp(p, field, flen) && snmp_word_end(p[flen]))
			break;
		while (!snmp_word_end(*p))
			p++;
	}
	for (p = values, i = 0;; i++) {
		while (*p == ' ')
			p++;
		if (snmp_word_end(*p) || *p == '-')
			return -1;
		if (i == idx)
			return parse_uint(p);
		while (!snmp_word_end(*p))
			p++;
	}
}

/* The send-side counters a UDP send moves: what a test compares. */
struct snmp_out {
	long long udp_out;	/* Udp OutDatagrams */
	long long ip_out;	/* Ip OutRequests */
};

static __attribute__((unused)) struct snmp_out snmp_out_read(void)
{
	struct snmp_out s = {
		.udp_out = snmp_read("Udp", "OutDatagrams"),
		.ip_out = snmp_read("Ip", "OutRequests"),
	};

	return s;
}

/*
 * NULL if each counter moved by udp and ip from a to b, else which did not;
 * a counter that cannot be read never matches.
 */
static __attribute__((unused)) const char *
snmp_out_moved(struct snmp_out a, struct snmp_out b, long long udp,
	       long long ip)
{
	if (a.udp_out < 0 || b.udp_out < 0 || a.ip_out < 0 || b.ip_out < 0)
		return "SNMP counters unreadable";
	if (b.udp_out - a.udp_out != udp)
		return "Udp OutDatagrams moved otherwise";
	if (b.ip_out - a.ip_out != ip)
		return "Ip OutRequests moved otherwise";
	return NULL;
}

#endif
