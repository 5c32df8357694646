/*
 * The program format and the sync protocol between tsrun and tsrun-stub.
 *
 * ONE table, mirrored by native/stub-protocol.ts; test/unit/native-constants.test.ts
 * parses this file and fails when the two disagree. Only `#define TSRP_* <number>`
 * lines and `TSRP_* = <number>,` enum entries are read by that test: keep that form.
 *
 * Everything is little-endian (x86_64 and aarch64 both are).
 *
 * Program:  header | ops[op_count] | data[data_len] | relocs[reloc_count]
 *   header  (24 bytes): u32 magic 'TSRP', u16 version, u16 flags (0),
 *                       u32 op_count, u32 reloc_count, u32 data_len (multiple of 8), u32 reserved (0)
 *   op      (80 bytes): u16 code, u8 result register (TSRP_NO_REG: none), u8 ok count,
 *                       u16 ok errnos[4], u32 param (syscall nr / sync code / ...),
 *                       u32 label (data offset of a NUL-terminated string, TSRP_NO_LABEL: none;
 *                       printed only when the sync channel is closed: tsrun sets it on those ops only),
 *                       u16 flags, u8 arg kinds[6], u32 reserved (0), i64 arg values[6]
 *   data              : strings, struct bytes, pointer arrays; items 8-aligned
 *   reloc    (4 bytes): u32 data offset of a u64 that holds a data offset and must become
 *                       the absolute address of that offset (argv/envp arrays, sock_fprog)
 *                       A NULL entry of a pointer array is a plain 0 that no reloc names.
 *
 * Sent by tsrun on the sync socket as u32 length + program.
 */
#ifndef TSRUN_STUB_PROTOCOL_H
#define TSRUN_STUB_PROTOCOL_H

#define TSRP_MAGIC 0x50525354 /* "TSRP" read as a little-endian u32 */
#define TSRP_VERSION 1
#define TSRP_HEADER_SIZE 24
#define TSRP_OP_SIZE 80
#define TSRP_RELOC_SIZE 4
#define TSRP_MAX_ARGS 6
#define TSRP_MAX_OK_ERRNOS 4
#define TSRP_NREGS 16
#define TSRP_NO_REG 255
#define TSRP_NO_LABEL 4294967295
#define TSRP_MAX_PROGRAM 67108864 /* 64 MiB: far above any real program */
#define TSRP_MSG_SIZE 24          /* stub -> tsrun: u32 type, u32 op index, i64 a, i64 b */
#define TSRP_REPLY_SIZE 16        /* tsrun -> stub: u32 status, u32 reserved, i64 value (+ SCM_RIGHTS fd) */

/* Op codes. */
enum tsrp_op {
	TSRP_OP_SYSCALL = 1, /* param: syscall nr; args: up to 6; result: return value */
	TSRP_OP_SYNC = 2,    /* param: sync code; arg0: value (IMM/REG); result: reply value or received fd */
	TSRP_OP_FORK = 3,    /* arg0: clone flags (IMM); arg1: cgroup dir fd (REG) or unused (IMM 0) */
	TSRP_OP_SEND_FD = 4, /* arg0: socket (IMM/REG); arg1: fd (IMM/REG); arg2: payload (DATA/NULL); arg3: payload length (IMM) */
};

/* Argument kinds. */
enum tsrp_arg {
	TSRP_ARG_IMM = 0,    /* the value itself */
	TSRP_ARG_DATA = 1,   /* address of data + value */
	TSRP_ARG_NULL = 2,   /* NULL pointer */
	TSRP_ARG_REG = 3,    /* the value held by register <value> */
	TSRP_ARG_FDPATH = 4, /* address of "/proc/self/fd/<register value>" */
};

/* Op flags. */
enum tsrp_flag {
	TSRP_FLAG_LAST = 1,    /* SYNC: close the sync channel after the reply; later failures go to stderr */
	TSRP_FLAG_SEND_FD = 2, /* SYNC: attach the fd held in arg0's register to the message (SCM_RIGHTS) */
};

/* Message types, stub -> tsrun. */
enum tsrp_msg {
	TSRP_MSG_SYNC = 1,      /* op: index; a: sync code; b: value; maybe an fd. tsrun must reply */
	TSRP_MSG_CHILD_PID = 2, /* op: index of the FORK; a: the child's pid in tsrun's pid namespace */
	TSRP_MSG_ERROR = 3,     /* op: index of the failed op; a: errno. The stub then exits TSRP_EXIT_OP_FAILED */
	TSRP_MSG_DONE = 4,      /* op: op count. The program ended without execve; the stub exits 0 */
};

/* Reply status, tsrun -> stub. Any other value makes the stub exit TSRP_EXIT_ABORTED quietly. */
#define TSRP_REPLY_OK 0

/* Exit statuses of the stub itself (before execve). */
enum tsrp_exit {
	TSRP_EXIT_DONE = 0,          /* program ended (DONE sent), or the parent side of a FORK */
	TSRP_EXIT_OP_FAILED = 120,   /* an op failed (reported as MSG_ERROR or on stderr) */
	TSRP_EXIT_BAD_PROGRAM = 121, /* malformed program: nothing was executed */
	TSRP_EXIT_USAGE = 122,       /* bad command line (tsrun-stub <syncfd>) */
	TSRP_EXIT_SYNC_LOST = 123,   /* the sync peer went away (EOF / EPIPE) */
	TSRP_EXIT_ABORTED = 124,     /* tsrun replied with a non-zero status */
	TSRP_EXIT_PROTOCOL = 125,    /* a reply that breaks the protocol (truncated, too many fds) */
};

#endif
