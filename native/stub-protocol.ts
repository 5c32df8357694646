// The program format and the sync protocol between tsrun and tsrun-stub: the TypeScript half of
// native/stub/protocol.h. test/unit/native-constants.test.ts parses that header and checks every
// value here against it (keys map to C names: OP.SYSCALL <-> TSRP_OP_SYSCALL).

export const FORMAT = {
  MAGIC: 0x50525354, // "TSRP" as a little-endian u32
  VERSION: 1,
  HEADER_SIZE: 24,
  OP_SIZE: 80,
  RELOC_SIZE: 4,
  MAX_ARGS: 6,
  MAX_OK_ERRNOS: 4,
  NREGS: 16,
  NO_REG: 255,
  NO_LABEL: 4294967295,
  MAX_PROGRAM: 67108864,
  MSG_SIZE: 24,
  REPLY_SIZE: 16,
  REPLY_OK: 0,
} as const;

/** Op codes. */
export const OP = {
  SYSCALL: 1,
  SYNC: 2,
  FORK: 3,
  SEND_FD: 4,
} as const;
export type OpCode = (typeof OP)[keyof typeof OP];

/** Argument kinds. */
export const ARG = {
  IMM: 0,
  DATA: 1,
  NULL: 2,
  REG: 3,
  FDPATH: 4,
} as const;
export type ArgKind = (typeof ARG)[keyof typeof ARG];

/** Op flags. */
export const FLAG = {
  /** SYNC: close the sync channel after the reply; later failures are printed on stderr. */
  LAST: 1,
  /** SYNC: attach the fd held in the value's register to the message. */
  SEND_FD: 2,
} as const;

/** Message types, stub -> tsrun. */
export const MSG = {
  SYNC: 1,
  CHILD_PID: 2,
  ERROR: 3,
  DONE: 4,
} as const;

/** Exit statuses of the stub itself, before it execs anything. */
export const EXIT = {
  DONE: 0,
  OP_FAILED: 120,
  BAD_PROGRAM: 121,
  USAGE: 122,
  SYNC_LOST: 123,
  ABORTED: 124,
  PROTOCOL: 125,
} as const;

/** The C prefix of each table above, for the consistency test. */
export const C_PREFIXES = {
  FORMAT: 'TSRP_',
  OP: 'TSRP_OP_',
  ARG: 'TSRP_ARG_',
  FLAG: 'TSRP_FLAG_',
  MSG: 'TSRP_MSG_',
  EXIT: 'TSRP_EXIT_',
} as const;
