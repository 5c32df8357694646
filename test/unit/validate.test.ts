import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ConfigProblem } from '../../src/errors.js';
import type { HostFacts } from '../../src/spec/validate/index.js';
import { CHECKS, validateSpec } from '../../src/spec/validate/index.js';
import { readHostFacts, readLastCap, readNamespaceKinds } from '../../src/spec/validate/host.js';
import { listFormatProblem } from '../../src/spec/validate/lists.js';
import { normalizeSysctlKey } from '../../src/spec/validate/sysctl.js';
import { pointer } from '../../src/spec/validate/context.js';
import type { NamespaceType, Spec } from '../../src/spec/types.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'configs');

type DeepMutable<T> = T extends readonly (infer U)[] ? DeepMutable<U>[] : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
type MSpec = DeepMutable<Spec>;

const ALL_NS: NamespaceType[] = ['mount', 'pid', 'network', 'uts', 'ipc', 'user', 'cgroup', 'time'];

/** A host where the bundle is /bundle, /bundle/rootfs is a directory and every namespace kind exists. */
function fakeHost(over: Partial<HostFacts> = {}): HostFacts {
  const dirs = new Set(['/bundle', '/bundle/rootfs', '/abs/rootfs']);
  const files = new Set(['/bundle/rootfs-file', '/proc/1234/ns/net', '/proc/1234/ns/uts', '/proc/1234/ns/user', '/proc/1234/ns/time', '/var/run/netns/a']);
  return {
    bundle: '/bundle',
    exists: (p) => dirs.has(p) || files.has(p),
    isDirectory: (p) => dirs.has(p),
    lastCap: 40,
    namespaces: new Set(ALL_NS),
    rootless: false,
    ...over,
  };
}

/** Everything exists and is a directory (for real configs whose root is elsewhere). */
function permissiveHost(over: Partial<HostFacts> = {}): HostFacts {
  return fakeHost({ exists: () => true, isDirectory: () => true, ...over });
}

function base(): MSpec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }] },
  };
}

function make(patch: (s: MSpec) => void): Spec {
  const s = base();
  patch(s);
  return s;
}

function linux(s: MSpec): NonNullable<MSpec['linux']> {
  s.linux ??= {};
  return s.linux;
}

function run(spec: Spec, host: HostFacts = fakeHost()): { errors: ConfigProblem[]; warnings: ConfigProblem[] } {
  return validateSpec(spec, host);
}

function errorPaths(spec: Spec, host?: HostFacts): string[] {
  return run(spec, host).errors.map((e) => e.path);
}

function warningPaths(spec: Spec, host?: HostFacts): string[] {
  return run(spec, host).warnings.map((e) => e.path);
}

function expectOnlyError(spec: Spec, path: string, message: RegExp, host?: HostFacts): void {
  const { errors } = run(spec, host);
  expect(errors).toHaveLength(1);
  expect(errors[0]?.path).toBe(path);
  expect(errors[0]?.message).toMatch(message);
}

function expectClean(spec: Spec, host?: HostFacts): void {
  const { errors, warnings } = run(spec, host);
  expect(errors).toEqual([]);
  expect(warnings).toEqual([]);
}

function readJson(path: string): Spec {
  return JSON.parse(readFileSync(path, 'utf8')) as Spec;
}

describe('validateSpec shape', () => {
  it('accepts the base spec with no problems', () => {
    expectClean(base());
  });

  it('has uniquely named checks', () => {
    const names = CHECKS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(30);
  });

  it('reports every problem at once, each with its JSON pointer', () => {
    const spec = make((s) => {
      s.root = { path: 'missing' };
      s.process = { user: { uid: 0, gid: 0 }, args: [], cwd: 'relative' };
      linux(s).namespaces = [{ type: 'pid' }, { type: 'pid' }];
      linux(s).sysctl = { 'vm.swappiness': '10' };
      linux(s).maskedPaths = ['proc/kcore'];
      s.hostname = 'box';
    });
    const { errors } = run(spec);
    expect(errors.map((e) => e.path).sort()).toEqual(
      [
        '/root/path',
        '/process/args',
        '/process/cwd',
        '/linux/namespaces/1/type',
        '/linux/sysctl/vm.swappiness',
        '/linux/maskedPaths/0',
        '/linux/maskedPaths',
        '/hostname',
      ].sort(),
    );
    for (const e of errors) expect(e.message.length).toBeGreaterThan(10);
  });

  it('keeps errors and warnings apart', () => {
    const spec = make((s) => {
      s.process = { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', capabilities: { bounding: ['CAP_NOPE'] } };
      s.mounts = [{ destination: 'tmp', type: 'tmpfs', source: 'tmpfs' }];
      s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2, hard: 1 }];
    });
    const { errors, warnings } = run(spec);
    expect(errors.map((e) => e.path)).toEqual(['/process/rlimits/0/soft']);
    expect(warnings.map((w) => w.path).sort()).toEqual(['/mounts/0/destination', '/process/capabilities/bounding/0']);
  });

  it('turns a crash on a spec the schema would refuse into an error and keeps going', () => {
    const spec = JSON.parse('{"ociVersion":"1.3.0","root":{"path":"rootfs"},"process":{"user":{"uid":0,"gid":0},"args":"sh","cwd":"rel"}}') as Spec;
    const { errors } = run(spec);
    expect(errors.some((e) => e.path === '' && /processArgsAndCwd|processEnv|could not run/.test(e.message))).toBe(true);
  });

  it('can run a subset of checks', () => {
    const spec = make((s) => {
      s.root = { path: 'missing' };
      s.hostname = 'x';
      linux(s).namespaces = [];
    });
    const only = CHECKS.filter((c) => c.name === 'utsNames');
    expect(validateSpec(spec, fakeHost(), only).errors.map((e) => e.path)).toEqual(['/hostname']);
  });

  it('escapes JSON pointer segments', () => {
    expect(pointer('linux', 'unified', 'a/b~c', 3)).toBe('/linux/unified/a~1b~0c/3');
  });
});

describe('ociVersion', () => {
  it('accepts SemVer 1.x up to 1.3', () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.2.1', '1.3.0', '1.3.0+build.1']) expectClean(make((s) => (s.ociVersion = v)));
  });
  it('refuses a version that is not SemVer', () => {
    expectOnlyError(make((s) => (s.ociVersion = '1.3')), '/ociVersion', /SemVer/);
    expectOnlyError(make((s) => (s.ociVersion = 'latest')), '/ociVersion', /SemVer/);
  });
  it('warns about versions outside 1.0.0..1.3.x', () => {
    expect(warningPaths(make((s) => (s.ociVersion = '2.0.0')))).toEqual(['/ociVersion']);
    expect(warningPaths(make((s) => (s.ociVersion = '1.4.0')))).toEqual(['/ociVersion']);
    expect(warningPaths(make((s) => (s.ociVersion = '0.5.0-dev')))).toEqual(['/ociVersion']);
    expect(errorPaths(make((s) => (s.ociVersion = '2.0.0')))).toEqual([]);
  });
});

describe('rootFilesystem', () => {
  it('resolves a relative root against the bundle', () => {
    const seen: string[] = [];
    const host = fakeHost();
    validateSpec(base(), { ...host, exists: (p) => (seen.push(p), host.exists(p)) });
    expect(seen).toContain('/bundle/rootfs');
  });
  it('accepts an absolute root that is a directory', () => {
    expectClean(make((s) => (s.root = { path: '/abs/rootfs' })));
  });
  it('requires root', () => {
    expectOnlyError(make((s) => delete s.root), '/root', /required/);
  });
  it('refuses an empty, missing or non-directory root', () => {
    expectOnlyError(make((s) => (s.root = { path: '' })), '/root/path', /empty/);
    expectOnlyError(make((s) => (s.root = { path: 'nope' })), '/root/path', /\/bundle\/nope does not exist/);
    expectOnlyError(make((s) => (s.root = { path: 'rootfs-file' })), '/root/path', /not a directory/);
  });
});

describe('otherPlatforms', () => {
  it('warns that other platforms are ignored', () => {
    const spec = make((s) => (s.windows = { layerFolders: [] }));
    expect(run(spec).errors).toEqual([]);
    expect(warningPaths(spec)).toEqual(['/windows']);
  });
});

describe('namespaces', () => {
  it('refuses a duplicated type', () => {
    expectOnlyError(make((s) => (linux(s).namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'pid' }])), '/linux/namespaces/2/type', /listed twice.*\/linux\/namespaces\/0/);
  });
  it('refuses an unknown type', () => {
    const spec = JSON.parse(JSON.stringify(make((s) => (linux(s).namespaces = [{ type: 'pid' }])))) as MSpec;
    (linux(spec).namespaces ?? []).push(JSON.parse('{"type":"wormhole"}') as { type: NamespaceType });
    expectOnlyError(spec, '/linux/namespaces/1/type', /unknown namespace type "wormhole"/);
  });
  it('refuses a type the kernel lacks', () => {
    const host = fakeHost({ namespaces: new Set<NamespaceType>(['mount', 'pid']) });
    expectOnlyError(make((s) => (linux(s).namespaces = [{ type: 'pid' }, { type: 'time' }])), '/linux/namespaces/1/type', /kernel does not support time/, host);
  });
  it('requires absolute paths that exist', () => {
    expectOnlyError(make((s) => (linux(s).namespaces = [{ type: 'network', path: 'netns/a' }])), '/linux/namespaces/0/path', /must be absolute/);
    expectOnlyError(make((s) => (linux(s).namespaces = [{ type: 'network', path: '/var/run/netns/b' }])), '/linux/namespaces/0/path', /does not exist/);
    expectClean(make((s) => (linux(s).namespaces = [{ type: 'network', path: '/var/run/netns/a' }])));
  });
  it('treats an empty path as a new namespace', () => {
    expectClean(make((s) => (linux(s).namespaces = [{ type: 'network', path: '' }])));
  });
});

describe('user namespace mappings', () => {
  const userns = (s: MSpec): void => {
    linux(s).namespaces?.push({ type: 'user' });
    linux(s).uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    linux(s).gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };
  it('accepts a user namespace with both mappings', () => {
    expectClean(make(userns));
  });
  it('refuses mappings without a user namespace', () => {
    const spec = make((s) => {
      linux(s).uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      linux(s).gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    });
    expect(errorPaths(spec)).toEqual(['/linux/uidMappings', '/linux/gidMappings']);
  });
  it('requires uid and gid mappings for a new user namespace', () => {
    expectOnlyError(make((s) => (userns(s), delete linux(s).gidMappings)), '/linux/gidMappings', /both uid and gid/);
    const none = make((s) => (userns(s), delete linux(s).gidMappings, delete linux(s).uidMappings));
    expect(errorPaths(none)).toEqual(['/linux/uidMappings', '/linux/gidMappings']);
  });
  it('needs no mappings to join a user namespace, but both if any', () => {
    expectClean(make((s) => linux(s).namespaces?.push({ type: 'user', path: '/proc/1234/ns/user' })));
    const one = make((s) => {
      linux(s).namespaces?.push({ type: 'user', path: '/proc/1234/ns/user' });
      linux(s).uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    });
    expectOnlyError(one, '/linux/gidMappings', /together/);
  });
  it('refuses an empty range', () => {
    expectOnlyError(make((s) => (userns(s), delete s.process, (linux(s).uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }]))), '/linux/uidMappings/0/size', /greater than 0/);
  });
  it('refuses overlapping container ranges and overlapping host ranges', () => {
    const inside = make((s) => {
      userns(s);
      linux(s).uidMappings = [
        { containerID: 0, hostID: 1000, size: 10 },
        { containerID: 5, hostID: 5000, size: 10 },
      ];
    });
    expectOnlyError(inside, '/linux/uidMappings/1', /container range 5\.\.14 overlaps mapping 0/);
    const outside = make((s) => {
      userns(s);
      linux(s).gidMappings = [
        { containerID: 0, hostID: 1000, size: 10 },
        { containerID: 100, hostID: 1009, size: 1 },
      ];
    });
    expectOnlyError(outside, '/linux/gidMappings/1', /host range 1009\.\.1009 overlaps mapping 0/);
  });
  it('accepts adjacent ranges', () => {
    expectClean(
      make((s) => {
        userns(s);
        linux(s).uidMappings = [
          { containerID: 0, hostID: 1000, size: 1 },
          { containerID: 1, hostID: 100000, size: 65535 },
        ];
      }),
    );
  });
  it('refuses a range past the largest id', () => {
    expectOnlyError(make((s) => (userns(s), delete s.process, (linux(s).uidMappings = [{ containerID: 4294967290, hostID: 0, size: 10 }]))), '/linux/uidMappings/0', /past the largest id/);
  });
  it('refuses more mappings than uid_map takes', () => {
    const many = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 1000 + i, size: 1 }));
    expectOnlyError(make((s) => (userns(s), (linux(s).uidMappings = many))), '/linux/uidMappings', /at most 340/);
  });
  it('requires the process ids to be mapped', () => {
    const spec = make((s) => {
      userns(s);
      s.process = { user: { uid: 70000, gid: 0, additionalGids: [1, 99999] }, args: ['sh'], cwd: '/' };
    });
    expect(errorPaths(spec)).toEqual(['/process/user/uid', '/process/user/additionalGids/1']);
  });
});

describe('process', () => {
  it('needs no process (a config that is only created)', () => {
    expectClean(make((s) => delete s.process));
  });
  it('requires args', () => {
    expectOnlyError(make((s) => s.process && delete s.process.args), '/process/args', /at least one entry/);
    expectOnlyError(make((s) => s.process && (s.process.args = [])), '/process/args', /at least one entry/);
    expectOnlyError(make((s) => s.process && (s.process.args = [''])), '/process/args/0', /empty/);
    expectOnlyError(make((s) => s.process && (s.process.args = ['sh', 'a\0b'])), '/process/args/1', /NUL/);
  });
  it('requires an absolute cwd', () => {
    expectOnlyError(make((s) => s.process && (s.process.cwd = 'home')), '/process/cwd', /absolute/);
    expectOnlyError(make((s) => s.process && (s.process.cwd = '')), '/process/cwd', /empty/);
  });
  it('requires NAME=value environment entries', () => {
    expectClean(make((s) => s.process && (s.process.env = ['A=1', 'B=', 'C=x=y'])));
    expectOnlyError(make((s) => s.process && (s.process.env = ['A=1', 'NOEQUALS'])), '/process/env/1', /no "="/);
    expectOnlyError(make((s) => s.process && (s.process.env = ['=x'])), '/process/env/0', /empty name/);
  });
  it('refuses the Windows-only commandLine and username', () => {
    expectOnlyError(make((s) => s.process && (s.process.commandLine = 'cmd.exe /c dir')), '/process/commandLine', /Windows only/);
    expectOnlyError(make((s) => s.process && (s.process.user.username = 'root')), '/process/user/username', /Windows only/);
  });
  it('checks oomScoreAdj and ioPriority ranges', () => {
    expectClean(make((s) => s.process && ((s.process.oomScoreAdj = -1000), (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 7 }))));
    expectOnlyError(make((s) => s.process && (s.process.oomScoreAdj = 1001)), '/process/oomScoreAdj', /-1000\.\.1000/);
    expectOnlyError(make((s) => s.process && (s.process.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 8 })), '/process/ioPriority/priority', /0 \(highest\)\.\.7/);
  });
  it('checks the scheduler like sched_setattr', () => {
    expectClean(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 })));
    expectClean(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_OTHER', nice: -5 })));
    expectClean(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 10, deadline: 20, period: 30 })));
    expectOnlyError(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_OTHER', nice: 20 })), '/process/scheduler/nice', /-20\.\.19/);
    expectOnlyError(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_BATCH', priority: 3 })), '/process/scheduler/priority', /only be set for SCHED_FIFO or SCHED_RR/);
    expectOnlyError(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_RR' })), '/process/scheduler/priority', /1\.\.99/);
    expectOnlyError(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_OTHER', runtime: 5 })), '/process/scheduler/runtime', /SCHED_DEADLINE/);
    expectOnlyError(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 30, deadline: 20 })), '/process/scheduler/runtime', /must not exceed deadline/);
    expectOnlyError(make((s) => s.process && (s.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1, deadline: 40, period: 30 })), '/process/scheduler/deadline', /must not exceed period/);
  });
  it('checks execCPUAffinity lists', () => {
    expectClean(make((s) => s.process && (s.process.execCPUAffinity = { initial: '7', final: '0-3,7' })));
    expectOnlyError(make((s) => s.process && (s.process.execCPUAffinity = { final: '3-1' })), '/process/execCPUAffinity/final', /ends before it starts/);
    expectOnlyError(make((s) => s.process && (s.process.execCPUAffinity = { initial: '0,,1' })), '/process/execCPUAffinity/initial', /invalid CPU list/);
  });
});

describe('list format', () => {
  it('accepts kernel lists and refuses others', () => {
    for (const ok of ['', '0', '0-3', '0-3,7', ' 1 , 2-4 ', '0-15:2/4']) expect(listFormatProblem(ok)).toBeUndefined();
    for (const bad of ['a', '1-', '-1', '3-1', '1,,2', '0-15:5/4', '0-15:0/4']) expect(listFormatProblem(bad)).toBeDefined();
  });
});

describe('rlimits', () => {
  const withRlimits = (rlimits: { type: string; soft: number; hard: number }[]): Spec => make((s) => s.process && (s.process.rlimits = rlimits));
  it('accepts known distinct limits with soft <= hard', () => {
    expectClean(withRlimits([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }]));
  });
  it('refuses unknown types, duplicates and soft above hard, all together', () => {
    const spec = withRlimits([
      { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
      { type: 'RLIMIT_BOGUS', soft: 1, hard: 1 },
      { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
      { type: 'RLIMIT_NPROC', soft: 10, hard: 5 },
    ]);
    const { errors } = run(spec);
    expect(errors.map((e) => e.path)).toEqual(['/process/rlimits/1/type', '/process/rlimits/2/type', '/process/rlimits/3/soft']);
    expect(errors[0]?.message).toMatch(/unknown rlimit "RLIMIT_BOGUS"/);
    expect(errors[1]?.message).toMatch(/set twice/);
    expect(errors[2]?.message).toMatch(/above the hard limit/);
  });
});

describe('capabilities', () => {
  const caps = (c: Record<string, string[]>): Spec => make((s) => s.process && (s.process.capabilities = c));
  it('accepts known capabilities', () => {
    expectClean(caps({ bounding: ['CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE'], permitted: ['CAP_CHOWN'], effective: ['CAP_CHOWN'] }));
  });
  it('warns (never errs) about unknown capabilities', () => {
    const spec = caps({ bounding: ['CAP_CHOWN', 'CAP_FLY'], permitted: ['cap_chown'] });
    const { errors, warnings } = run(spec);
    expect(errors).toEqual([]);
    expect(warnings.map((w) => w.path)).toEqual(['/process/capabilities/bounding/1', '/process/capabilities/permitted/0']);
    expect(warnings[0]?.message).toMatch(/unknown capability "CAP_FLY"/);
  });
  it('warns about capabilities above the kernel last capability', () => {
    const { errors, warnings } = run(caps({ bounding: ['CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF'] }), fakeHost({ lastCap: 37 }));
    expect(errors).toEqual([]);
    expect(warnings.map((w) => w.path)).toEqual(['/process/capabilities/bounding/1', '/process/capabilities/bounding/2']);
    expect(warnings[0]?.message).toMatch(/not supported by this kernel/);
  });
  it('warns about effective and ambient capabilities that cannot be granted', () => {
    const spec = caps({ permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], effective: ['CAP_KILL', 'CAP_CHOWN'], ambient: ['CAP_KILL', 'CAP_CHOWN'] });
    const { errors, warnings } = run(spec);
    expect(errors).toEqual([]);
    expect(warnings.map((w) => w.path)).toEqual(['/process/capabilities/effective/1', '/process/capabilities/ambient/1']);
  });
});

describe('hostname and domainname', () => {
  it('need a UTS namespace', () => {
    const noUts = (s: MSpec): void => void (linux(s).namespaces = [{ type: 'pid' }, { type: 'mount' }]);
    expectOnlyError(make((s) => (noUts(s), (s.hostname = 'box'))), '/hostname', /UTS namespace/);
    expectOnlyError(make((s) => (noUts(s), (s.domainname = 'example.org'))), '/domainname', /UTS namespace/);
    expectClean(make((s) => (noUts(s), (s.hostname = ''))));
  });
  it('are allowed with a new UTS namespace or one joined by path (Podman pods)', () => {
    expectClean(make((s) => ((s.hostname = 'box'), (s.domainname = 'example.org'))));
    expectClean(make((s) => ((linux(s).namespaces = [{ type: 'uts', path: '/proc/1234/ns/uts' }]), (s.hostname = 'box'))));
  });
  it('are refused when the joined UTS namespace is the runtime own', () => {
    const host = fakeHost({ isRuntimeNamespace: (type, path) => type === 'uts' && path === '/proc/1234/ns/uts' });
    expectOnlyError(make((s) => ((linux(s).namespaces = [{ type: 'uts', path: '/proc/1234/ns/uts' }]), (s.hostname = 'box'))), '/hostname', /host's hostname/, host);
  });
});

describe('sysctl', () => {
  const sysctl = (map: Record<string, string>, ns?: MSpec['linux'] extends infer L ? (L extends { namespaces?: infer N } ? N : never) : never): Spec =>
    make((s) => {
      linux(s).sysctl = map;
      if (ns !== undefined) linux(s).namespaces = ns;
    });
  it('allows the namespaced keys with their namespaces', () => {
    expectClean(
      sysctl({
        'net.ipv4.ip_forward': '1',
        'net/ipv4/conf/eth0/rp_filter': '0',
        'kernel.shmmax': '1',
        'kernel.msgmnb': '1',
        'kernel.sem': '250 32000 32 128',
        'kernel.shm_rmid_forced': '1',
        'fs.mqueue.msg_max': '10',
        'kernel.domainname': 'example.org',
        'kernel.hostname': 'box',
      }),
    );
  });
  it('refuses net.* without a network namespace', () => {
    expectOnlyError(sysctl({ 'net.core.somaxconn': '256' }, [{ type: 'pid' }]), '/linux/sysctl/net.core.somaxconn', /network namespace/);
  });
  it('allows net.* in a joined network namespace but not the runtime own', () => {
    const ns = [{ type: 'network' as const, path: '/var/run/netns/a' }];
    expectClean(sysctl({ 'net.core.somaxconn': '256' }, ns));
    const host = fakeHost({ isRuntimeNamespace: (type) => type === 'network' });
    expectOnlyError(sysctl({ 'net.core.somaxconn': '256' }, ns), '/linux/sysctl/net.core.somaxconn', /network namespace/, host);
  });
  it('refuses IPC keys without an IPC namespace and UTS keys without a UTS namespace', () => {
    const spec = sysctl({ 'kernel.shmmax': '1', 'fs.mqueue.queues_max': '1', 'kernel.domainname': 'x' }, [{ type: 'network' }]);
    expect(errorPaths(spec)).toEqual(['/linux/sysctl/kernel.shmmax', '/linux/sysctl/fs.mqueue.queues_max', '/linux/sysctl/kernel.domainname']);
  });
  it('refuses keys that are not namespaced', () => {
    expectOnlyError(sysctl({ 'vm.swappiness': '1' }), '/linux/sysctl/vm.swappiness', /not namespaced.*allowed are net\.\*/);
    expectOnlyError(sysctl({ 'kernel.pid_max': '1' }), '/linux/sysctl/kernel.pid_max', /not namespaced/);
  });
  it('refuses kernel.hostname that contradicts hostname', () => {
    expectClean(make((s) => ((s.hostname = 'box'), (linux(s).sysctl = { 'kernel.hostname': 'box' }))));
    expectOnlyError(make((s) => ((s.hostname = 'box'), (linux(s).sysctl = { 'kernel.hostname': 'other' }))), '/linux/sysctl/kernel.hostname', /contradicts \/hostname/);
  });
  it('refuses names that walk out of /proc/sys', () => {
    expectOnlyError(sysctl({ 'net.ipv4..x': '1' }), '/linux/sysctl/net.ipv4..x', /not a valid sysctl name/);
    expectOnlyError(sysctl({ 'net/ipv4/../../kernel/x': '1' }), '/linux/sysctl/net~1ipv4~1..~1..~1kernel~1x', /not a valid sysctl name/);
  });
  it('normalizes the slash form like sysctl(8)', () => {
    expect(normalizeSysctlKey('net/ipv4/conf/eno2.100/rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
    expect(normalizeSysctlKey('net.ipv4.ip_forward')).toBe('net.ipv4.ip_forward');
    expect(normalizeSysctlKey('kernel')).toBe('kernel');
  });
});

describe('mounts', () => {
  it('warns about relative destinations and refuses empty ones', () => {
    const spec = make((s) => (s.mounts = [{ destination: 'data', type: 'tmpfs' }, { destination: '' }]));
    const { errors, warnings } = run(spec);
    expect(errors.map((e) => e.path)).toEqual(['/mounts/1/destination']);
    expect(warnings.map((w) => w.path)).toEqual(['/mounts/0/destination']);
    expect(warnings[0]?.message).toMatch(/deprecated.*\/data/);
  });
  const idmapped = (m: NonNullable<MSpec['mounts']>[number], userns = false): Spec =>
    make((s) => {
      s.mounts = [m];
      if (userns) {
        linux(s).namespaces?.push({ type: 'user' });
        linux(s).uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        linux(s).gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      }
    });
  const maps = [{ containerID: 0, hostID: 1000, size: 10 }];
  it('accepts idmapped mounts with mappings, or with the user namespace mappings', () => {
    expectClean(idmapped({ destination: '/d', source: '/s', options: ['bind', 'idmap'], uidMappings: maps, gidMappings: maps }));
    expectClean(idmapped({ destination: '/d', source: '/s', options: ['rbind', 'ridmap'] }, true));
  });
  it('requires uidMappings and gidMappings together', () => {
    expectOnlyError(idmapped({ destination: '/d', source: '/s', options: ['bind', 'idmap'], uidMappings: maps }), '/mounts/0/gidMappings', /together/);
  });
  it('refuses idmap without mappings when there is no user namespace', () => {
    expectOnlyError(idmapped({ destination: '/d', source: '/s', options: ['bind', 'idmap'] }), '/mounts/0/options', /no user namespace/);
  });
  it('refuses idmap and ridmap together', () => {
    expectOnlyError(idmapped({ destination: '/d', source: '/s', options: ['bind', 'idmap', 'ridmap'], uidMappings: maps, gidMappings: maps }), '/mounts/0/options', /either idmap or ridmap/);
  });
  it('warns about mappings without idmap or ridmap', () => {
    const spec = idmapped({ destination: '/d', source: '/s', options: ['bind'], uidMappings: maps, gidMappings: maps });
    expect(run(spec).errors).toEqual([]);
    expect(warningPaths(spec)).toEqual(['/mounts/0']);
  });
  it('checks the mount mappings like user namespace mappings', () => {
    expectOnlyError(idmapped({ destination: '/d', source: '/s', options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 0, size: 0 }], gidMappings: maps }), '/mounts/0/uidMappings/0/size', /greater than 0/);
  });
  it('requires absolute masked and readonly paths, and a mount namespace for them', () => {
    const spec = make((s) => {
      linux(s).maskedPaths = ['/proc/kcore', 'proc/keys'];
      linux(s).readonlyPaths = ['sys'];
    });
    expect(errorPaths(spec)).toEqual(['/linux/maskedPaths/1', '/linux/readonlyPaths/0']);
    const noMountNs = make((s) => {
      linux(s).namespaces = [{ type: 'pid' }];
      linux(s).maskedPaths = ['/proc/kcore'];
    });
    expectOnlyError(noMountNs, '/linux/maskedPaths', /mount namespace/);
  });
});

describe('devices', () => {
  const withDevices = (devices: NonNullable<NonNullable<MSpec['linux']>['devices']>): Spec => make((s) => (linux(s).devices = devices));
  it('accepts char, block, unbuffered and FIFO devices', () => {
    expectClean(
      withDevices([
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438 },
        { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
        { path: '/dev/ttyU', type: 'u', major: 4, minor: 64 },
        { path: '/dev/fifo', type: 'p' },
      ]),
    );
  });
  it('refuses unknown types, missing numbers and relative paths', () => {
    const spec = JSON.parse(
      JSON.stringify(
        withDevices([
          { path: '/dev/x', type: 'c', major: 1, minor: 3 },
          { path: 'dev/y', type: 'b', major: 8, minor: 1 },
          { path: '/dev/z', type: 'c', minor: 3 },
        ]),
      ),
    ) as MSpec;
    (linux(spec).devices ?? []).push(JSON.parse('{"path":"/dev/w","type":"x","major":1,"minor":1}') as { path: string; type: 'c' });
    const { errors } = run(spec);
    expect(errors.map((e) => e.path)).toEqual(['/linux/devices/1/path', '/linux/devices/2/major', '/linux/devices/3/type']);
  });
  it('refuses two devices at one path and warns about one device twice', () => {
    const spec = withDevices([
      { path: '/dev/null', type: 'c', major: 1, minor: 3 },
      { path: '/dev/null', type: 'c', major: 1, minor: 5 },
      { path: '/dev/null2', type: 'c', major: 1, minor: 3 },
    ]);
    const { errors, warnings } = run(spec);
    expect(errors.map((e) => e.path)).toEqual(['/linux/devices/1/path']);
    expect(warnings.map((w) => w.path)).toEqual(['/linux/devices/2']);
  });
  it('checks device cgroup rules', () => {
    expectClean(make((s) => (linux(s).resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'a' }] })));
    const spec = make((s) => (linux(s).resources = { devices: [{ allow: true, type: 'x', access: 'rwx' }] }));
    expect(errorPaths(spec)).toEqual(['/linux/resources/devices/0/type', '/linux/resources/devices/0/access']);
  });
});

describe('cgroup resources', () => {
  const unified = (map: Record<string, string>): Spec => make((s) => (linux(s).resources = { unified: map }));
  it('accepts <controller>.<file> keys and the hierarchy limits', () => {
    expectClean(unified({ 'memory.high': '1G', 'cpu.weight': '100', 'io.max': '8:0 rbps=1', 'cgroup.max.depth': '3', 'cgroup.max.descendants': '10' }));
  });
  it('refuses paths, keys without a controller, and runtime-managed cgroup files', () => {
    const spec = unified({ 'memory/../../x': '1', memoryhigh: '1', '.high': '1', 'cgroup.procs': '1', 'cgroup.subtree_control': '+cpu', 'cgroup.freeze': '1' });
    const { errors } = run(spec);
    expect(errors.map((e) => e.path)).toEqual([
      '/linux/resources/unified/memory~1..~1..~1x',
      '/linux/resources/unified/memoryhigh',
      '/linux/resources/unified/.high',
      '/linux/resources/unified/cgroup.procs',
      '/linux/resources/unified/cgroup.subtree_control',
      '/linux/resources/unified/cgroup.freeze',
    ]);
    expect(errors[0]?.message).toMatch(/without "\/"/);
    expect(errors[1]?.message).toMatch(/<controller>\.<file>/);
    expect(errors[3]?.message).toMatch(/only cgroup\.max\.descendants and cgroup\.max\.depth/);
  });
  it('warns about controllers it does not know', () => {
    const spec = unified({ 'privet.vsem': 'vam' });
    expect(run(spec).errors).toEqual([]);
    expect(warningPaths(spec)).toEqual(['/linux/resources/unified/privet.vsem']);
  });
  it('checks memory swap against the limit, as runc converts it for cgroup v2', () => {
    const mem = (m: Record<string, number>): Spec => make((s) => (linux(s).resources = { memory: m }));
    expectClean(mem({ limit: 100, swap: 200 }));
    expectClean(mem({ limit: 100, swap: -1 }));
    expectClean(mem({ limit: -1 }));
    expectOnlyError(mem({ swap: 200 }), '/linux/resources/memory/swap', /needs a memory limit/);
    expectOnlyError(mem({ limit: -1, swap: 200 }), '/linux/resources/memory/swap', /needs a memory limit/);
    expectOnlyError(mem({ limit: 300, swap: 200 }), '/linux/resources/memory/swap', /must not be below/);
    expectOnlyError(mem({ swappiness: 101 }), '/linux/resources/memory/swappiness', /0\.\.100/);
  });
  it('checks cpu idle and the cpus/mems lists', () => {
    expectClean(make((s) => (linux(s).resources = { cpu: { idle: 1, cpus: '0-3', mems: '0' } })));
    const spec = make((s) => (linux(s).resources = { cpu: { idle: 2, cpus: '3-0', mems: 'x' } }));
    expect(errorPaths(spec)).toEqual(['/linux/resources/cpu/idle', '/linux/resources/cpu/cpus', '/linux/resources/cpu/mems']);
  });
  it('requires weight or leafWeight in each weightDevice', () => {
    expectClean(make((s) => (linux(s).resources = { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 500 }, { major: 8, minor: 16, leafWeight: 300 }] } })));
    expectOnlyError(make((s) => (linux(s).resources = { blockIO: { weightDevice: [{ major: 8, minor: 0 }] } })), '/linux/resources/blockIO/weightDevice/0', /weight or leafWeight/);
  });
});

describe('seccomp', () => {
  type Seccomp = NonNullable<NonNullable<MSpec['linux']>['seccomp']>;
  const seccomp = (sc: Seccomp): Spec => make((s) => (linux(s).seccomp = sc));
  const raw = (json: string): Spec => make((s) => (linux(s).seccomp = JSON.parse(json) as Seccomp));
  it('accepts a profile like Podman/Docker default', () => {
    expectClean(
      seccomp({
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        syscalls: [
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
          { names: ['kexec_load'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
          { names: ['ptrace'], action: 'SCMP_ACT_TRACE', errnoRet: 1 },
        ],
      }),
    );
  });
  it('refuses unknown actions, architectures, flags and operators, and bad argument indexes', () => {
    const spec = raw(
      '{"defaultAction":"SCMP_ACT_EXPLODE","architectures":["SCMP_ARCH_Z80"],"flags":["SECCOMP_FILTER_FLAG_FAST"],' +
        '"syscalls":[{"names":["read"],"action":"SCMP_ACT_MAYBE","args":[{"index":6,"value":1,"op":"SCMP_CMP_ALMOST"}]},{"names":[""],"action":"SCMP_ACT_ALLOW"}]}',
    );
    expect(errorPaths(spec)).toEqual([
      '/linux/seccomp/defaultAction',
      '/linux/seccomp/architectures/0',
      '/linux/seccomp/flags/0',
      '/linux/seccomp/syscalls/0/action',
      '/linux/seccomp/syscalls/0/args/0/op',
      '/linux/seccomp/syscalls/0/args/0/index',
      '/linux/seccomp/syscalls/1/names/0',
    ]);
  });
  it('allows errnoRet only with SCMP_ACT_ERRNO and SCMP_ACT_TRACE', () => {
    expectOnlyError(seccomp({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }), '/linux/seccomp/defaultErrnoRet', /SCMP_ACT_ERRNO or SCMP_ACT_TRACE/);
    expectOnlyError(seccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }), '/linux/seccomp/syscalls/0/errnoRet', /not SCMP_ACT_KILL/);
  });
  it('requires listenerPath exactly when SCMP_ACT_NOTIFY is used', () => {
    const notify = { names: ['mount'], action: 'SCMP_ACT_NOTIFY' as const };
    expectClean(seccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [notify] }));
    expectOnlyError(seccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [notify] }), '/linux/seccomp/listenerPath', /needs a listenerPath/);
    const unused = seccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' });
    expect(run(unused).errors).toEqual([]);
    expect(warningPaths(unused)).toEqual(['/linux/seccomp/listenerPath']);
  });
  it('refuses SCMP_ACT_NOTIFY as default action and for write', () => {
    expectOnlyError(seccomp({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/run/a.sock' }), '/linux/seccomp/defaultAction', /cannot be the default action/);
    expectOnlyError(
      seccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/a.sock', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }] }),
      '/linux/seccomp/syscalls/0/names/1',
      /write/,
    );
  });
});

describe('time namespace offsets', () => {
  const offsets = { monotonic: { secs: 172800, nanosecs: 0 }, boottime: { secs: 604800 } };
  it('are accepted with a new time namespace', () => {
    expectClean(make((s) => (linux(s).namespaces?.push({ type: 'time' }), (linux(s).timeOffsets = offsets))));
  });
  it('need a time namespace, and a new one', () => {
    expectOnlyError(make((s) => (linux(s).timeOffsets = offsets)), '/linux/timeOffsets', /need a time namespace/);
    expectOnlyError(make((s) => (linux(s).namespaces?.push({ type: 'time', path: '/proc/1234/ns/time' }), (linux(s).timeOffsets = offsets))), '/linux/timeOffsets', /new time namespace/);
  });
  it('refuses unknown clocks and nanosecs of a second or more', () => {
    const spec = make((s) => (linux(s).namespaces?.push({ type: 'time' }), (linux(s).timeOffsets = { realtime: { secs: 1 }, boottime: { nanosecs: 1_000_000_000 } })));
    expect(errorPaths(spec)).toEqual(['/linux/timeOffsets/realtime', '/linux/timeOffsets/boottime/nanosecs']);
  });
});

describe('hooks', () => {
  it('require absolute paths and positive timeouts', () => {
    expectClean(make((s) => (s.hooks = { createRuntime: [{ path: '/usr/bin/hook', timeout: 5 }], poststop: [{ path: '/bin/true' }] })));
    const spec = make((s) => (s.hooks = { prestart: [{ path: 'hook' }], poststart: [{ path: '/bin/x', timeout: 0 }] }));
    expect(errorPaths(spec)).toEqual(['/hooks/prestart/0/path', '/hooks/poststart/0/timeout']);
  });
});

describe('intelRdt', () => {
  it('accepts a plain closID and well-formed schemas', () => {
    expectClean(make((s) => (linux(s).intelRdt = { closID: 'guaranteed', l3CacheSchema: 'L3:0=7f0;1=1f', memBwSchema: 'MB:0=20;1=70', schemata: ['L2:0=ff', 'MB:0=50'] })));
  });
  it('refuses a closID that is not a directory name and malformed schema lines', () => {
    const spec = make((s) => (linux(s).intelRdt = { closID: '../x', l3CacheSchema: 'MB:0=20', schemata: ['just text'] }));
    expect(errorPaths(spec)).toEqual(['/linux/intelRdt/closID', '/linux/intelRdt/l3CacheSchema', '/linux/intelRdt/schemata/0']);
  });
});

describe('netDevices', () => {
  it('are moved into a network namespace with valid, distinct names', () => {
    expectClean(make((s) => (linux(s).netDevices = { eth1: { name: 'ceth0' }, ens4: {} })));
  });
  it('need a network namespace', () => {
    expectOnlyError(make((s) => ((linux(s).namespaces = [{ type: 'mount' }]), (linux(s).netDevices = { eth1: {} }))), '/linux/netDevices', /network namespace/);
  });
  it('refuse invalid and colliding names', () => {
    const spec = make((s) => (linux(s).netDevices = { 'a/b': {}, eth1: { name: 'a-very-long-interface-name' }, eth2: { name: 'x' }, eth3: { name: 'x' } }));
    expect(errorPaths(spec)).toEqual(['/linux/netDevices/a~1b', '/linux/netDevices/eth1/name', '/linux/netDevices/eth3']);
  });
});

describe('memoryPolicy', () => {
  type Policy = NonNullable<NonNullable<MSpec['linux']>['memoryPolicy']>;
  const policy = (p: Policy): Spec => make((s) => (linux(s).memoryPolicy = p));
  it('accepts valid policies', () => {
    expectClean(policy({ mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_NUMA_BALANCING'] }));
    expectClean(policy({ mode: 'MPOL_DEFAULT' }));
    expectClean(policy({ mode: 'MPOL_PREFERRED', nodes: '' }));
    expectClean(policy({ mode: 'MPOL_INTERLEAVE', nodes: '0,2', flags: ['MPOL_F_RELATIVE_NODES'] }));
  });
  it('checks nodes against the mode', () => {
    expectOnlyError(policy({ mode: 'MPOL_BIND' }), '/linux/memoryPolicy/nodes', /needs at least one node/);
    expectOnlyError(policy({ mode: 'MPOL_LOCAL', nodes: '0' }), '/linux/memoryPolicy/nodes', /takes no nodes/);
    expectOnlyError(policy({ mode: 'MPOL_INTERLEAVE', nodes: '1-0' }), '/linux/memoryPolicy/nodes', /invalid node list/);
  });
  it('checks the flags', () => {
    expectOnlyError(policy({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }), '/linux/memoryPolicy/flags', /exclude each other/);
    expectOnlyError(policy({ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }), '/linux/memoryPolicy/flags', /only goes with MPOL_BIND/);
  });
  it('requires a known mode', () => {
    expectOnlyError(make((s) => (linux(s).memoryPolicy = JSON.parse('{"nodes":"0"}') as Policy)), '/linux/memoryPolicy/mode', /not one of/);
  });
});

describe('rootless', () => {
  const host = fakeHost({ rootless: true });
  const userns = (s: MSpec): void => {
    linux(s).namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }];
    linux(s).uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    linux(s).gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  };
  it('accepts a user namespace mapping the caller', () => {
    expectClean(make(userns), host);
  });
  it('requires a user namespace', () => {
    expectOnlyError(base(), '/linux/namespaces', /need a user namespace/, host);
  });
  it('refuses uid=/gid= mount options the namespace does not map', () => {
    const spec = make((s) => {
      userns(s);
      s.mounts = [{ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'gid=5', 'uid=0', 'mode=0620'] }];
    });
    expectOnlyError(spec, '/mounts/0/options/1', /gid 5 is not mapped/, host);
  });
  it('refuses idmapped mounts and network devices', () => {
    const spec = make((s) => {
      userns(s);
      linux(s).namespaces?.push({ type: 'network' });
      s.mounts = [{ destination: '/d', source: '/s', options: ['bind', 'idmap'] }];
      linux(s).netDevices = { eth1: {} };
    });
    expect(errorPaths(spec, host)).toEqual(['/mounts/0', '/linux/netDevices']);
  });
});

describe('real configs', () => {
  const real = ['runc-1.1.5-spec.json', 'runc-1.1.5-spec-rootless.json', 'containerd-1.6-ctr-run-echo.json', 'podman-4.3-run-echo.json'];
  for (const file of real) {
    it(`${file} has no errors`, () => {
      const spec = readJson(join(FIXTURES, file));
      const { errors, warnings } = validateSpec(spec, permissiveHost({ rootless: file.includes('rootless') }));
      expect(errors).toEqual([]);
      // Only the runc ones warn: runc's default asks for ambient capabilities that are not inheritable.
      for (const w of warnings) expect(w.path).toMatch(/^\/process\/capabilities\/ambient\/\d$/);
    });
  }

  const good = join(FIXTURES, 'runtime-spec-good');
  for (const file of readdirSync(good).filter((f) => f !== 'linux-netdevice.json')) {
    it(`runtime-spec good config ${file} has no errors`, () => {
      const { errors } = validateSpec(readJson(join(good, file)), permissiveHost());
      expect(errors).toEqual([]);
    });
  }

  it('runtime-spec good config linux-netdevice.json lacks only a network namespace (runc refuses it too)', () => {
    const spec = readJson(join(good, 'linux-netdevice.json'));
    expect(validateSpec(spec, permissiveHost()).errors.map((e) => e.path)).toEqual(['/linux/netDevices']);
    const withNetns: Spec = { ...spec, linux: { ...spec.linux, namespaces: [{ type: 'network' }] } };
    expect(validateSpec(withNetns, permissiveHost()).errors).toEqual([]);
  });

  it('the good configs are all the runtime-spec Linux ones (no other platform section)', () => {
    for (const file of readdirSync(good)) {
      const spec = readJson(join(good, file));
      expect(Object.keys(spec).filter((k) => ['windows', 'solaris', 'vm', 'zos', 'freebsd'].includes(k))).toEqual([]);
    }
  });
});

describe('host facts from this machine', () => {
  it('reads cap_last_cap and the namespace kinds', () => {
    const last = readLastCap();
    expect(last).toBeGreaterThanOrEqual(30);
    const kinds = readNamespaceKinds();
    expect(kinds.has('mount')).toBe(true);
    expect(kinds.has('pid')).toBe(true);
    expect(readLastCap('/nonexistent/cap_last_cap')).toBe(40);
    expect(readNamespaceKinds('/nonexistent').size).toBe(0);
  });
  it('answers exists, isDirectory and isRuntimeNamespace', () => {
    const host = readHostFacts({ bundle: '/', rootless: false });
    expect(host.exists('/proc/self/ns/mnt')).toBe(true);
    expect(host.isDirectory('/proc/self/ns')).toBe(true);
    expect(host.isDirectory('/proc/self/ns/mnt')).toBe(false);
    expect(host.exists('/definitely/not/here')).toBe(false);
    expect(host.isRuntimeNamespace?.('mount', '/proc/self/ns/mnt')).toBe(true);
    expect(host.isRuntimeNamespace?.('mount', '/definitely/not/here')).toBe(false);
  });
});
