// What every semantic check receives: the spec, the facts about the host it
// may depend on (injected, so that checks stay pure), and a reporter that
// collects errors and warnings located by JSON pointer.

import type { ConfigProblem } from '../../errors.js';
import type { LinuxNamespace, NamespaceType, Spec } from '../types.js';

/**
 * The host facts validation depends on. host.ts reads the real ones from
 * /proc and the filesystem; tests pass a fake.
 */
export interface HostFacts {
  /** Absolute path of the bundle directory; a relative root.path is resolved against it. */
  readonly bundle: string;
  /** True if something exists at this absolute path (following symlinks). */
  exists(path: string): boolean;
  /** True if a directory exists at this absolute path (following symlinks). */
  isDirectory(path: string): boolean;
  /** /proc/sys/kernel/cap_last_cap: the highest capability number the kernel knows. */
  readonly lastCap: number;
  /** The namespace kinds the kernel supports (those with a /proc/self/ns entry). */
  readonly namespaces: ReadonlySet<NamespaceType>;
  /** The caller asked for rootless operation (--rootless, or not root). */
  readonly rootless: boolean;
  /**
   * True if `path` is the runtime's own namespace of that kind (same device and
   * inode as /proc/self/ns/<kind>): joining it is not a private namespace.
   * Absent: paths are assumed to name other namespaces.
   */
  isRuntimeNamespace?(type: NamespaceType, path: string): boolean;
}

/** Collects problems. `path` is a JSON pointer (RFC 6901) into the config. */
export interface Reporter {
  error(path: string, message: string): void;
  warn(path: string, message: string): void;
}

/** One named semantic check. It reports every problem it finds and never throws on a schema-valid spec. */
export interface Check {
  readonly name: string;
  readonly run: (spec: Spec, host: HostFacts, report: Reporter) => void;
}

export interface ValidationResult {
  readonly errors: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

/** A JSON pointer from path segments, escaping `~` and `/` as RFC 6901 says. */
export function pointer(...segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    const t = String(s);
    // Most segments (field names, indices) have nothing to escape: no regex for them.
    out += '/' + (t.includes('~') || t.includes('/') ? t.replace(/~/g, '~0').replace(/\//g, '~1') : t);
  }
  return out;
}

/** Quote a value from the config for a message. */
export function q(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** The namespace entry of a type, with its index in linux.namespaces (the first, if duplicated). */
export function findNamespace(spec: Spec, type: NamespaceType): { readonly ns: LinuxNamespace; readonly index: number } | undefined {
  const list = spec.linux?.namespaces ?? [];
  const index = list.findIndex((ns) => ns.type === type);
  const ns = list[index];
  return ns === undefined ? undefined : { ns, index };
}

/** The container gets a namespace of this type of its own: listed, and either new or joined from a path that is not the runtime's own. */
export function hasPrivateNamespace(spec: Spec, host: HostFacts, type: NamespaceType): boolean {
  const found = findNamespace(spec, type);
  if (found === undefined) return false;
  const path = found.ns.path;
  if (path === undefined || path === '') return true;
  return !(host.isRuntimeNamespace?.(type, path) ?? false);
}

/** The container creates a new namespace of this type (listed without a path). */
export function hasNewNamespace(spec: Spec, type: NamespaceType): boolean {
  const found = findNamespace(spec, type);
  return found !== undefined && (found.ns.path === undefined || found.ns.path === '');
}

export function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}

/** Every index of a list, for checks that walk arrays that may be absent. */
export function entries<T>(list: readonly T[] | undefined): [number, T][] {
  return (list ?? []).map((item, index) => [index, item]);
}

/** Own enumerable entries of a map that may be absent. */
export function mapEntries<T>(map: Readonly<Record<string, T>> | undefined): [string, T][] {
  return map === undefined ? [] : Object.entries(map);
}
