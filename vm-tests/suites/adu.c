// SPDX-License-Identifier: GPL-2.0
/*
 * SO_ADU: the socket option that declares a UDP socket's application data
 * unit, its range, its adoption by customize, the length check of
 * customized_send() (nothing sent on EINVAL) and the guard on changing it.
 */
#include "ktap.h"
#include "netspec_raw.h"
#include "net.h"

#define ADU 64
#define LOOPBACK 0x7f000001

static unsigned char buf[2 * ADU], got[2 * ADU];
static int rx;

int main(void)
{
	struct netspec_customize c, d;
	struct netspec_info i;
	unsigned short port = 0;
	long r0, r1, r2, g0, g1, t, u, e1, e2, ok, tcp_set, tcp_get;
	int fd, tcp;

	kt_plan(1, 7);
	net_if_up("lo");
	rx = net_udp_receiver(LOOPBACK, &port);
	fd = net_udp_sender(LOOPBACK, port);
	if (rx < 0 || fd < 0) {
		kt_line("# cannot set up the sockets");
		return 1;
	}

	g0 = netspec_get_adu(fd);
	r0 = netspec_set_adu(fd, ADU);
	g1 = netspec_get_adu(fd);
	kt_result(g0 == 0 && r0 == 0 && g1 == ADU, "so_adu_round_trips",
		  "default %ld, set %s, then %ld", g0, errname(r0), g1);

	r1 = netspec_set_adu(fd, -1);
	r2 = netspec_set_adu(fd, 65536);
	kt_result(r1 == -EINVAL && r2 == -EINVAL && netspec_get_adu(fd) == ADU,
		  "so_adu_out_of_range_is_einval", "-1: %s, 65536: %s",
		  errname(r1), errname(r2));

	tcp = net_socket(AF_INET, SOCK_STREAM, 0);
	tcp_set = netspec_set_adu(tcp, ADU);
	tcp_get = netspec_get_adu(tcp);
	kt_result(tcp >= 0 && tcp_set == -ENOPROTOOPT && tcp_get == -ENOPROTOOPT,
		  "so_adu_is_for_udp_only", "set %s get %s", errname(tcp_set),
		  errname(tcp_get));
	close(tcp);

	c = netspec_udp_connected(fd, 0);
	t = netspec_customize(&c);
	kt_result(t > 0 && c.adu == ADU && c.path == NETSPEC_PATH_UDP4 &&
		  !netspec_info(t, &i) && i.adu == ADU,
		  "customize_takes_so_adu", "token %ld adu %u path %u", t, c.adu,
		  c.path);

	e1 = netspec_send(t, buf, ADU - 1, 0);
	e2 = netspec_send(t, buf, ADU + 1, 0);
	ok = netspec_send(t, buf, ADU, 0);
	kt_result(e1 == -EINVAL && e2 == -EINVAL && ok == ADU &&
		  net_wait_readable(rx, 2000) == 1 && net_drain(rx, got, sizeof(got), -1) == 1,
		  "another_length_is_einval_and_sends_nothing",
		  "%ld: %s, %ld: %s, %d: %ld", (long)ADU - 1, errname(e1),
		  (long)ADU + 1, errname(e2), ADU, ok);

	d = netspec_udp_connected(fd, ADU / 2);
	e1 = netspec_customize(&d);
	d = netspec_udp_connected(fd, ADU);
	u = netspec_customize(&d);
	kt_result(e1 == -EINVAL && u > 0 && !netspec_info(u, &i) && i.users == 2,
		  "customize_with_another_adu_is_einval",
		  "adu %d: %s, adu %d: token %ld users %u", ADU / 2, errname(e1),
		  ADU, u, i.users);

	r1 = netspec_set_adu(fd, 2 * ADU);
	netspec_cancel(t);
	netspec_cancel(u);
	r2 = netspec_set_adu(fd, 2 * ADU);
	kt_result(r1 == -EBUSY && r2 == 0 && netspec_get_adu(fd) == 2 * ADU,
		  "so_adu_change_is_guarded",
		  "while customized: %s, after cancel: %s", errname(r1),
		  errname(r2));
	close(fd);
	return kt_exit_status();
}
