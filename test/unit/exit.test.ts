// native/exit.ts: tsrun ends with _exit(2) once libc is bound, unless Node's stdio streams were used.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitProcess, offerImmediateExit, usingStdioStreams } from '../../native/exit.js';

class Exited extends Error {
  constructor(
    readonly how: string,
    readonly status: number,
  ) {
    super(`${how}(${status})`);
  }
}

function endWith(status: number): Exited {
  try {
    exitProcess(status);
  } catch (e) {
    if (e instanceof Exited) return e;
    throw e;
  }
  throw new Error('exitProcess returned');
}

describe('exitProcess', () => {
  afterEach(() => vi.restoreAllMocks());

  // One module instance: the cases run in the order a process lives them.
  it('uses process.exit while libc has offered nothing', () => {
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exited('process.exit', Number(code));
    });
    expect(endWith(3)).toMatchObject({ how: 'process.exit', status: 3 });
  });

  it('uses the offered _exit once libc is bound', () => {
    const exit = vi.spyOn(process, 'exit');
    offerImmediateExit((status) => {
      throw new Exited('_exit', status);
    });
    expect(endWith(0)).toMatchObject({ how: '_exit', status: 0 });
    expect(exit).not.toHaveBeenCalled();
  });

  it('goes back to process.exit after Node stdio streams were used (Node restores the terminal)', () => {
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exited('process.exit', Number(code));
    });
    usingStdioStreams();
    expect(endWith(7)).toMatchObject({ how: 'process.exit', status: 7 });
  });
});
