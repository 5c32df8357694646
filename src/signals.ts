// Signal names as runc's kill takes them: KILL, SIGKILL, 9, sigkill.
import { SIG, signals } from '../native/constants.js';
import { UsageError } from './errors.js';

export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= SIG.SIGRTMAX) return n;
    throw new UsageError(`invalid signal ${text}: out of range 1..${SIG.SIGRTMAX}`);
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const n = signals()[name];
  if (n === undefined) throw new UsageError(`unknown signal "${text}"`);
  return n;
}
