/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guest programs need of nolibc, across the bases' nolibc
 * versions: nolibc renamed its raw system call macros my_syscallN() to
 * __nolibc_syscallN() after 6.12.  The guest build includes this right
 * after nolibc.h.
 */
#ifndef NETSPEC_NOLIBC_COMPAT_H
#define NETSPEC_NOLIBC_COMPAT_H

#if !defined(my_syscall0) && defined(__nolibc_syscall0)
#define my_syscall0 __nolibc_syscall0
#define my_syscall1 __nolibc_syscall1
#define my_syscall2 __nolibc_syscall2
#define my_syscall3 __nolibc_syscall3
#define my_syscall4 __nolibc_syscall4
#define my_syscall5 __nolibc_syscall5
#define my_syscall6 __nolibc_syscall6
#endif

/* nolibc before 6.7 (6.1's) has no crt.h: getenv() reads an environ the
 * program must define and set, from main()'s third argument.
 */
#ifndef _NOLIBC_CRT_H
char **environ;
#endif

/* 6.1's nolibc lacks these (values of asm-generic/fcntl.h, which every
 * test arch uses).
 */
#ifndef F_GETFD
#define F_GETFD 1
#endif
#ifndef F_SETFD
#define F_SETFD 2
#endif
#ifndef FD_CLOEXEC
#define FD_CLOEXEC 1
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC 02000000
#endif

/* 6.1's nolibc has no six-argument system call on arm, so its mmap()
 * fails with ENOSYS there.  This one is 6.12's (ARM mode: the guests are
 * built -marm, so r7 is free), with an mmap() that uses it.
 */
#if defined(__arm__) && !defined(my_syscall6)
#define my_syscall6(num, arg1, arg2, arg3, arg4, arg5, arg6)		\
({									\
	register long _num  __asm__ ("r7") = (num);			\
	register long _arg1 __asm__ ("r0") = (long)(arg1);		\
	register long _arg2 __asm__ ("r1") = (long)(arg2);		\
	register long _arg3 __asm__ ("r2") = (long)(arg3);		\
	register long _arg4 __asm__ ("r3") = (long)(arg4);		\
	register long _arg5 __asm__ ("r4") = (long)(arg5);		\
	register long _arg6 __asm__ ("r5") = (long)(arg6);		\
									\
	__asm__ volatile (						\
		"svc #0\n"						\
		: "=r"(_arg1), "=r" (_num)				\
		: "r"(_arg1), "r"(_arg2), "r"(_arg3), "r"(_arg4),	\
		  "r"(_arg5), "r"(_arg6), "r"(_num)			\
		: "memory", "cc", "lr"					\
	);								\
	_arg1;								\
})

static __attribute__((unused))
void *netspec_mmap(void *addr, size_t length, int prot, int flags, int fd,
		   off_t offset)
{
	long ret = my_syscall6(__NR_mmap2, addr, length, prot, flags, fd,
			       offset >> 12);

	if ((unsigned long)ret >= -4095UL) {
		SET_ERRNO(-ret);
		return MAP_FAILED;
	}
	return (void *)ret;
}
#define mmap netspec_mmap
#endif

/* No nolibc has setresuid(); -1 leaves an id as it is.  32-bit ARM and
 * x86 take 32-bit ids through setresuid32.
 */
static __attribute__((unused)) long netspec_setresuid(int r, int e, int s)
{
#ifdef __NR_setresuid32
	return my_syscall3(__NR_setresuid32, r, e, s);
#else
	return my_syscall3(__NR_setresuid, r, e, s);
#endif
}

/* 6.1's nolibc has neither (values of linux/wait.h). */
#ifndef WUNTRACED
#define WUNTRACED 2
#endif
#ifndef WIFSTOPPED
#define WIFSTOPPED(st) (((st) & 0xff) == 0x7f)
#endif

#endif /* NETSPEC_NOLIBC_COMPAT_H */
