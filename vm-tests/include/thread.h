/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tasks that share this one's memory, for nolibc guest programs: clone3()
 * with a stack of their own, running a C function, as a thread library
 * starts a thread.  nolibc has no threads, and a task that shares the
 * memory cannot run on its parent's stack, so the child's first
 * instructions, which take the function and its argument from the top of
 * the new stack and call it, are per-arch assembly (the five test arches).
 * The task ends with exit() of the function's return value: the task, not
 * its thread group.
 *
 * clone3() takes the same struct on every arch, so the flags decide what
 * the task is: a thread (THREAD_FLAGS), a process sharing only the memory
 * (CLONE_VM with exit signal SIGCHLD: reaped with waitpid()), a vfork
 * (CLONE_VM | CLONE_VFORK: the parent waits until it exits), and so on.
 */
#ifndef NETSPEC_GUEST_THREAD_H
#define NETSPEC_GUEST_THREAD_H

#include <linux/sched.h>	/* CLONE_*, struct clone_args */

#ifndef __NR_clone3
#define __NR_clone3 435		/* the same number in every table */
#endif

/* A POSIX thread's flags: it shares everything, and its id is cleared and
 * woken at its exit, which thread_join() waits for.
 */
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
		      CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID | \
		      CLONE_CHILD_CLEARTID)

#define THREAD_STACK 65536

/* A started task: its stack and, for THREAD_FLAGS, its id word. */
struct thread {
	unsigned char stack[THREAD_STACK] __attribute__((aligned(16)));
	volatile int tid;
	long id;
};

typedef int (*thread_fn)(void *);

/*
 * The child's side: its stack pointer points at { fn, arg } (two words,
 * 16-aligned where the ABI wants it); it calls fn(arg) and exits with the
 * result.  The parent's side returns the new task's id, or -errno.
 */
static __attribute__((noinline)) long thread_clone3(struct clone_args *args)
{
#if defined(__x86_64__)
	register long rax __asm__("rax") = __NR_clone3;
	register long rdi __asm__("rdi") = (long)args;
	register long rsi __asm__("rsi") = sizeof(*args);

	__asm__ volatile(
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"xor %%ebp, %%ebp\n\t"
		"pop %%rax\n\t"			/* fn */
		"pop %%rdi\n\t"			/* arg; rsp is 16-aligned again */
		"call *%%rax\n\t"
		"mov %%eax, %%edi\n\t"
		"mov %[nr_exit], %%eax\n\t"
		"syscall\n\t"
		"hlt\n"
		"1:\n"
		: "+r"(rax)
		: "r"(rdi), "r"(rsi), [nr_exit] "i"(__NR_exit)
		: "rcx", "r11", "memory", "cc");
	return rax;
#elif defined(__i386__)
	register long eax __asm__("eax") = __NR_clone3;
	register long ebx __asm__("ebx") = (long)args;
	register long ecx __asm__("ecx") = sizeof(*args);

	__asm__ volatile(
		"int $0x80\n\t"
		"test %%eax, %%eax\n\t"
		"jnz 1f\n\t"
		"xor %%ebp, %%ebp\n\t"
		"pop %%eax\n\t"			/* fn; arg is at (%esp), 16-aligned */
		"call *%%eax\n\t"
		"mov %%eax, %%ebx\n\t"
		"mov %[nr_exit], %%eax\n\t"
		"int $0x80\n\t"
		"hlt\n"
		"1:\n"
		: "+r"(eax)
		: "r"(ebx), "r"(ecx), [nr_exit] "i"(__NR_exit)
		: "edx", "memory", "cc");
	return eax;
#elif defined(__arm__) && !defined(__thumb__)
	register long r0 __asm__("r0") = (long)args;
	register long r1 __asm__("r1") = sizeof(*args);
	register long r7 __asm__("r7") = __NR_clone3;

	/* ARMv4 has no blx: "mov lr, pc" reads the address two instructions
	 * on, the one after the jump.
	 */
	__asm__ volatile(
		"svc #0\n\t"
		"cmp r0, #0\n\t"
		"bne 1f\n\t"
		"ldr r1, [sp]\n\t"		/* fn */
		"ldr r0, [sp, #4]\n\t"		/* arg */
		"add sp, sp, #8\n\t"
		"mov lr, pc\n\t"
		"mov pc, r1\n\t"
		"mov r7, %[nr_exit]\n\t"
		"svc #0\n"
		"1:\n"
		: "+r"(r0)
		: "r"(r1), "r"(r7), [nr_exit] "i"(__NR_exit)
		: "memory", "cc", "lr");
	return r0;
#elif defined(__aarch64__)
	register long x0 __asm__("x0") = (long)args;
	register long x1 __asm__("x1") = sizeof(*args);
	register long x8 __asm__("x8") = __NR_clone3;

	__asm__ volatile(
		"svc #0\n\t"
		"cbnz x0, 1f\n\t"
		"ldp x1, x0, [sp], #16\n\t"	/* fn, arg */
		"blr x1\n\t"
		"mov x8, %[nr_exit]\n\t"
		"svc #0\n"
		"1:\n"
		: "+r"(x0)
		: "r"(x1), "r"(x8), [nr_exit] "i"(__NR_exit)
		: "memory", "cc", "x30");
	return x0;
#elif defined(__riscv) && __riscv_xlen == 64
	register long a0 __asm__("a0") = (long)args;
	register long a1 __asm__("a1") = sizeof(*args);
	register long a7 __asm__("a7") = __NR_clone3;

	__asm__ volatile(
		"ecall\n\t"
		"bnez a0, 1f\n\t"
		"ld a1, 0(sp)\n\t"		/* fn */
		"ld a0, 8(sp)\n\t"		/* arg */
		"addi sp, sp, 16\n\t"
		"jalr a1\n\t"
		"li a7, %[nr_exit]\n\t"
		"ecall\n"
		"1:\n"
		: "+r"(a0)
		: "r"(a1), "r"(a7), [nr_exit] "i"(__NR_exit)
		: "memory", "ra");
	return a0;
#else
#error "thread.h: no clone3 trampoline for this arch"
#endif
}

/*
 * Starts fn(arg) in a new task made by clone3() with flags (CLONE_* and
 * exit_signal, e.g. SIGCHLD for a task reaped with waitpid()), on t's
 * stack.  Returns the task's id, or -errno.
 */
static __attribute__((unused)) long thread_start(struct thread *t,
						  unsigned long long flags,
						  int exit_signal, thread_fn fn,
						  void *arg)
{
	/* { fn, arg } at the top, 16 bytes below it on every arch (on i386,
	 * 20, so that arg is 16-aligned once fn is popped).
	 */
#if defined(__i386__)
	unsigned long top = sizeof(t->stack) - 20;
#else
	unsigned long top = sizeof(t->stack) - 16;
#endif
	unsigned long *sp = (unsigned long *)(t->stack + top);
	struct clone_args args;

	sp[0] = (unsigned long)fn;
	sp[1] = (unsigned long)arg;
	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.exit_signal = exit_signal;
	args.stack = (unsigned long)t->stack;
	args.stack_size = top;
	t->tid = -1;
	if (flags & CLONE_PARENT_SETTID)
		args.parent_tid = (unsigned long)&t->tid;
	if (flags & CLONE_CHILD_CLEARTID)
		args.child_tid = (unsigned long)&t->tid;
	t->id = thread_clone3(&args);
	return t->id;
}

/* Waits for a task started with CLONE_CHILD_CLEARTID to exit. */
static __attribute__((unused)) void thread_join(struct thread *t)
{
	int v;

	while ((v = t->tid) != 0) {
#ifdef __NR_futex_time64
		my_syscall6(__NR_futex_time64, &t->tid, 0 /* FUTEX_WAIT */, v,
			    NULL, NULL, 0);
#else
		my_syscall6(__NR_futex, &t->tid, 0 /* FUTEX_WAIT */, v, NULL,
			    NULL, 0);
#endif
	}
}

#endif /* NETSPEC_GUEST_THREAD_H */
