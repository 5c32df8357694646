// Schema validation of runtime-spec documents (config.json, state, features).
//
// The schemas live in schemas/ (draft-07, written for runtime-spec 1.3) and are compiled at
// build time by scripts/build-schemas.mjs into schema-validators.generated.ts; this is the only
// module that imports that file, and the only one that knows ajv (for its error type).
// What a schema cannot say (absolute paths, namespace combinations, ...) is the semantic
// validation's job, run after this.
//
// Every function returns all the problems of a document, each located by the JSON pointer of the
// offending value and explained in words a user can act on; an empty list means valid.

import type { ErrorObject } from 'ajv';
import type { ConfigProblem } from '../errors.js';
import * as generated from './schema-validators.generated.js';

/** A validator compiled by ajv (standalone code): returns validity, leaves the errors on itself. */
interface CompiledValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

const validators: Readonly<Record<'config' | 'state' | 'features', CompiledValidator>> = {
  config: generated.validateConfig as unknown as CompiledValidator,
  state: generated.validateState as unknown as CompiledValidator,
  features: generated.validateFeatures as unknown as CompiledValidator,
};

/** Problems of a parsed config.json against the runtime-spec 1.3 config schema. */
export function configSchemaProblems(doc: unknown): ConfigProblem[] {
  return schemaProblems(validators.config, doc);
}

/** Problems of a container state document (runtime.md State; `paused` included). */
export function stateSchemaProblems(doc: unknown): ConfigProblem[] {
  return schemaProblems(validators.state, doc);
}

/** Problems of a Features structure (features.md). */
export function featuresSchemaProblems(doc: unknown): ConfigProblem[] {
  return schemaProblems(validators.features, doc);
}

function schemaProblems(validate: CompiledValidator, doc: unknown): ConfigProblem[] {
  if (validate(doc)) return [];
  return explainErrors(validate.errors ?? []);
}

/**
 * Turns ajv's errors into problems: one per offending value, with the keyword noise removed
 * (`if` wrappers, the branch errors of an `anyOf`/`oneOf`, the inner errors of `propertyNames`)
 * and duplicates (the same rule reached through two subschemas) dropped.
 */
export function explainErrors(errors: readonly ErrorObject[]): ConfigProblem[] {
  const consumed = new Set<ErrorObject>();

  // anyOf/oneOf: ajv reports the errors of every failing branch, then the combinator. Fold the
  // branches into the combinator's message. Branch errors precede their combinator, and schema
  // paths are relative to each compiled definition (two definitions can both have `#/anyOf`), so
  // take only earlier, unclaimed errors under the same instance; going in order lets a nested
  // combinator claim its own branches first.
  const combined = new Map<ErrorObject, string>();
  errors.forEach((error, index) => {
    if (error.keyword !== 'anyOf' && error.keyword !== 'oneOf') return;
    const prefix = `${error.schemaPath}/`;
    const branches = errors
      .slice(0, index)
      .filter((e) => !consumed.has(e) && e.schemaPath.startsWith(prefix) && isWithin(e.instancePath, error.instancePath));
    for (const branch of branches) consumed.add(branch);
    combined.set(error, combinatorMessage(error, branches, prefix));
  });

  // propertyNames: ajv reports the inner failure (marked with `propertyName`), then its own error.
  const nameErrors = errors.filter((e) => e.propertyName !== undefined && e.keyword !== 'propertyNames');
  for (const e of nameErrors) consumed.add(e);

  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (consumed.has(error) || error.keyword === 'if') continue; // `if`: its then/else errors are reported
    const problem =
      combined.has(error) ? { path: error.instancePath, message: combined.get(error) ?? '' }
      : error.keyword === 'propertyNames' ? propertyNameProblem(error, nameErrors)
      : explainError(error);
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function explainError(error: ErrorObject): ConfigProblem {
  const path = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const title = titleOf(error);
  const about = title === undefined ? '' : ` (${title})`;
  switch (error.keyword) {
    case 'required':
      return {
        path: childPath(path, String(params.missingProperty)),
        message: `required property ${quote(params.missingProperty)} is missing`,
      };
    case 'dependencies':
      return {
        path: childPath(path, String(params.missingProperty)),
        message: `required property ${quote(params.missingProperty)} is missing: ${quote(params.property)} is set, and needs it`,
      };
    case 'additionalProperties':
      return {
        path: childPath(path, String(params.additionalProperty)),
        message: `unknown property ${quote(params.additionalProperty)} is not allowed here`,
      };
    case 'type':
      return { path, message: `expected ${typeList(params.type)}${about}, got ${describe(error.data)}` };
    case 'enum':
      return {
        path,
        message: `${describe(error.data)} is not a valid ${title ?? 'value'}; allowed values: ${listValues(params.allowedValues)}`,
      };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}, got ${describe(error.data)}` };
    case 'pattern':
      return { path, message: `${describe(error.data)} does not match the pattern ${String(params.pattern)}${about}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        path,
        message: `must be ${String(params.comparison)} ${formatLimit(params.limit)}${about}, got ${describe(error.data)}`,
      };
    case 'minItems':
      return {
        path,
        message: `must have at least ${plural(Number(params.limit), 'item')}, got ${countOf(error.data)}`,
      };
    case 'maxItems':
      return { path, message: `must have at most ${plural(Number(params.limit), 'item')}, got ${countOf(error.data)}` };
    case 'minLength':
      return {
        path,
        message:
          params.limit === 1 ? `must not be empty${about}` : `must be at least ${plural(Number(params.limit), 'character')} long${about}`,
      };
    case 'maxLength':
      return { path, message: `must be at most ${plural(Number(params.limit), 'character')} long${about}` };
    default:
      return { path, message: error.message ?? `fails the schema's ${error.keyword} rule` };
  }
}

/** One message for a failed anyOf/oneOf, from the errors of its branches. */
function combinatorMessage(error: ErrorObject, branches: readonly ErrorObject[], prefix: string): string {
  if (error.keyword === 'oneOf' && branches.length === 0) {
    return 'matches more than one of the allowed forms; it must match exactly one';
  }
  // The usual case here: "at least one of these properties" (anyOf of `required`).
  if (branches.length > 0 && branches.every((b) => b.keyword === 'required' && b.instancePath === error.instancePath)) {
    const names = branches.map((b) => quote((b.params as Record<string, unknown>).missingProperty));
    return `must have at least one of the properties ${names.join(', ')}`;
  }
  // Otherwise: describe each branch (the index after the prefix) with its first problem.
  const byBranch = new Map<string, string[]>();
  for (const branch of branches) {
    const index = branch.schemaPath.slice(prefix.length).split('/')[0] ?? '';
    const { path, message } = explainError(branch);
    const where = path === error.instancePath ? '' : `${path.slice(error.instancePath.length)}: `;
    byBranch.set(index, [...(byBranch.get(index) ?? []), `${where}${message}`]);
  }
  const alternatives = [...byBranch.values()].map((messages) => messages.join(' and '));
  return `matches none of the allowed forms: ${alternatives.join('; or ')}`;
}

function propertyNameProblem(error: ErrorObject, nameErrors: readonly ErrorObject[]): ConfigProblem {
  const name = String((error.params as Record<string, unknown>).propertyName);
  const inner = nameErrors.find((e) => e.instancePath === error.instancePath && e.propertyName === name);
  const what = inner === undefined ? undefined : titleOf(inner);
  const why = inner === undefined ? 'is not allowed' : explainError(inner).message.replace(/ \([^)]*\)$/, '');
  return { path: childPath(error.instancePath, name), message: `${what ?? 'property name'} ${quote(name)} ${why}` };
}

/** The `title` of the schema holding the failed keyword: the short name of the expected type. */
function titleOf(error: ErrorObject): string | undefined {
  const title: unknown = error.parentSchema?.title;
  return typeof title === 'string' ? title : undefined;
}

function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

/** JSON pointer of a property of the object at `parent` (RFC 6901 escaping). */
function childPath(parent: string, name: string): string {
  return `${parent}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function quote(value: unknown): string {
  return JSON.stringify(String(value));
}

function typeList(type: unknown): string {
  const types = Array.isArray(type) ? type.map(String) : String(type).split(',');
  return types.join(' or ');
}

function listValues(values: unknown): string {
  return Array.isArray(values) ? values.map((v) => JSON.stringify(v)).join(', ') : JSON.stringify(values);
}

/** A value as a message shows it: its JSON type, and the value itself when short. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${plural(value.length, 'item')}`;
  switch (typeof value) {
    case 'string':
      return value.length <= 60 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 57))}...`;
    case 'number':
      return Number.isInteger(value) ? `integer ${value}` : `number ${value}`;
    case 'boolean':
      return `boolean ${value}`;
    case 'object':
      return 'an object';
    case 'undefined':
      return 'nothing';
    default:
      return typeof value;
  }
}

function countOf(value: unknown): string {
  return Array.isArray(value) ? String(value.length) : describe(value);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// The integer limits beyond 2^53 come out of JSON.parse rounded; show them as the spec writes them.
const EXACT_LIMITS = new Map<number, string>([
  [2 ** 64, '18446744073709551615'],
  [2 ** 63, '9223372036854775807'],
  [-(2 ** 63), '-9223372036854775808'],
]);

function formatLimit(limit: unknown): string {
  return typeof limit === 'number' ? (EXACT_LIMITS.get(limit) ?? String(limit)) : String(limit);
}
