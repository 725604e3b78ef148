/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF for nolibc guest programs, without libbpf: the raw bpf() system call,
 * programs assembled by hand from the instruction macros below, array maps,
 * and cgroup v2 (mounting it, making a cgroup, moving into it, attaching a
 * program to it).  The test kernels run BPF in the interpreter (no JIT
 * needed).  Every call returns a descriptor, 0, or -errno.
 *
 * A program's verifier log goes to bpf_log, which a failed load leaves
 * there for the test to print.
 */
#ifndef NETSPEC_GUEST_BPF_H
#define NETSPEC_GUEST_BPF_H

#include <linux/bpf.h>

#include "text.h"

/* One instruction; the macros name them as the kernel's filter.h does. */
#define BPF_RAW(c, d, s, o, i)						\
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s),	\
			    .off = (o), .imm = (i) })
#define BPF_MOV64_IMM(d, i)	BPF_RAW(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define BPF_MOV64_REG(d, s)	BPF_RAW(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
/* 32-bit move: the upper half is zeroed, so any u32 fits in imm. */
#define BPF_MOV32_IMM(d, i)	BPF_RAW(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
#define BPF_ADD64_IMM(d, i)	BPF_RAW(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define BPF_LDX_W(d, s, off)	BPF_RAW(BPF_LDX | BPF_W | BPF_MEM, d, s, off, 0)
#define BPF_STX_W(d, s, off)	BPF_RAW(BPF_STX | BPF_W | BPF_MEM, d, s, off, 0)
/* A store of an immediate: to the stack only (the verifier refuses it on
 * a context).
 */
#define BPF_ST_W(d, off, i)	BPF_RAW(BPF_ST | BPF_W | BPF_MEM, d, 0, off, i)
/* Jumps over off instructions if the low 32 bits of d compare to i. */
#define BPF_JEQ32_IMM(d, i, off) BPF_RAW(BPF_JMP32 | BPF_JEQ | BPF_K, d, 0, off, i)
#define BPF_JNE32_IMM(d, i, off) BPF_RAW(BPF_JMP32 | BPF_JNE | BPF_K, d, 0, off, i)
#define BPF_JEQ64_IMM(d, i, off) BPF_RAW(BPF_JMP | BPF_JEQ | BPF_K, d, 0, off, i)
#define BPF_CALL_FN(fn)		BPF_RAW(BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define BPF_EXIT_INSN()		BPF_RAW(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* Loads a map's address into d: two instructions. */
#define BPF_LD_MAP_FD(d, fd)						\
	BPF_RAW(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd),	\
	BPF_RAW(0, 0, 0, 0, 0)

#define BPF_R0 0
#define BPF_R1 1
#define BPF_R2 2
#define BPF_R3 3
#define BPF_R4 4
#define BPF_R5 5
#define BPF_R6 6
#define BPF_R10 10

static char bpf_log[4096];

static long bpf_sys(int cmd, union bpf_attr *attr)
{
	return my_syscall3(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Loads a program of type (and expected attach type); its fd or -errno. */
static __attribute__((unused)) long bpf_prog_load(unsigned int type,
						   unsigned int attach,
						   const struct bpf_insn *insns,
						   unsigned int n)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	bpf_log[0] = 0;
	a.prog_type = type;
	a.expected_attach_type = attach;
	a.insns = (unsigned long)insns;
	a.insn_cnt = n;
	a.license = (unsigned long)"GPL";
	a.log_buf = (unsigned long)bpf_log;
	a.log_size = sizeof(bpf_log);
	a.log_level = 1;
	return bpf_sys(BPF_PROG_LOAD, &a);
}

/* BPF_PROG_ATTACH or BPF_PROG_DETACH of prog on the cgroup open as cg. */
static __attribute__((unused)) long bpf_cgroup_prog(int cmd, int cg, int prog,
						     unsigned int type)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.target_fd = cg;
	a.attach_bpf_fd = prog;
	a.attach_type = type;
	return bpf_sys(cmd, &a);
}

/* Attaches program prog to the cgroup whose directory is open as cg. */
static __attribute__((unused)) long bpf_attach(int cg, int prog,
						unsigned int type)
{
	return bpf_cgroup_prog(BPF_PROG_ATTACH, cg, prog, type);
}

static __attribute__((unused)) long bpf_detach(int cg, int prog,
						unsigned int type)
{
	return bpf_cgroup_prog(BPF_PROG_DETACH, cg, prog, type);
}

/* An array map of n u32 values; its fd or -errno. */
static __attribute__((unused)) long bpf_array_u32(unsigned int n)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = n;
	return bpf_sys(BPF_MAP_CREATE, &a);
}

/* Element key of an array map of u32 values: 0 or -errno. */
static __attribute__((unused)) long bpf_get_u32(int map, unsigned int key,
						 unsigned int *v)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = map;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)v;
	return bpf_sys(BPF_MAP_LOOKUP_ELEM, &a);
}

static __attribute__((unused)) long bpf_set_u32(int map, unsigned int key,
						 unsigned int v)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = map;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)&v;
	a.flags = BPF_ANY;
	return bpf_sys(BPF_MAP_UPDATE_ELEM, &a);
}

#define CGROUP_ROOT "/sys/fs/cgroup"

/*
 * Mounts cgroup v2 at /sys/fs/cgroup (the mount point sysfs makes), unless
 * it is there already, and makes the cgroup CGROUP_ROOT/name; returns an
 * open descriptor of its directory, or -errno.
 */
static __attribute__((unused)) long cgroup_make(const char *name)
{
	char path[96] = CGROUP_ROOT "/";
	long r = open(CGROUP_ROOT "/cgroup.procs", O_RDONLY, 0);

	if (r < 0) {
		r = mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL);
		if (r)
			return -errno;
	} else {
		close(r);
	}
	strcpy(path + strlen(path), name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	r = open(path, O_RDONLY | O_DIRECTORY, 0);
	return r < 0 ? -errno : r;
}

/* Moves this process into CGROUP_ROOT/name ("" for the root); 0 or -errno. */
static __attribute__((unused)) long cgroup_enter(const char *name)
{
	char path[128] = CGROUP_ROOT "/", num[24];

	if (*name) {
		strcpy(path + strlen(path), name);
		strcpy(path + strlen(path), "/");
	}
	strcpy(path + strlen(path), "cgroup.procs");
	u64toa_r(getpid(), num);
	return write_text(path, num);
}

/* Removes the (empty) cgroup CGROUP_ROOT/name; 0 or -errno. */
static __attribute__((unused)) long cgroup_remove(const char *name)
{
	char path[96] = CGROUP_ROOT "/";

	strcpy(path + strlen(path), name);
	return my_syscall3(__NR_unlinkat, AT_FDCWD, path, 0x200 /* AT_REMOVEDIR */);
}

#endif /* NETSPEC_GUEST_BPF_H */
