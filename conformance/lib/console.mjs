// @ts-check
// A console socket for `--console-socket`: Node cannot receive file
// descriptors (SCM_RIGHTS), so a small Python receiver (console-receiver.py)
// gets the pty master, and reports what it got and what the container wrote.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { python3 } from './env.mjs';

const RECEIVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'console-receiver.py');

/** @returns {string | null} why console cases cannot run, or null */
export function consoleSkipReason() {
  return python3() ? null : 'needs python3 for the console socket receiver (Node cannot receive fds over a unix socket)';
}

/**
 * @param {import('./kit.mjs').Kit} k
 * @param {{ input?: string, timeoutS?: number }} [o]
 */
export async function consoleReceiver(k, o = {}) {
  const py = python3();
  if (!py) throw new Error(/** @type {string} */ (consoleSkipReason()));
  const socket = path.join(k.dir, 'console.sock');
  const out = path.join(k.dir, 'console.out');
  const args = [RECEIVER, socket, out, '--timeout', String(o.timeoutS ?? 20)];
  if (o.input != null) args.push('--input', o.input);
  const child = spawn(py, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  k.onCleanup(() => {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  });
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const ready = await new Promise((resolve) => {
    let buf = '';
    const timer = setTimeout(() => resolve(false), 5000);
    child.stdout?.on('data', (d) => {
      buf += String(d);
      if (buf.includes('ready')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.on('exit', () => resolve(false));
  });
  return {
    socket,
    ready,
    exited,
    stderr: () => stderr,
    /** what the container wrote on its terminal so far */
    output: () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : ''),
    /** @returns {any} what the receiver got (fds, isatty, ptn), or null */
    meta: () => {
      try {
        return JSON.parse(fs.readFileSync(`${out}.meta`, 'utf8'));
      } catch {
        return null;
      }
    },
  };
}
