// `run`/`exec` in the foreground with a terminal and no console socket: tsrun
// receives the pty master itself and relays between it and its own terminal,
// as runc does: its stdin in raw mode, the window size copied now and on every
// SIGWINCH (stdout's 'resize'), everything restored when the process exits.
import { ReadStream, WriteStream } from 'node:tty';
import { usingStdioStreams } from '../../native/exit.js';
import * as libc from '../../native/libc.js';

/** How long output may still drain from the pty after the process exited (background children may hold it). */
const DRAIN_MS = 200;

export interface TerminalRelay {
  /** Drains the remaining output and restores tsrun's terminal. */
  finish(): Promise<void>;
}

export function relayTerminal(master: number): TerminalRelay {
  usingStdioStreams();
  const stdin = process.stdin;
  const stdout = process.stdout;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  const resize = (): void => {
    if (stdout.isTTY) libc.setWindowSize(master, stdout.rows, stdout.columns);
  };
  resize();
  stdout.on('resize', resize);

  // Two handles on one fd would close it twice: the writer gets its own copy.
  const fromPty = new ReadStream(master);
  const toPty = new WriteStream(libc.dup(master));
  let ended = false;
  const done = new Promise<void>((resolve) => {
    const end = (): void => {
      ended = true;
      resolve();
    };
    fromPty.on('end', end);
    fromPty.on('close', end);
    // EIO: the last slave fd closed.
    fromPty.on('error', end);
  });
  fromPty.pipe(stdout, { end: false });
  stdin.pipe(toPty);

  return {
    async finish(): Promise<void> {
      if (!ended) await Promise.race([done, new Promise((r) => setTimeout(r, DRAIN_MS))]);
      stdout.off('resize', resize);
      stdin.unpipe(toPty);
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
      stdin.pause();
      // Each stream closes its own fd.
      fromPty.destroy();
      toPty.destroy();
    },
  };
}
