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

#endif /* NETSPEC_NOLIBC_COMPAT_H */
