// Node's built-in modules that a command needs only sometimes, loaded synchronously when first
// needed. An ES module has no require(); createRequire() would load node:module, and Node's ES
// module loader with it (four built-in modules, ~0.5 ms), at the start of every command.
// process.getBuiltinModule (Node >= 20.16, package.json "engines") loads only the one asked for.
import { TsrunError } from './errors.js';

type GetBuiltin = typeof process.getBuiltinModule;

/** The built-in module `id`, typed as Node types it: `builtin('node:tty').isatty(2)`. */
export const builtin = ((id: string) => {
  // Typed as always there, but absent before Node 20.16.
  const load = process.getBuiltinModule as GetBuiltin | undefined;
  if (load === undefined) throw new TsrunError(`Node ${process.version} has no process.getBuiltinModule: tsrun needs Node >= 20.16`);
  return load(id);
}) as GetBuiltin;
