import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { ConfigProblem } from '../../src/errors.js';
import { configSchemaProblems, explainErrors, featuresSchemaProblems, stateSchemaProblems } from '../../src/spec/schema.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(repo, 'test/fixtures/schema');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

function paths(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => p.path);
}

/** The smallest config our schema accepts on Linux. */
function minimalConfig(): JsonObject {
  return { ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } } };
}

function files(dir: string): string[] {
  return readdirSync(join(fixtures, dir)).filter((f) => f.endsWith('.json')).sort();
}

// ---------------------------------------------------------------------------------------------
// runtime-spec's own schema tests (schema/test in opencontainers/runtime-spec 1.3)
// ---------------------------------------------------------------------------------------------

describe('runtime-spec schema tests: config', () => {
  it.each(files('config/good'))('good/%s is valid', (file) => {
    expect(configSchemaProblems(readJson(join(fixtures, 'config/good', file)))).toEqual([]);
  });

  // The JSON pointer each bad fixture must be rejected at.
  const badConfigs: Record<string, string | 'invalid JSON'> = {
    'freebsd-vnet-disable.json': '/freebsd/jail/vnet',
    'linux-hugepage.json': '/linux/resources/hugepageLimits/0/pageSize',
    'linux-netdevice.json': '/linux/netDevices/eth0/name',
    'linux-rdma.json': '/linux/resources/rdma/mlx5_1/hcaHandles',
    // Not JSON at all: rejecting it is the config loader's job (JSON.parse), before any schema.
    'invalid-json.json': 'invalid JSON',
  };

  it('has an expectation for every bad fixture', () => {
    expect(files('config/bad')).toEqual(Object.keys(badConfigs).sort());
  });

  it.each(Object.entries(badConfigs))('bad/%s is rejected at %s', (file, expected) => {
    const text = readFileSync(join(fixtures, 'config/bad', file), 'utf8');
    if (expected === 'invalid JSON') {
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
      return;
    }
    const problems = configSchemaProblems(JSON.parse(text) as unknown);
    expect(paths(problems)).toEqual([expected]);
  });

  it('explains the bad fixtures precisely', () => {
    const bad = (file: string) => configSchemaProblems(readJson(join(fixtures, 'config/bad', file)))[0]?.message;
    expect(bad('freebsd-vnet-disable.json')).toBe('"disable" is not a valid jail sharing mode; allowed values: "new", "inherit"');
    expect(bad('linux-hugepage.json')).toBe(
      '"64kB" does not match the pattern ^[1-9][0-9]*[KMG]B$ (hugepage size like 64KB, 2MB or 1GB)',
    );
    expect(bad('linux-netdevice.json')).toBe('expected string, got integer 23');
    expect(bad('linux-rdma.json')).toBe('expected integer (uint32), got "not a uint32"');
  });
});

describe('runtime-spec schema tests: state and features', () => {
  it.each(files('state/good'))('state good/%s is valid', (file) => {
    expect(stateSchemaProblems(readJson(join(fixtures, 'state/good', file)))).toEqual([]);
  });

  it('state bad fixtures: invalid-json.json is not JSON (the loader rejects it)', () => {
    expect(files('state/bad')).toEqual(['invalid-json.json']);
    expect(() => readJson(join(fixtures, 'state/bad/invalid-json.json'))).toThrow(SyntaxError);
  });

  it.each(files('features/good'))('features good/%s is valid', (file) => {
    expect(featuresSchemaProblems(readJson(join(fixtures, 'features/good', file)))).toEqual([]);
  });

  it('features bad/missing-ociVersionMax.json is rejected at /ociVersionMax', () => {
    expect(files('features/bad')).toEqual(['missing-ociVersionMax.json']);
    const problems = featuresSchemaProblems(readJson(join(fixtures, 'features/bad/missing-ociVersionMax.json')));
    expect(problems).toEqual([{ path: '/ociVersionMax', message: 'required property "ociVersionMax" is missing' }]);
  });
});

describe('configs written by real callers', () => {
  it.each(files('real-configs'))('%s is valid', (file) => {
    expect(configSchemaProblems(readJson(join(fixtures, 'real-configs', file)))).toEqual([]);
  });

  it('a config setting every Linux field is valid', () => {
    expect(configSchemaProblems(readJson(join(fixtures, 'full-linux-config.json')))).toEqual([]);
  });

  it('a features document setting every field is valid', () => {
    expect(featuresSchemaProblems(readJson(join(fixtures, 'full-features.json')))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Focused cases
// ---------------------------------------------------------------------------------------------

describe('config: focused cases', () => {
  it('accepts the minimal Linux config', () => {
    expect(configSchemaProblems(minimalConfig())).toEqual([]);
  });

  it('names a wrong namespace type by its pointer and lists the allowed types', () => {
    const config = minimalConfig();
    config.linux = { namespaces: [{ type: 'pid' }, { type: 'net' }] };
    const problems = configSchemaProblems(config);
    expect(paths(problems)).toEqual(['/linux/namespaces/1/type']);
    const config0 = minimalConfig();
    config0.linux = { namespaces: [{ type: 'netns' }] };
    const [problem] = configSchemaProblems(config0);
    expect(problem?.path).toBe('/linux/namespaces/0/type');
    expect(problem?.message).toBe(
      '"netns" is not a valid Linux namespace type; allowed values: ' +
        '"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"',
    );
  });

  it('rejects a hook timeout of 0 and accepts 1', () => {
    const config = minimalConfig();
    config.hooks = { poststart: [{ path: '/bin/true', timeout: 0 }] };
    expect(configSchemaProblems(config)).toEqual([
      { path: '/hooks/poststart/0/timeout', message: 'must be >= 1 (hook timeout in seconds), got integer 0' },
    ]);
    config.hooks = { poststart: [{ path: '/bin/true', timeout: 1 }] };
    expect(configSchemaProblems(config)).toEqual([]);
  });

  it('accepts unknown properties at the top level and nested (config.md Extensibility)', () => {
    const config = readJson(join(fixtures, 'full-linux-config.json'));
    if (!isObject(config) || !isObject(config.process) || !isObject(config.linux)) throw new Error('fixture');
    config['com.example.unknown'] = { anything: [1, 2, 3] };
    config.futureField = 42;
    config.process.futureProcessField = 'x';
    const resources = config.linux.resources;
    if (!isObject(resources) || !isObject(resources.memory)) throw new Error('fixture');
    resources.memory.futureLimit = 'whatever';
    resources.futureController = { x: 1 };
    const seccomp = config.linux.seccomp;
    if (!isObject(seccomp) || !Array.isArray(seccomp.syscalls) || !isObject(seccomp.syscalls[0])) throw new Error('fixture');
    seccomp.syscalls[0].comment = 'an annotation some generators add';
    config.linux.intelRdt = { closID: 'x', enableCMT: true, enableMBM: true }; // replaced in 1.3, now unknown
    expect(configSchemaProblems(config)).toEqual([]);
  });

  it('reports several problems at once, each at its own pointer', () => {
    const config: JsonObject = {
      ociVersion: '1.0',
      root: { path: 7 },
      process: { args: ['sh'], user: { uid: -1, gid: 0 } },
      linux: {
        namespaces: [{ type: 'pid' }, { path: '/proc/1/ns/net' }],
        seccomp: { defaultAction: 'SCMP_ACT_DENY' },
        resources: { memory: { limit: '1G' } },
      },
    };
    const problems = configSchemaProblems(config);
    expect(new Set(paths(problems))).toEqual(
      new Set([
        '/ociVersion',
        '/root/path',
        '/process/cwd',
        '/process/user/uid',
        '/linux/namespaces/1/type',
        '/linux/seccomp/defaultAction',
        '/linux/resources/memory/limit',
      ]),
    );
    const byPath = new Map(problems.map((p) => [p.path, p.message]));
    expect(byPath.get('/ociVersion')).toMatch(/^"1\.0" does not match the pattern \^.*\(SemVer 2\.0\.0 version\)$/);
    expect(byPath.get('/root/path')).toBe('expected string, got integer 7');
    expect(byPath.get('/process/cwd')).toBe('required property "cwd" is missing');
    expect(byPath.get('/process/user/uid')).toBe('must be >= 0 (uint32), got integer -1');
    expect(byPath.get('/linux/namespaces/1/type')).toBe('required property "type" is missing');
    expect(byPath.get('/linux/seccomp/defaultAction')).toMatch(
      /^"SCMP_ACT_DENY" is not a valid seccomp action; allowed values: "SCMP_ACT_KILL", .*"SCMP_ACT_NOTIFY"$/,
    );
    expect(byPath.get('/linux/resources/memory/limit')).toBe('expected integer (int64), got "1G"');
  });

  it('requires ociVersion, in SemVer 2.0.0 form', () => {
    const config = minimalConfig();
    delete config.ociVersion;
    expect(configSchemaProblems(config)).toEqual([{ path: '/ociVersion', message: 'required property "ociVersion" is missing' }]);
    for (const good of ['1.0.0', '1.0.2-dev', '1.1.0-rc.2', '0.5.0-dev', '1.3.0+build.5']) {
      expect(configSchemaProblems({ ...minimalConfig(), ociVersion: good }), good).toEqual([]);
    }
    for (const bad of ['1.0', 'v1.0.0', '01.0.0', '1.0.0-', '', '1.0.0 ']) {
      expect(paths(configSchemaProblems({ ...minimalConfig(), ociVersion: bad })), bad).toEqual(['/ociVersion']);
    }
  });

  it('requires root except on Windows (config.md Root)', () => {
    const config = minimalConfig();
    delete config.root;
    expect(configSchemaProblems(config)).toEqual([{ path: '/root', message: 'required property "root" is missing' }]);
    const windows: JsonObject = {
      ociVersion: '1.3.0',
      process: { cwd: 'C:\\', commandLine: 'cmd.exe', user: { username: 'ContainerUser' } },
      windows: { layerFolders: ['C:\\layers\\base'], resources: { cpu: { affinity: [{ mask: 3, group: 0 }] } } },
    };
    expect(configSchemaProblems(windows)).toEqual([]);
  });

  it('on POSIX platforms, process needs at least one arg and user needs uid and gid', () => {
    const config = minimalConfig();
    config.process = { cwd: '/', args: [], user: { gid: 0 } };
    expect(configSchemaProblems(config)).toEqual([
      { path: '/process/args', message: 'must have at least 1 item, got 0' },
      { path: '/process/user/uid', message: 'required property "uid" is missing' },
    ]);
    config.process = { cwd: '/' };
    expect(configSchemaProblems(config)).toEqual([{ path: '/process/args', message: 'required property "args" is missing' }]);
  });

  it('on Windows, process needs args or commandLine: one message, not one per alternative', () => {
    const windows: JsonObject = { ociVersion: '1.3.0', process: { cwd: 'C:\\' }, windows: { layerFolders: ['C:\\l'] } };
    expect(configSchemaProblems(windows)).toEqual([
      { path: '/process', message: 'must have at least one of the properties "args", "commandLine"' },
    ]);
  });

  it('collapses "at least one of" rules into one problem per object', () => {
    const config = minimalConfig();
    config.linux = {
      resources: {
        blockIO: { weightDevice: [{ major: 8, minor: 0 }] },
        rdma: { mlx5_1: {} },
      },
    };
    expect(configSchemaProblems(config)).toEqual([
      {
        path: '/linux/resources/blockIO/weightDevice/0',
        message: 'must have at least one of the properties "weight", "leafWeight"',
      },
      { path: '/linux/resources/rdma/mlx5_1', message: 'must have at least one of the properties "hcaHandles", "hcaObjects"' },
    ]);
  });

  it('mount uidMappings and gidMappings go together', () => {
    const config = minimalConfig();
    config.mounts = [
      {
        destination: '/data',
        source: '/data',
        options: ['bind', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
      },
    ];
    expect(configSchemaProblems(config)).toEqual([
      {
        path: '/mounts/0/gidMappings',
        message: 'required property "gidMappings" is missing: "uidMappings" is set, and needs it',
      },
    ]);
  });

  it('devices need major and minor unless they are fifos', () => {
    const config = minimalConfig();
    config.linux = { devices: [{ path: '/dev/null', type: 'c' }, { path: '/dev/fifo', type: 'p' }] };
    expect(paths(configSchemaProblems(config))).toEqual(['/linux/devices/0/major', '/linux/devices/0/minor']);
  });

  it('rejects an empty annotation key, accepts an empty value', () => {
    const config = minimalConfig();
    config.annotations = { 'com.example.ok': '', '': 'x' };
    expect(configSchemaProblems(config)).toEqual([{ path: '/annotations/', message: 'annotation key "" must not be empty' }]);
    config.annotations = { 'com.example.n': 1 };
    expect(configSchemaProblems(config)).toEqual([{ path: '/annotations/com.example.n', message: 'expected string, got integer 1' }]);
  });

  it('escapes pointer tokens (RFC 6901) in reported paths', () => {
    const config = minimalConfig();
    config.linux = { sysctl: { 'net/ipv4~x': 1 } };
    expect(paths(configSchemaProblems(config))).toEqual(['/linux/sysctl/net~1ipv4~0x']);
  });

  it('quotes exact integer limits, beyond what a double holds', () => {
    const config = minimalConfig();
    config.process = { ...(config.process as JsonObject), rlimits: [{ type: 'RLIMIT_NOFILE', soft: -1, hard: 1e20 }] };
    expect(configSchemaProblems(config)).toEqual([
      { path: '/process/rlimits/0/soft', message: 'must be >= 0 (uint64), got integer -1' },
      { path: '/process/rlimits/0/hard', message: 'must be <= 18446744073709551615 (uint64), got integer 100000000000000000000' },
    ]);
  });

  it('follows the spec text where it is stricter than upstream schema', () => {
    const config = minimalConfig();
    config.process = { ...(config.process as JsonObject), ioPriority: { class: 'IOPRIO_CLASS_RT' } };
    config.linux = {
      memoryPolicy: { nodes: '0' },
      personality: {},
      seccomp: { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' },
      resources: { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0 }] } },
    };
    expect(paths(configSchemaProblems(config))).toEqual([
      '/process/ioPriority/priority',
      '/linux/resources/blockIO/throttleReadBpsDevice/0/rate',
      '/linux/memoryPolicy/mode',
      '/linux/seccomp/listenerPath',
      '/linux/personality/domain',
    ]);
  });

  it('follows the spec text where it is looser than upstream schema', () => {
    const config = minimalConfig();
    config.linux = {
      resources: { pids: {} }, // 1.3: limit is OPTIONAL
      devices: [{ path: '/dev/x', type: 'c', major: 1, minor: 1, fileMode: 8630 }], // uint32, not 0..511
    };
    expect(configSchemaProblems(config)).toEqual([]);
  });

  it('does not enum-check capability names (unknown ones are a warning later)', () => {
    const config = minimalConfig();
    config.process = { ...(config.process as JsonObject), capabilities: { bounding: ['CAP_FROM_THE_FUTURE'] } };
    expect(configSchemaProblems(config)).toEqual([]);
  });

  it.each([
    ['null', null, 'null'],
    ['an array', [], 'an array of 0 items'],
    ['a string', 'config', '"config"'],
  ])('rejects %s as a document, at the root pointer', (_name, doc, described) => {
    expect(configSchemaProblems(doc)).toEqual([{ path: '', message: `expected object, got ${described}` }]);
  });
});

describe('state: focused cases', () => {
  const state = (over: JsonObject): JsonObject => ({
    ociVersion: '1.3.0',
    id: 'c1',
    status: 'running',
    pid: 4422,
    bundle: '/containers/c1',
    ...over,
  });

  it.each(['creating', 'created', 'running', 'paused', 'stopped'])('accepts status %s', (status) => {
    expect(stateSchemaProblems(state({ status }))).toEqual([]);
  });

  it('rejects an unknown status, listing the known ones', () => {
    expect(stateSchemaProblems(state({ status: 'frozen' }))).toEqual([
      {
        path: '/status',
        message: '"frozen" is not a valid container status; allowed values: "creating", "created", "running", "paused", "stopped"',
      },
    ]);
  });

  it('requires pid when created or running (runtime.md), not when stopped', () => {
    const { pid: _pid, ...noPid } = state({});
    expect(stateSchemaProblems({ ...noPid, status: 'created' })).toEqual([{ path: '/pid', message: 'required property "pid" is missing' }]);
    expect(stateSchemaProblems({ ...noPid, status: 'stopped' })).toEqual([]);
  });

  it('requires ociVersion, id, status and bundle, all reported together', () => {
    expect(paths(stateSchemaProblems({}))).toEqual(['/ociVersion', '/id', '/status', '/bundle']);
  });

  it('accepts additional properties (runtime.md: the state MAY include them)', () => {
    expect(stateSchemaProblems(state({ rootfs: '/x', created: '2024-01-01T00:00:00Z', owner: '' }))).toEqual([]);
  });
});

describe('features: focused cases', () => {
  it('accepts null for every optional property (features.md)', () => {
    const doc: JsonObject = {
      ociVersionMin: '1.0.0',
      ociVersionMax: '1.3.0',
      hooks: null,
      mountOptions: null,
      annotations: null,
      potentiallyUnsafeConfigAnnotations: null,
      linux: {
        namespaces: null,
        capabilities: null,
        cgroup: { v1: null },
        seccomp: null,
        apparmor: { enabled: null },
        mountExtensions: { idmap: null },
      },
    };
    expect(featuresSchemaProblems(doc)).toEqual([]);
    expect(featuresSchemaProblems({ ...doc, linux: null })).toEqual([]);
  });

  it('does not accept null for ociVersionMin/ociVersionMax', () => {
    expect(featuresSchemaProblems({ ociVersionMin: null, ociVersionMax: '1.3.0' })).toEqual([
      { path: '/ociVersionMin', message: 'expected string (SemVer 2.0.0 version), got null' },
    ]);
  });

  it('checks the recognised names against the config enums', () => {
    const doc: JsonObject = {
      ociVersionMin: '1.0.0',
      ociVersionMax: '1.3.0',
      linux: { namespaces: ['pid', 'netns'], capabilities: ['CAP_CHOWN', 'chown'], seccomp: { actions: ['SCMP_ACT_NOPE'] } },
    };
    expect(paths(featuresSchemaProblems(doc))).toEqual(['/linux/namespaces/1', '/linux/capabilities/1', '/linux/seccomp/actions/0']);
  });
});

// ---------------------------------------------------------------------------------------------
// Cross-check against upstream's schemas (runtime-spec 1.3, test/fixtures/schema/upstream-1.3):
// every constraint they state must be enforced by ours, unless listed as a deliberate departure.
// ---------------------------------------------------------------------------------------------

type Segment = string | number; // '*': any key of a map; 0: the first item of an array

interface Site {
  /** Where the constrained value lives; '*' stands for a key of a map, 0 for an array item. */
  path: Segment[];
  kind: 'type' | 'enum' | 'pattern' | 'minimum' | 'maximum' | 'minItems' | 'required';
  detail: Json;
}

const upstreamDir = join(fixtures, 'upstream-1.3');
const upstreamFiles = new Set(readdirSync(upstreamDir).filter((f) => f.endsWith('.json')));

/** Walks an upstream schema and lists every constraint it places on a document. */
function upstreamSites(entry: string): { sites: Site[]; skippedRefs: string[] } {
  const sites: Site[] = [];
  const skippedRefs: string[] = [];
  const walk = (schema: Json, file: string, path: Segment[]): void => {
    if (!isObject(schema)) return;
    if (typeof schema.$ref === 'string') {
      const [refFile, pointer = ''] = schema.$ref.split('#');
      const target = refFile === '' || refFile === undefined ? file : refFile;
      if (!upstreamFiles.has(target)) {
        skippedRefs.push(schema.$ref); // another platform's file: not copied, typed loosely by us
      } else {
        let node: Json = readJson(join(upstreamDir, target));
        for (const token of pointer.split('/').filter(Boolean)) node = isObject(node) ? (node[token] ?? null) : null;
        walk(node, target, path);
      }
    }
    for (const combinator of ['allOf', 'anyOf', 'oneOf']) {
      const branches = schema[combinator];
      if (Array.isArray(branches)) for (const branch of branches) walk(branch, file, path);
    }
    if (typeof schema.type === 'string') sites.push({ path, kind: 'type', detail: schema.type });
    if (Array.isArray(schema.enum)) sites.push({ path, kind: 'enum', detail: schema.enum });
    if (typeof schema.pattern === 'string') sites.push({ path, kind: 'pattern', detail: schema.pattern });
    for (const kind of ['minimum', 'maximum', 'minItems'] as const) {
      const limit = schema[kind];
      if (typeof limit === 'number' && Number.isSafeInteger(limit) && Number.isSafeInteger(limit + (kind === 'maximum' ? 1 : -1))) {
        sites.push({ path, kind, detail: limit });
      }
    }
    if (Array.isArray(schema.required)) {
      for (const name of schema.required) sites.push({ path: [...path, String(name)], kind: 'required', detail: null });
    }
    if (isObject(schema.properties)) {
      for (const [name, sub] of Object.entries(schema.properties)) walk(sub, file, [...path, name]);
    }
    if (isObject(schema.patternProperties)) {
      for (const sub of Object.values(schema.patternProperties)) walk(sub, file, [...path, '*']);
    }
    if (isObject(schema.additionalProperties)) walk(schema.additionalProperties, file, [...path, '*']);
    if (isObject(schema.items)) walk(schema.items, file, [...path, 0]);
  };
  walk(readJson(join(upstreamDir, entry)), entry, []);
  return { sites, skippedRefs };
}

/** The concrete JSON pointer of a site in `doc` ('*' = first key there), or undefined if doc lacks it. */
function locate(doc: Json, path: readonly Segment[], forRequired: boolean): string[] | undefined {
  const tokens: string[] = [];
  let node: Json | undefined = doc;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    let token: string;
    if (segment === '*') {
      if (!isObject(node)) return undefined;
      const first = Object.keys(node)[0];
      if (first === undefined) return undefined;
      token = first;
    } else if (typeof segment === 'number') {
      if (!Array.isArray(node) || node.length === 0) return undefined;
      token = String(segment);
    } else {
      token = segment;
    }
    tokens.push(token);
    if (last && forRequired) return isObject(node) ? tokens : undefined;
    node = isObject(node) ? node[token] : Array.isArray(node) ? node[Number(token)] : undefined;
    if (node === undefined) return undefined;
  }
  return tokens;
}

/** The value at `tokens` minus the last one, in `doc` (null when absent). */
function parentOf(doc: Json, tokens: readonly string[]): Json {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    node = isObject(node) ? (node[token] ?? null) : Array.isArray(node) ? (node[Number(token)] ?? null) : null;
  }
  return node;
}

const WRONG_TYPE: Record<string, Json> = {
  string: 12345,
  integer: 'not a number',
  number: 'not a number',
  boolean: 'yes',
  object: 'not an object',
  array: 'not an array',
};

function violate(doc: Json, tokens: readonly string[], site: Site): Json {
  if (tokens.length === 0) return site.kind === 'type' && site.detail === 'object' ? [] : doc; // the document itself
  const copy = clone(doc);
  const parent = parentOf(copy, tokens);
  const key = tokens[tokens.length - 1] ?? '';
  const wrongType = WRONG_TYPE;
  const value: Json | undefined =
    site.kind === 'required' ? undefined
    : site.kind === 'type' ? (wrongType[String(site.detail)] ?? null)
    : site.kind === 'enum' ? 'NOT_AN_ALLOWED_VALUE'
    : site.kind === 'pattern' ? '!! no pattern matches this !!'
    : site.kind === 'minimum' ? Number(site.detail) - 1
    : site.kind === 'maximum' ? Number(site.detail) + 1
    : [];
  if (isObject(parent)) {
    if (value === undefined) delete parent[key];
    else parent[key] = value;
  } else if (Array.isArray(parent) && value !== undefined) {
    parent[Number(key)] = value;
  }
  return copy;
}

function pointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function siteName(site: Site): string {
  return `${site.kind} ${JSON.stringify(site.detail)} at /${site.path.join('/')}`;
}

/** Where tsrun deliberately follows the runtime-spec 1.3 text instead of upstream's schema. */
const DEPARTURES = new Set([
  'required null at /linux/resources/pids/limit', // 1.3 text: limit is OPTIONAL
  'maximum 511 at /linux/devices/0/fileMode', // text: uint32 (a decimal number), not 0..511
]);

describe.each([
  ['config-schema.json', 'full-linux-config.json', configSchemaProblems],
  ['features-schema.json', 'full-features.json', featuresSchemaProblems],
  ['state-schema.json', 'state/good/spec-example.json', stateSchemaProblems],
] as const)('upstream %s constraints are all enforced (document: %s)', (entry, documentFile, problemsOf) => {
  const document = readJson(join(fixtures, documentFile));
  const { sites, skippedRefs } = upstreamSites(entry);

  it('walks a sizeable number of constraints', () => {
    expect(sites.length).toBeGreaterThan(entry === 'config-schema.json' ? 200 : 8);
    if (entry === 'config-schema.json') {
      expect(new Set(skippedRefs)).toEqual(
        new Set([
          'config-solaris.json#/solaris',
          'config-windows.json#/windows',
          'config-vm.json#/vm',
          'config-zos.json#/zos',
          'config-freebsd.json#/freebsd',
        ]),
      );
    }
  });

  it('the document exercises every constrained location', () => {
    const missing = sites.filter((site) => locate(document, site.path, site.kind === 'required') === undefined).map(siteName);
    expect(missing).toEqual([]);
  });

  it('breaking any one constraint is reported at its pointer', () => {
    const notEnforced: string[] = [];
    for (const site of sites) {
      const tokens = locate(document, site.path, site.kind === 'required');
      if (tokens === undefined) continue;
      const problems = problemsOf(violate(document, tokens, site));
      const at = pointer(tokens);
      const enforced = problems.some((p) => p.path === at);
      if (DEPARTURES.has(siteName(site))) {
        expect(enforced, `${siteName(site)} is listed as a departure but is enforced`).toBe(false);
      } else if (!enforced) {
        notEnforced.push(`${siteName(site)}: ${JSON.stringify(problems)}`);
      }
    }
    expect(notEnforced).toEqual([]);
  });

  it('every value an upstream enum allows is accepted', () => {
    const rejected: string[] = [];
    for (const site of sites.filter((s) => s.kind === 'enum')) {
      const tokens = locate(document, site.path, false);
      if (tokens === undefined || !Array.isArray(site.detail)) continue;
      for (const value of site.detail) {
        const doc = clone(document);
        const parent = parentOf(doc, tokens);
        const key = tokens[tokens.length - 1] ?? '';
        if (isObject(parent)) parent[key] = value;
        else if (Array.isArray(parent)) parent[Number(key)] = value;
        const problems = problemsOf(doc);
        if (problems.length > 0) rejected.push(`${JSON.stringify(value)} at ${pointer(tokens)}: ${JSON.stringify(problems)}`);
      }
    }
    expect(rejected).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The schemas and the generated module
// ---------------------------------------------------------------------------------------------

describe('schemas/ and the generated validators', () => {
  const schemaFiles = readdirSync(join(repo, 'schemas')).filter((f) => f.endsWith('.json'));

  it('are draft-07 and never forbid unknown properties', () => {
    const forbidding: string[] = [];
    const walk = (node: Json, where: string): void => {
      if (Array.isArray(node)) node.forEach((child, i) => walk(child, `${where}/${i}`));
      if (!isObject(node)) return;
      if (node.additionalProperties === false) forbidding.push(where);
      for (const [key, child] of Object.entries(node)) walk(child, `${where}/${key}`);
    };
    for (const file of schemaFiles) {
      const schema = readJson(join(repo, 'schemas', file));
      expect(isObject(schema) && schema.$schema, file).toBe('http://json-schema.org/draft-07/schema#');
      walk(schema, file);
    }
    expect(forbidding).toEqual([]);
  });

  const generatedPath = join(repo, 'src/spec/schema-validators.generated.ts');

  it('the generated module imports nothing but ajv/dist/runtime/*', () => {
    const code = readFileSync(generatedPath, 'utf8');
    expect(code.startsWith('// @ts-nocheck\n')).toBe(true);
    expect(code).toMatch(/generated.*do not edit/i);
    const specifiers = [...code.matchAll(/\bimport\s+(?:[\w*{}\s,]+\s+from\s+)?["']([^"']+)["']/g)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const specifier of specifiers) expect(specifier).toMatch(/^ajv\/dist\/runtime\/[\w-]+\.js$/);
    expect(code).not.toMatch(/\brequire\s*\(/);
    expect(code).not.toMatch(/\bimport\s*\(/);
    for (const name of ['validateConfig', 'validateState', 'validateFeatures']) {
      expect(code).toMatch(new RegExp(`export const ${name} = `));
    }
  });

  it('build-schemas.mjs does not regenerate an up-to-date module', () => {
    execFileSync(process.execPath, [join(repo, 'scripts/build-schemas.mjs')], { cwd: repo }); // bring it up to date
    const before = statSync(generatedPath).mtimeMs;
    const output = execFileSync(process.execPath, [join(repo, 'scripts/build-schemas.mjs')], { cwd: repo, encoding: 'utf8' });
    expect(output).toBe('');
    expect(statSync(generatedPath).mtimeMs).toBe(before);
  });
});

describe('explainErrors on combinators the current schemas do not use', () => {
  const error = (over: Partial<ErrorObject>): ErrorObject => ({
    instancePath: '/x',
    schemaPath: '#/anyOf',
    keyword: 'anyOf',
    params: {},
    ...over,
  });

  it('folds the branches of an anyOf of different types into one problem', () => {
    const errors = [
      error({ schemaPath: '#/anyOf/0/type', keyword: 'type', params: { type: 'string' }, data: true }),
      error({ schemaPath: '#/anyOf/1/type', keyword: 'type', params: { type: 'integer' }, data: true }),
      error({}),
    ];
    expect(explainErrors(errors)).toEqual([
      {
        path: '/x',
        message: 'matches none of the allowed forms: expected string, got boolean true; or expected integer, got boolean true',
      },
    ]);
  });

  it('says when a oneOf matched more than one form', () => {
    expect(explainErrors([error({ keyword: 'oneOf', schemaPath: '#/oneOf', params: { passingSchemas: [0, 1] } })])).toEqual([
      { path: '/x', message: 'matches more than one of the allowed forms; it must match exactly one' },
    ]);
  });
});
