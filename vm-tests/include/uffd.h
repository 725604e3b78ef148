/* SPDX-License-Identifier: GPL-2.0 */
/*
 * userfaultfd for nolibc guest programs: a region whose missing pages stop
 * whoever touches them, kernel copies included, until another task fills
 * them in.  A test uses it to hold a system call at a known point (say, a
 * send copying its payload) for as long as it likes.  Every call returns a
 * descriptor, 0, or -errno.
 */
#ifndef NETSPEC_GUEST_UFFD_H
#define NETSPEC_GUEST_UFFD_H

#include <linux/userfaultfd.h>

#define UFFD_PAGE 4096

/*
 * A userfaultfd whose faults, kernel-mode ones included, wait for
 * UFFDIO_COPY (root needs no sysctl for that), with the API handshake
 * done; its descriptor (O_CLOEXEC) or -errno.
 */
static __attribute__((unused)) long uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	long fd = my_syscall1(__NR_userfaultfd, O_CLOEXEC);
	long r;

	if (fd < 0)
		return fd;
	r = my_syscall3(__NR_ioctl, fd, UFFDIO_API, &api);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* Registers len bytes at addr (page-aligned, anonymous, never touched)
 * for missing-page faults.
 */
static __attribute__((unused)) long uffd_register(int fd, void *addr,
						  unsigned long len)
{
	struct uffdio_register reg;

	memset(&reg, 0, sizeof(reg));
	reg.range.start = (unsigned long)addr;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	return my_syscall3(__NR_ioctl, fd, UFFDIO_REGISTER, &reg);
}

/*
 * A userfaultfd (uffd_open()) and a fresh anonymous page registered with
 * it, into *fd and *region: 0, or -1 if any step failed.  On failure the
 * caller still closes *fd if it is a descriptor and unmaps *region if it
 * is not MAP_FAILED, as it does after a test.
 */
static __attribute__((unused)) int uffd_page(int *fd, unsigned char **region)
{
	*fd = uffd_open();
	*region = mmap(NULL, UFFD_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*fd < 0 || *region == MAP_FAILED ||
	    uffd_register(*fd, *region, UFFD_PAGE))
		return -1;
	return 0;
}

/*
 * Waits (blocking) for the next fault on fd; returns the faulting address,
 * or 0 if the read failed or brought another event.
 */
static __attribute__((unused)) unsigned long uffd_wait_fault(int fd)
{
	struct uffd_msg msg;

	if (read(fd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	return (unsigned long)msg.arg.pagefault.address;
}

/* Fills the page at dst, page-aligned, with the page at src (in the
 * caller's memory), waking who waits on it; 0 or -errno (-EEXIST if the
 * page is there already).
 */
static __attribute__((unused)) long uffd_fill(int fd, void *dst,
					      const void *src)
{
	struct uffdio_copy c;

	memset(&c, 0, sizeof(c));
	c.dst = (unsigned long)dst;
	c.src = (unsigned long)src;
	c.len = UFFD_PAGE;
	return my_syscall3(__NR_ioctl, fd, UFFDIO_COPY, &c);
}

#endif /* NETSPEC_GUEST_UFFD_H */
