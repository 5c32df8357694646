/*
 * tsrun-stub: a tiny interpreter of programs built by tsrun (native/program.ts).
 *
 *   tsrun-stub <syncfd>
 *
 * Why it exists (docs ARCHITECTURE.md, "Why a C stub, and only one"): Node is multi-threaded
 * and cannot fork, so every kernel operation that must run in a single-threaded process (unshare
 * of a user or mount namespace, setns, fork into a PID namespace, execve of the container) runs
 * here. The stub knows nothing about containers: it executes raw syscalls in order, stops at
 * sync points to let tsrun act, forks where told, and reports failures as (op index, errno) so
 * that tsrun prints a precise error. Layout and numbers: protocol.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protocol.h"

#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL
#define CSIGNAL_MASK 0xffULL

struct header {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint32_t op_count;
	uint32_t reloc_count;
	uint32_t data_len;
	uint32_t reserved;
};

struct op {
	uint16_t code;
	uint8_t result;
	uint8_t ok_count;
	uint16_t ok[TSRP_MAX_OK_ERRNOS];
	uint32_t param;
	uint32_t label;
	uint16_t flags;
	uint8_t kinds[TSRP_MAX_ARGS];
	uint32_t reserved;
	int64_t args[TSRP_MAX_ARGS];
};

struct msg {
	uint32_t type;
	uint32_t op;
	int64_t a;
	int64_t b;
};

struct reply {
	uint32_t status;
	uint32_t reserved;
	int64_t value;
};

/* struct clone_args of linux/sched.h, VER2 (with cgroup); spelled out to avoid header clashes. */
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

_Static_assert(sizeof(struct header) == TSRP_HEADER_SIZE, "header layout");
_Static_assert(sizeof(struct op) == TSRP_OP_SIZE, "op layout");
_Static_assert(sizeof(struct msg) == TSRP_MSG_SIZE, "message layout");
_Static_assert(sizeof(struct reply) == TSRP_REPLY_SIZE, "reply layout");
_Static_assert(sizeof(struct clone_args_v2) == 88, "clone_args layout");

static int sync_fd = -1;             /* -1 once closed by a LAST sync */
static int64_t regs[TSRP_NREGS];
static const struct op *ops;
static uint32_t op_count;
static char *data;
static uint32_t data_len;
static char fd_paths[TSRP_MAX_ARGS][40];

/* ------------------------------------------------------------------------------------------ */
/* I/O on the sync channel                                                                     */

/* Read exactly n bytes; 0 on success, -1 on error or EOF (errno 0). */
static int read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* sendmsg of buf with an optional fd (SCM_RIGHTS); MSG_NOSIGNAL: a gone peer is EPIPE, not a signal. */
static int send_with_fd(int sock, const void *buf, size_t n, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	memset(&control, 0, sizeof(control));
	if (fd >= 0) {
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t r = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		/* A stream socket may take a prefix; the fd went with it, send the rest plainly. */
		if ((size_t)r < n)
			return send_with_fd(sock, (const char *)buf + r, n - (size_t)r, -1);
		return 0;
	}
}

static int send_msg(uint32_t type, uint32_t op, int64_t a, int64_t b, int fd)
{
	struct msg m = { .type = type, .op = op, .a = a, .b = b };
	return send_with_fd(sync_fd, &m, sizeof(m), fd);
}

/* Wait for tsrun's reply; *fd gets the fd it carries or -1. Exits when the peer is gone. */
static void recv_reply(struct reply *r, int *fd)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} control;
	char *p = (char *)r;
	size_t got = 0;
	*fd = -1;
	while (got < sizeof(*r)) {
		struct iovec iov = { .iov_base = p + got, .iov_len = sizeof(*r) - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
				     .msg_controllen = sizeof(control.buf) };
		ssize_t n = recvmsg(sync_fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(TSRP_EXIT_SYNC_LOST); /* tsrun is gone: never go on alone */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int f;
				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (*fd < 0)
					*fd = f;
				else
					_exit(TSRP_EXIT_PROTOCOL); /* more than one fd */
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			_exit(TSRP_EXIT_PROTOCOL);
		got += (size_t)n;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Failures                                                                                    */


/* An op failed: tell tsrun (which prints a precise error), or print it when the channel is closed. */
_Noreturn static void fail(uint32_t index, const struct op *op, int err)
{
	if (sync_fd >= 0 && send_msg(TSRP_MSG_ERROR, index, err, 0, -1) == 0)
		_exit(TSRP_EXIT_OP_FAILED);
	const char *name = strerrorname_np(err);
	char num[16];
	if (!name) {
		snprintf(num, sizeof(num), "E%d", err);
		name = num;
	}
	/* tsrun places labels only for the ops after the last sync: before it, tsrun names the op. */
	if (op->label == TSRP_NO_LABEL)
		fprintf(stderr, "tsrun-stub: op %u: %s (%s)\n", index, name, strerror(err));
	else
		fprintf(stderr, "tsrun-stub: %s: %s (%s)\n", data + op->label, name, strerror(err));
	_exit(TSRP_EXIT_OP_FAILED);
}

/* Store an op's result; a failure with a tolerated errno stores -errno and goes on. */
static void finish(uint32_t index, const struct op *op, int64_t result, int err)
{
	if (err) {
		int tolerated = 0;
		for (int i = 0; i < op->ok_count; i++)
			if (op->ok[i] == err)
				tolerated = 1;
		if (!tolerated)
			fail(index, op, err);
		result = -err;
	}
	if (op->result != TSRP_NO_REG)
		regs[op->result] = result;
}

/* ------------------------------------------------------------------------------------------ */
/* Ops                                                                                         */

static int64_t arg(const struct op *op, int i)
{
	int64_t v = op->args[i];
	switch (op->kinds[i]) {
	case TSRP_ARG_DATA:
		return (int64_t)(intptr_t)(data + v);
	case TSRP_ARG_NULL:
		return 0;
	case TSRP_ARG_REG:
		return regs[v];
	case TSRP_ARG_FDPATH:
		snprintf(fd_paths[i], sizeof(fd_paths[i]), "/proc/self/fd/%lld", (long long)regs[v]);
		return (int64_t)(intptr_t)fd_paths[i];
	default:
		return v;
	}
}

static void op_syscall(uint32_t index, const struct op *op)
{
	long r = syscall((long)op->param, arg(op, 0), arg(op, 1), arg(op, 2), arg(op, 3), arg(op, 4), arg(op, 5));
	finish(index, op, r, r == -1 ? errno : 0);
}

static void op_sync(uint32_t index, const struct op *op)
{
	int64_t value = arg(op, 0);
	int fd = (op->flags & TSRP_FLAG_SEND_FD) ? (int)value : -1;
	if (send_msg(TSRP_MSG_SYNC, index, op->param, value, fd) < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			_exit(TSRP_EXIT_SYNC_LOST);
		fail(index, op, errno);
	}
	struct reply r;
	int got_fd;
	recv_reply(&r, &got_fd);
	if (r.status != TSRP_REPLY_OK)
		_exit(TSRP_EXIT_ABORTED); /* tsrun decided to stop, and knows why */
	if (got_fd >= 0 && op->result == TSRP_NO_REG)
		close(got_fd);
	finish(index, op, got_fd >= 0 ? got_fd : r.value, 0);
	if (op->flags & TSRP_FLAG_LAST) {
		close(sync_fd);
		sync_fd = -1;
	}
}

/*
 * clone3 (fork-like: no new stack). The parent reports the child's pid and exits; the child goes
 * on. A pipe orders the two: the child waits until the parent has sent CHILD_PID, so tsrun always
 * gets the pid before anything the child says, and a child whose parent could not report it
 * exits instead of running unknown to tsrun.
 */
static void op_fork(uint32_t index, const struct op *op)
{
	uint64_t flags = (uint64_t)op->args[0];
	int64_t cgroup = -1;
	if (op->kinds[1] == TSRP_ARG_REG) {
		cgroup = regs[op->args[1]];
		flags |= CLONE_INTO_CGROUP_FLAG;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		fail(index, op, errno);
	struct clone_args_v2 ca;
	memset(&ca, 0, sizeof(ca));
	ca.flags = flags;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = cgroup >= 0 ? (uint64_t)cgroup : 0;
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0 && errno == ENOSYS && cgroup < 0 && (flags >> 32) == 0 && (flags & CSIGNAL_MASK) == 0)
		pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0); /* kernel < 5.3 */
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		finish(index, op, -1, e);
		return;
	}
	if (pid == 0) {
		char c;
		ssize_t n;
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		close(p[0]);
		if (n != 1)
			_exit(TSRP_EXIT_SYNC_LOST);
		finish(index, op, 0, 0);
		return;
	}
	close(p[0]);
	if (sync_fd >= 0 && send_msg(TSRP_MSG_CHILD_PID, index, pid, 0, -1) < 0)
		_exit(TSRP_EXIT_SYNC_LOST); /* the child reads EOF and exits too */
	if (write(p[1], "", 1) != 1)
		_exit(TSRP_EXIT_SYNC_LOST);
	_exit(TSRP_EXIT_DONE);
}

static void op_send_fd(uint32_t index, const struct op *op)
{
	int sock = (int)arg(op, 0), fd = (int)arg(op, 1);
	const void *payload = "";
	size_t len = 1; /* SCM_RIGHTS needs at least one byte of data */
	if (op->kinds[2] == TSRP_ARG_DATA && op->args[3] > 0) {
		payload = (const void *)(intptr_t)arg(op, 2);
		len = (size_t)op->args[3];
	}
	int r = send_with_fd(sock, payload, len, fd);
	finish(index, op, r == 0 ? (int64_t)len : -1, r == 0 ? 0 : errno);
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                     */

static int reg_ok(int64_t v)
{
	return v >= 0 && v < TSRP_NREGS;
}

/* Check everything before running anything; returns NULL or what is wrong. */
static const char *validate(const char *buf, size_t len, char *why, size_t why_len)
{
	struct header h;
	if (len < sizeof(h))
		return "shorter than its header";
	memcpy(&h, buf, sizeof(h));
	if (h.magic != TSRP_MAGIC)
		return "bad magic (not a tsrun program)";
	if (h.version != TSRP_VERSION) {
		snprintf(why, why_len, "version %u, this stub runs version %u (rebuild the stub)", h.version, TSRP_VERSION);
		return why;
	}
	if (h.flags != 0 || h.reserved != 0)
		return "reserved header fields are not zero";
	if (h.data_len % 8 != 0)
		return "data length is not a multiple of 8";
	uint64_t want = (uint64_t)TSRP_HEADER_SIZE + (uint64_t)h.op_count * TSRP_OP_SIZE + h.data_len +
			(uint64_t)h.reloc_count * TSRP_RELOC_SIZE;
	if (want != len) {
		snprintf(why, why_len, "size %zu does not match its header (%llu)", len, (unsigned long long)want);
		return why;
	}
	const struct op *o = (const struct op *)(buf + TSRP_HEADER_SIZE);
	const char *d = buf + TSRP_HEADER_SIZE + (size_t)h.op_count * TSRP_OP_SIZE;
	const uint32_t *rel = (const uint32_t *)(d + h.data_len);
	for (uint32_t i = 0; i < h.reloc_count; i++) {
		uint64_t target;
		if (rel[i] % 8 != 0 || (uint64_t)rel[i] + 8 > h.data_len) {
			snprintf(why, why_len, "relocation %u outside the data", i);
			return why;
		}
		memcpy(&target, d + rel[i], 8);
		if (target >= h.data_len) {
			snprintf(why, why_len, "relocation %u points outside the data", i);
			return why;
		}
	}
	int closed = 0;
	for (uint32_t i = 0; i < h.op_count; i++) {
		const struct op *op = &o[i];
#define BAD(...)                                        \
	do {                                            \
		int n_ = snprintf(why, why_len, "op %u: ", i); \
		snprintf(why + n_, why_len - (size_t)n_, __VA_ARGS__); \
		return why;                             \
	} while (0)
		if (op->code < TSRP_OP_SYSCALL || op->code > TSRP_OP_SEND_FD)
			BAD("unknown op code %u", op->code);
		if (op->result != TSRP_NO_REG && !reg_ok(op->result))
			BAD("result register %u out of range", op->result);
		if (op->ok_count > TSRP_MAX_OK_ERRNOS)
			BAD("%u tolerated errnos (at most %d)", op->ok_count, TSRP_MAX_OK_ERRNOS);
		if (op->label != TSRP_NO_LABEL && (op->label >= h.data_len || !memchr(d + op->label, 0, h.data_len - op->label)))
			BAD("label outside the data");
		if (op->reserved != 0)
			BAD("reserved field is not zero");
		for (int k = 0; k < TSRP_MAX_ARGS; k++) {
			int64_t v = op->args[k];
			switch (op->kinds[k]) {
			case TSRP_ARG_IMM:
			case TSRP_ARG_NULL:
				break;
			case TSRP_ARG_DATA:
				if (v < 0 || v >= (int64_t)h.data_len)
					BAD("argument %d points outside the data", k);
				break;
			case TSRP_ARG_REG:
			case TSRP_ARG_FDPATH:
				if (!reg_ok(v))
					BAD("argument %d: register %lld out of range", k, (long long)v);
				break;
			default:
				BAD("argument %d: unknown kind %u", k, op->kinds[k]);
			}
		}
		uint8_t k0 = op->kinds[0], k1 = op->kinds[1];
		switch (op->code) {
		case TSRP_OP_SYSCALL:
			if (op->flags != 0)
				BAD("unknown flags 0x%x", op->flags);
			break;
		case TSRP_OP_SYNC:
			if (closed)
				BAD("sync after the last sync");
			if (op->flags & ~(TSRP_FLAG_LAST | TSRP_FLAG_SEND_FD))
				BAD("unknown flags 0x%x", op->flags);
			if (k0 != TSRP_ARG_IMM && k0 != TSRP_ARG_REG)
				BAD("sync value is neither immediate nor register");
			if ((op->flags & TSRP_FLAG_SEND_FD) && k0 != TSRP_ARG_REG)
				BAD("sync sends an fd that is not in a register");
			if (op->flags & TSRP_FLAG_LAST)
				closed = 1;
			break;
		case TSRP_OP_FORK:
			if (closed)
				BAD("fork after the last sync");
			if (op->flags != 0)
				BAD("unknown flags 0x%x", op->flags);
			if (k0 != TSRP_ARG_IMM || (k1 != TSRP_ARG_IMM && k1 != TSRP_ARG_REG))
				BAD("fork takes immediate flags and a cgroup register");
			break;
		case TSRP_OP_SEND_FD:
			if (op->flags != 0)
				BAD("unknown flags 0x%x", op->flags);
			if ((k0 != TSRP_ARG_IMM && k0 != TSRP_ARG_REG) || (k1 != TSRP_ARG_IMM && k1 != TSRP_ARG_REG))
				BAD("send_fd takes a socket and an fd, immediate or register");
			if (op->kinds[2] == TSRP_ARG_DATA &&
			    (op->args[3] < 0 || (uint64_t)op->args[2] + (uint64_t)op->args[3] > h.data_len))
				BAD("send_fd payload outside the data");
			break;
		}
#undef BAD
	}
	return NULL;
}

/* Turn the data offsets the relocation table names into addresses. */
static void relocate(const uint32_t *rel, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		uint64_t off;
		memcpy(&off, data + rel[i], 8);
		uint64_t addr = (uint64_t)(uintptr_t)(data + off);
		memcpy(data + rel[i], &addr, 8);
	}
}

/*
 * Node ignores SIGPIPE and libuv may leave signals blocked or ignored; ignored signals and the
 * mask survive execve, so the container would inherit them. Start clean: every disposition
 * SIG_DFL, nothing blocked. Raw syscalls, because glibc refuses its own signals 32 and 33.
 */
static void reset_signals(void)
{
	/* struct kernel_sigaction of SIG_DFL is all zeros, whatever the architecture's layout. */
	uint64_t zero[4] = { 0, 0, 0, 0 };
	for (int s = 1; s <= 64; s++)
		if (s != SIGKILL && s != SIGSTOP)
			syscall(SYS_rt_sigaction, s, zero, NULL, 8);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, zero, NULL, 8);
}

/* Only stdio, the preserved fds and the sync fd may reach the container: close anything above. */
static void close_fds_above(int fd)
{
	if (syscall(SYS_close_range, (unsigned)fd + 1, ~0U, 0) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (long i = fd + 1; i < max; i++)
		close((int)i);
}

int main(int argc, char **argv)
{
	reset_signals();
	char *end;
	long fd = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || *argv[1] == 0 || *end != 0 || fd < 3 || fd > INT_MAX) {
		fprintf(stderr, "usage: tsrun-stub <syncfd>  (started by tsrun, not by hand)\n");
		_exit(TSRP_EXIT_USAGE);
	}
	sync_fd = (int)fd;
	if (fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "tsrun-stub: sync fd %d: %s\n", sync_fd, strerror(errno));
		_exit(TSRP_EXIT_USAGE);
	}
	close_fds_above(sync_fd);

	uint32_t len;
	if (read_full(sync_fd, &len, sizeof(len)) < 0)
		_exit(TSRP_EXIT_SYNC_LOST);
	if (len < TSRP_HEADER_SIZE || len > TSRP_MAX_PROGRAM) {
		fprintf(stderr, "tsrun-stub: malformed program: length %u\n", len);
		_exit(TSRP_EXIT_BAD_PROGRAM);
	}
	char *buf = malloc(len);
	if (!buf) {
		fprintf(stderr, "tsrun-stub: program of %u bytes: %s\n", len, strerror(errno));
		_exit(TSRP_EXIT_BAD_PROGRAM);
	}
	if (read_full(sync_fd, buf, len) < 0)
		_exit(TSRP_EXIT_SYNC_LOST);
	char why[160];
	const char *bad = validate(buf, len, why, sizeof(why));
	if (bad) {
		fprintf(stderr, "tsrun-stub: malformed program: %s\n", bad);
		_exit(TSRP_EXIT_BAD_PROGRAM);
	}

	struct header h;
	memcpy(&h, buf, sizeof(h));
	op_count = h.op_count;
	data_len = h.data_len;
	ops = (const struct op *)(buf + TSRP_HEADER_SIZE);
	data = buf + TSRP_HEADER_SIZE + (size_t)op_count * TSRP_OP_SIZE;
	relocate((const uint32_t *)(data + data_len), h.reloc_count);

	for (uint32_t i = 0; i < op_count; i++) {
		const struct op *op = &ops[i];
		switch (op->code) {
		case TSRP_OP_SYSCALL:
			op_syscall(i, op);
			break;
		case TSRP_OP_SYNC:
			op_sync(i, op);
			break;
		case TSRP_OP_FORK:
			op_fork(i, op);
			break;
		case TSRP_OP_SEND_FD:
			op_send_fd(i, op);
			break;
		}
	}
	if (sync_fd >= 0)
		send_msg(TSRP_MSG_DONE, op_count, 0, 0, -1);
	_exit(TSRP_EXIT_DONE);
}
