// Logging as runc's callers read it.
//
// runc logs through logrus: text lines `time="..." level=error msg="..."` (or
// `ERRO[0000] msg` on a terminal), or JSON lines with --log-format json. With
// --log FILE the lines go to FILE and the bare error message also goes to
// stderr. containerd keeps the last line of the file whose level is "error";
// Podman parses the whole file as ONE JSON object, so without --debug only the
// final error line is written to the file: warnings then go to stderr only.
import { appendFileSync, fstatSync, readlinkSync, writeSync } from 'node:fs';
import { builtin } from './builtin.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  readonly file?: string | undefined;
  readonly format: LogFormat;
  readonly debug: boolean;
}

const STDERR = 2;
const TERMINAL_LEVEL: Record<LogLevel, string> = { debug: 'DEBU', info: 'INFO', warning: 'WARN', error: 'ERRO' };

/** RFC 3339 in UTC: to the second as logrus writes it, or with nanoseconds as runc's state `created`. */
export function rfc3339(date: Date, fraction: 'none' | 'nanoseconds' = 'none'): string {
  // By hand, not Date#toISOString: that makes V8 load the time zone (glibc's tzset reads
  // /etc/localtime and resolves its links, ~0.5 ms) although UTC never needs it.
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  const day = `${String(date.getUTCFullYear()).padStart(4, '0')}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}`;
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  // runc prints nanoseconds in state's `created`; a Date holds milliseconds.
  const frac = fraction === 'nanoseconds' ? `.${String(date.getUTCMilliseconds()).padStart(3, '0')}000000` : '';
  return `${day}T${time}${frac}Z`;
}

/** logrus quotes a text value when it holds anything but [A-Za-z0-9-._/@^+]. */
function logrusValue(value: string): string {
  return /^[A-Za-z0-9\-._/@^+]+$/.test(value) ? value : JSON.stringify(value);
}

export function formatLine(format: LogFormat, level: LogLevel, msg: string, time: Date): string {
  if (format === 'json') return `${JSON.stringify({ level, msg, time: rfc3339(time) })}\n`;
  return `time=${logrusValue(rfc3339(time))} level=${level} msg=${logrusValue(msg)}\n`;
}

/**
 * isatty(2), asked only when a line is written. node:tty costs several ms of start-up (it
 * loads net and stream), so it is loaded only for a character device that can be a terminal:
 * not for a file or pipe, nor for /dev/null (where daemons send a runtime's stderr).
 */
function stderrIsTerminal(): boolean {
  try {
    if (!fstatSync(STDERR).isCharacterDevice()) return false;
    if (!/^\/dev\/(pts\/|tty|console)/.test(readlinkSync('/proc/self/fd/2'))) return false;
  } catch {
    // no /proc: ask isatty
  }
  return builtin('node:tty').isatty(STDERR);
}

export class Logger {
  private readonly started = Date.now();

  constructor(
    private readonly options: LogOptions,
    private readonly now: () => Date = () => new Date(),
    private stderrIsTerminal: boolean | undefined = undefined,
  ) {}

  get debugEnabled(): boolean {
    return this.options.debug;
  }

  debug(msg: string): void {
    if (this.options.debug) this.emit('debug', msg);
  }

  info(msg: string): void {
    if (this.options.debug) this.emit('info', msg);
  }

  warn(msg: string): void {
    this.emit('warning', msg);
  }

  error(msg: string): void {
    this.emit('error', msg);
  }

  private emit(level: LogLevel, msg: string): void {
    const { file, format, debug } = this.options;
    if (file !== undefined) {
      // Only errors reach the file unless --debug (Podman reads it as one JSON object).
      if (level === 'error' || debug) appendLine(file, formatLine(format, level, msg, this.now()));
      // The file is for programs; a person at the terminal still sees errors and warnings.
      if (level === 'error' || (level === 'warning' && !debug)) writeStderr(`${msg}\n`);
      return;
    }
    if (format === 'text' && (this.stderrIsTerminal ??= stderrIsTerminal())) {
      const secs = String(Math.floor((Date.now() - this.started) / 1000)).padStart(4, '0');
      writeStderr(`${TERMINAL_LEVEL[level]}[${secs}] ${msg}\n`);
      return;
    }
    writeStderr(formatLine(format, level, msg, this.now()));
  }
}

function appendLine(file: string, line: string): void {
  try {
    appendFileSync(file, line, { mode: 0o600 });
  } catch (err) {
    writeStderr(`tsrun: cannot write log file ${file}: ${(err as Error).message}\n${line}`);
  }
}

/** Writes with fs, never process.stderr: libuv would make a caller's pipe O_NONBLOCK. */
export function writeStderr(text: string): void {
  try {
    writeSync(STDERR, text);
  } catch {
    // stderr closed: nothing left to tell anyone.
  }
}

export function writeStdout(text: string): void {
  writeSync(1, text);
}
