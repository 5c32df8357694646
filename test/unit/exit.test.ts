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
    const { execArgv } = process;
    const options = process.env.NODE_OPTIONS;
    try {
      process.execArgv = [];
      delete process.env.NODE_OPTIONS;
      expect(endWith(0)).toMatchObject({ how: '_exit', status: 0 });
    } finally {
      process.execArgv = execArgv;
      if (options !== undefined) process.env.NODE_OPTIONS = options;
    }
    expect(exit).not.toHaveBeenCalled();
  });

  it('lets Node exit when its flags or variables make it write at exit (a profile, coverage)', () => {
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exited('process.exit', Number(code));
    });
    offerImmediateExit((status) => {
      throw new Exited('_exit', status);
    });
    const { execArgv } = process;
    const env = { NODE_OPTIONS: process.env.NODE_OPTIONS, NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE };
    try {
      process.execArgv = [];
      delete process.env.NODE_OPTIONS;
      delete process.env.NODE_V8_COVERAGE;
      expect(endWith(1)).toMatchObject({ how: '_exit' });
      process.execArgv = ['--cpu-prof'];
      expect(endWith(1)).toMatchObject({ how: 'process.exit' });
      process.execArgv = [];
      process.env.NODE_V8_COVERAGE = '/tmp/coverage';
      expect(endWith(1)).toMatchObject({ how: 'process.exit' });
      delete process.env.NODE_V8_COVERAGE;
      process.env.NODE_OPTIONS = '--heap-prof';
      expect(endWith(1)).toMatchObject({ how: 'process.exit' });
    } finally {
      process.execArgv = execArgv;
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('goes back to process.exit after Node stdio streams were used (Node restores the terminal)', () => {
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exited('process.exit', Number(code));
    });
    usingStdioStreams();
    expect(endWith(7)).toMatchObject({ how: 'process.exit', status: 7 });
  });
});
