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

#endif /* NETSPEC_NOLIBC_COMPAT_H */
