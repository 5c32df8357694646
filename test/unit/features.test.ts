import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CAPABILITY_NAMES, LAST_KNOWN_CAPABILITY, capabilitiesUpTo, capabilityName, capabilityNumber, isCapabilityName } from '../../src/capabilities.js';
import { SUPPORT, VERSION_ANNOTATION, buildFeatures, forHost, type HostSupport, type SupportTable } from '../../src/features.js';
import { TSRUN_VERSION } from '../../src/cli/version.js';
import type { Features } from '../../src/spec/types.js';
import { SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../../src/spec/validate/seccomp.js';
import { NAMESPACE_TYPES } from '../../src/spec/validate/namespaces.js';
import { HOOK_NAMES } from '../../src/spec/validate/hooks.js';

const HERE = dirname(fileURLToPath(import.meta.url));

describe('capability table', () => {
  it('lists CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40)', () => {
    expect(CAPABILITY_NAMES).toHaveLength(41);
    expect(LAST_KNOWN_CAPABILITY).toBe(40);
    expect(capabilityNumber('CAP_CHOWN')).toBe(0);
    expect(capabilityNumber('CAP_SYS_ADMIN')).toBe(21);
    expect(capabilityNumber('CAP_AUDIT_READ')).toBe(37);
    expect(capabilityNumber('CAP_CHECKPOINT_RESTORE')).toBe(40);
    expect(capabilityName(27)).toBe('CAP_MKNOD');
    expect(capabilityName(41)).toBeUndefined();
    expect(capabilityName(1.5)).toBeUndefined();
    // the table is native/constants.ts's CAP, whose keys must stand in kernel order
    CAPABILITY_NAMES.forEach((name, n) => expect(capabilityNumber(name)).toBe(n));
  });
  it('is case-sensitive and knows no extra names', () => {
    expect(isCapabilityName('CAP_KILL')).toBe(true);
    expect(isCapabilityName('cap_kill')).toBe(false);
    expect(capabilityNumber('KILL')).toBeUndefined();
  });
  it('agrees with the capabilities runc reports (the runtime-spec features example)', () => {
    const runc = JSON.parse(readFileSync(join(HERE, '..', 'fixtures', 'configs', 'runtime-spec-features-runc.json'), 'utf8')) as Features;
    expect([...CAPABILITY_NAMES]).toEqual(runc.linux?.capabilities);
  });
  it('cuts the list at a kernel last capability', () => {
    expect(capabilitiesUpTo(37)).toHaveLength(38);
    expect(capabilitiesUpTo(37).at(-1)).toBe('CAP_AUDIT_READ');
    expect(capabilitiesUpTo(99)).toHaveLength(41);
    expect(capabilitiesUpTo(-1)).toHaveLength(0);
  });
});

describe('buildFeatures', () => {
  const f = buildFeatures(SUPPORT);

  it('has the versions and every hook', () => {
    expect(f.ociVersionMin).toBe('1.0.0');
    expect(f.ociVersionMax).toBe('1.3.0');
    expect(f.hooks).toEqual([...HOOK_NAMES]);
  });

  it('describes the Linux support', () => {
    const linux = f.linux;
    expect(linux?.namespaces && [...linux.namespaces].sort()).toEqual([...NAMESPACE_TYPES].sort());
    expect(linux?.capabilities).toEqual([...CAPABILITY_NAMES]);
    expect(linux?.cgroup).toEqual({ v1: false, v2: true, systemd: false, systemdUser: false, rdma: true });
    // Implemented; `tsrun features` narrows them to the host (forHost below).
    expect(linux?.apparmor).toEqual({ enabled: true });
    expect(linux?.selinux).toEqual({ enabled: true });
    expect(linux?.intelRdt).toEqual({ enabled: false });
    expect(linux?.mountExtensions).toEqual({ idmap: { enabled: true } });
    expect(linux?.netDevices).toEqual({ enabled: false });
  });

  it('lists seccomp names the spec defines', () => {
    const s = f.linux?.seccomp;
    expect(s?.enabled).toBe(true);
    expect(s?.actions && [...s.actions].sort()).toEqual([...SECCOMP_ACTIONS].sort());
    expect(s?.operators && [...s.operators].sort()).toEqual([...SECCOMP_OPERATORS].sort());
    for (const arch of s?.archs ?? []) expect(SECCOMP_ARCHS).toContain(arch);
    expect(s?.archs).toContain('SCMP_ARCH_X86_64');
    expect(s?.knownFlags && [...s.knownFlags].sort()).toEqual([...SECCOMP_FLAGS].sort());
    for (const flag of s?.supportedFlags ?? []) expect(s?.knownFlags).toContain(flag);
  });

  it('is narrowed to what the host can do: libseccomp, its architectures, NOTIFY, kernel flags, LSMs', () => {
    const host: HostSupport = {
      libseccomp: true,
      seccompArchs: new Set(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']),
      seccompNotify: false,
      seccompFlags: new Set(['SECCOMP_FILTER_FLAG_LOG']),
      apparmor: true,
      selinux: false,
    };
    const h = buildFeatures(forHost(SUPPORT, host)).linux;
    expect(h?.seccomp?.archs).toEqual(['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64']);
    expect(h?.seccomp?.actions).not.toContain('SCMP_ACT_NOTIFY');
    expect(h?.seccomp?.supportedFlags).toEqual(['SECCOMP_FILTER_FLAG_LOG']);
    expect(h?.seccomp?.knownFlags).toHaveLength(4);
    expect(h?.apparmor).toEqual({ enabled: true });
    expect(h?.selinux).toEqual({ enabled: false });
    expect(buildFeatures(forHost(SUPPORT, { ...host, libseccomp: false })).linux?.seccomp).toEqual({ enabled: false });
  });

  it('lists mount options without duplicates, the idmap extension included', () => {
    const options = f.mountOptions ?? [];
    expect(new Set(options).size).toBe(options.length);
    for (const o of ['bind', 'rbind', 'ro', 'rro', 'nosuid', 'rprivate', 'idmap', 'ridmap', 'nosymfollow']) expect(options).toContain(o);
    for (const o of options) expect(o).toMatch(/^[a-z]+$/);
  });

  it('carries the tsrun version annotation', () => {
    expect(VERSION_ANNOTATION).toBe('io.github.tsrun.version');
    expect(f.annotations).toEqual({ 'io.github.tsrun.version': TSRUN_VERSION });
  });

  it('has only the fields features.md defines and serialises as JSON', () => {
    expect(Object.keys(f).sort()).toEqual(['annotations', 'hooks', 'linux', 'mountOptions', 'ociVersionMax', 'ociVersionMin']);
    expect(Object.keys(f.linux ?? {}).sort()).toEqual(['apparmor', 'capabilities', 'cgroup', 'intelRdt', 'mountExtensions', 'namespaces', 'netDevices', 'seccomp', 'selinux']);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });

  it('follows the support table it is given, without sharing its arrays', () => {
    const table: SupportTable = { ...SUPPORT, namespaces: ['mount'], apparmor: true, potentiallyUnsafeConfigAnnotations: ['io.example.'] };
    const g = buildFeatures(table);
    expect(g.linux?.namespaces).toEqual(['mount']);
    expect(g.linux?.apparmor).toEqual({ enabled: true });
    expect(g.potentiallyUnsafeConfigAnnotations).toEqual(['io.example.']);
    expect(g.linux?.namespaces).not.toBe(table.namespaces);
  });

  it('defaults to SUPPORT', () => {
    expect(buildFeatures()).toEqual(f);
  });
});
