// Loading a bundle: read config.json, parse it, validate it against the
// schema, then semantically. Nothing is created before this has passed.
// Every problem is reported at once, each with its JSON path.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { ConfigError, TsrunError } from '../errors.js';
import { configSchemaProblems } from './schema.js';
import type { Spec } from './types.js';
import type { HostFacts } from './validate/index.js';
import { validateSpec } from './validate/index.js';
import { readHostFacts } from './validate/host.js';

export const CONFIG_FILE = 'config.json';

export interface LoadedBundle {
  /** Absolute, symlink-free path of the bundle directory. */
  readonly bundle: string;
  readonly configPath: string;
  readonly spec: Spec;
  /** Absolute path of root.path (relative paths are relative to the bundle). */
  readonly rootfs: string;
  readonly warnings: readonly ConfigProblem[];
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export function resolveBundle(bundleArg: string): string {
  let bundle: string;
  try {
    bundle = realpathSync(resolve(bundleArg));
  } catch (err) {
    throw new TsrunError(`bundle ${bundleArg}: ${errnoCode(err) === 'ENOENT' ? 'no such directory' : (err as Error).message}`);
  }
  if (!statSync(bundle).isDirectory()) throw new TsrunError(`bundle ${bundleArg}: not a directory`);
  return bundle;
}

/** Parses and validates a config document; throws a ConfigError listing every problem. */
export function validateConfigText(text: string, configPath: string, host: HostFacts): { spec: Spec; warnings: ConfigProblem[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(configPath, [{ path: '', message: `invalid JSON: ${(err as Error).message}` }]);
  }
  const schemaProblems = configSchemaProblems(doc);
  // Semantic checks assume the shapes the schema guarantees: run them only on a schema-valid document.
  if (schemaProblems.length > 0) throw new ConfigError(configPath, schemaProblems);
  const spec = doc as Spec;
  const { errors, warnings } = validateSpec(spec, host);
  if (errors.length > 0) throw new ConfigError(configPath, errors);
  return { spec, warnings };
}

export function loadBundle(bundleArg: string, opts: { rootless: boolean }): LoadedBundle {
  const bundle = resolveBundle(bundleArg);
  const configPath = join(bundle, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    throw new TsrunError(`open ${configPath}: ${errnoCode(err) === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  const { spec, warnings } = validateConfigText(text, configPath, readHostFacts({ bundle, rootless: opts.rootless }));
  const rootPath = spec.root?.path ?? '';
  const rootfs = isAbsolute(rootPath) ? rootPath : join(bundle, rootPath);
  return { bundle, configPath, spec, rootfs, warnings };
}

export function formatWarning(w: ConfigProblem): string {
  return `config ${w.path || '/'}: ${w.message}`;
}
