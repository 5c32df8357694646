// What every command receives: the parsed global options, the logger and the
// state store. The store (and the FFI behind its lock) is built on first use,
// so commands that do not need it do not pay for it.
import type { Logger } from '../log.js';
import type { StateStore } from '../state/store.js';
import type { Command, GlobalOptions } from './parse.js';

export interface Context {
  readonly global: GlobalOptions;
  readonly logger: Logger;
  store(): Promise<StateStore>;
}

/** A command module's default export: runs the command, returns the exit status. */
export type CommandRunner<C extends Command = Command> = (command: C, ctx: Context) => Promise<number>;

export type CommandOf<N extends Command['name']> = Extract<Command, { name: N }>;
