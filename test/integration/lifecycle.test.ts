// Real containers through the real tsrun binary, from a busybox bundle.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readdirSync, readFileSync, readlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../src/spec/types.js';
import type { Bundle } from '../helpers/bundle.js';
import { hasBusybox, isRoot, makeBundle, minimalSpec, readOutput, tsrun, tsrunToFiles, writeSpec } from '../helpers/bundle.js';

const CGROUP_MOUNT = '/sys/fs/cgroup/unified';
const made: { bundle: Bundle; id: string }[] = [];

function bundleFor(spec: Spec, id: string): Bundle {
  const bundle = makeBundle(spec);
  made.push({ bundle, id });
  return bundle;
}

afterEach(() => {
  for (const { bundle, id } of made.splice(0)) tsrun(bundle, ['delete', '--force', id]);
});

function state(bundle: Bundle, id: string): { status: string; pid: number; bundle: string } {
  const r = tsrun(bundle, ['state', id]);
  if (r.status !== 0) throw new Error(`state failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { status: string; pid: number; bundle: string };
}

function waitFor(check: () => boolean, ms = 5000): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    spawnSync('sleep', ['0.02']);
  }
  return check();
}

function hook(dir: string, name: string, body: string): string {
  const path = join(dir, `${name}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe.skipIf(!isRoot || !hasBusybox)('container lifecycle (root, busybox-static)', () => {
  it('run: passes stdout and stderr through and returns the exit status', () => {
    const b = bundleFor(minimalSpec(['sh', '-c', 'echo out; echo err >&2; exit 3']), 'run1');
    const r = tsrun(b, ['run', 'run1']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.status).toBe(3);
    // run deletes the container unless --keep
    expect(tsrun(b, ['state', 'run1']).stderr).toContain('container does not exist');
  });

  it('run: a container killed by a signal exits 128+signal', () => {
    // Without a PID namespace: the init of one ignores SIGKILL sent from inside it.
    const spec = minimalSpec(['sh', '-c', 'kill -9 $$']);
    spec.linux = { namespaces: [{ type: 'mount' }, { type: 'uts' }] };
    const b = bundleFor(spec, 'run2');
    expect(tsrun(b, ['run', 'run2']).status).toBe(137);
  });

  it('create -> created, start -> running, kill -> stopped, delete -> gone, with the pid file and cgroup', () => {
    const b = bundleFor(minimalSpec(['sh', '-c', 'echo started; sleep 30']), 'life');
    const pidFile = join(b.dir, 'init.pid');
    const c = tsrunToFiles(b, ['create', '--bundle', b.dir, '--pid-file', pidFile, 'life']);
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    const created = state(b, 'life');
    expect(created.status).toBe('created');
    expect(created.bundle).toBe(b.dir);
    expect(readFileSync(pidFile, 'utf8')).toBe(String(created.pid));
    expect(readFileSync(join(CGROUP_MOUNT, 'life', 'cgroup.procs'), 'utf8').trim()).toBe(String(created.pid));
    expect(readOutput(b)).toBe('');

    expect(tsrun(b, ['start', 'life']).status).toBe(0);
    expect(state(b, 'life').status).toBe('running');
    expect(waitFor(() => readOutput(b) === 'started\n')).toBe(true);

    // illegal transitions
    expect(tsrun(b, ['start', 'life']).stderr).toMatch(/cannot start an already running container/);
    const del = tsrun(b, ['delete', 'life']);
    expect(del.status).toBe(1);
    expect(del.stderr).toMatch(/not stopped: running/);
    expect(state(b, 'life').status).toBe('running');

    expect(tsrun(b, ['kill', 'life', '9']).status).toBe(0);
    expect(waitFor(() => state(b, 'life').status === 'stopped')).toBe(true);
    expect(tsrun(b, ['kill', 'life', 'KILL']).stderr).toMatch(/container not running/);
    expect(tsrun(b, ['start', 'life']).stderr).toMatch(/cannot start a container that has stopped/);

    expect(tsrun(b, ['delete', 'life']).status).toBe(0);
    expect(tsrun(b, ['state', 'life']).stderr).toMatch(/container does not exist/);
    expect(existsSync(join(CGROUP_MOUNT, 'life'))).toBe(false);
    expect(readdirSync(b.root)).toEqual([]);
  });

  it('refuses a second container with the same id', () => {
    const b = bundleFor(minimalSpec(['sleep', '30']), 'dup');
    expect(tsrunToFiles(b, ['create', 'dup']).status).toBe(0);
    const again = tsrunToFiles(b, ['create', 'dup'], 'again');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/container with given ID already exists/);
    expect(state(b, 'dup').status).toBe('created');
  });

  it('deletes a created container and kills its init', () => {
    const b = bundleFor(minimalSpec(['sleep', '30']), 'cdel');
    expect(tsrunToFiles(b, ['create', 'cdel']).status).toBe(0);
    const { pid } = state(b, 'cdel');
    expect(tsrun(b, ['delete', 'cdel']).status).toBe(0);
    expect(waitFor(() => !existsSync(`/proc/${pid}/cmdline`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'))).toBe(true);
  });

  it('gives every requested namespace kind a new namespace, and shares the rest with the host', () => {
    const kinds = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup', 'time'];
    const spec = minimalSpec(['sh', '-c', kinds.map((k) => `readlink /proc/self/ns/${k}`).join('; ')]);
    spec.linux = { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }] };
    const b = bundleFor(spec, 'ns1');
    const r = tsrun(b, ['run', 'ns1']);
    expect(r.stderr).toBe('');
    const inside = r.stdout.trim().split('\n');
    kinds.forEach((k, i) => {
      const host = readlinkSync(`/proc/self/ns/${k}`);
      if (k === 'time') expect(inside[i]).toBe(host);
      else expect(inside[i]).not.toBe(host);
    });
  });

  it('joins a namespace by path', () => {
    // A holder with its own net, ipc, uts and cgroup namespaces; the container joins them all.
    const holder = spawnSync('sh', ['-c', 'unshare --net --ipc --uts --cgroup --fork sleep 30 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    const unsharePid = Number(holder.stdout.trim());
    try {
      let sleeper = 0;
      waitFor(() => {
        const kids = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim();
        sleeper = Number(kids.split(' ')[0]);
        return sleeper > 0;
      });
      const kinds = [
        ['network', 'net'],
        ['ipc', 'ipc'],
        ['uts', 'uts'],
        ['cgroup', 'cgroup'],
      ] as const;
      const targets = kinds.map(([, proc]) => readlinkSync(`/proc/${sleeper}/ns/${proc}`));
      const spec = minimalSpec(['sh', '-c', kinds.map(([, proc]) => `readlink /proc/self/ns/${proc}`).join('; ')]);
      spec.linux = { namespaces: [{ type: 'pid' }, { type: 'mount' }, ...kinds.map(([type, proc]) => ({ type, path: `/proc/${sleeper}/ns/${proc}` }))] };
      const b = bundleFor(spec, 'join1');
      const r = tsrun(b, ['run', 'join1']);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split('\n')).toEqual(targets);
    } finally {
      spawnSync('kill', ['-9', String(unsharePid)]);
      spawnSync('pkill', ['-9', '-P', String(unsharePid)]);
    }
  });

  it('refuses to join a path that is not a namespace of the expected type', () => {
    const spec = minimalSpec(['true']);
    spec.linux = { namespaces: [{ type: 'mount' }, { type: 'uts' }, { type: 'network', path: '/proc/self/ns/ipc' }] };
    const b = bundleFor(spec, 'join2');
    const r = tsrun(b, ['run', 'join2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/join network namespace \/proc\/self\/ns\/ipc.*EINVAL/);
    expect(readdirSync(b.root)).toEqual([]);
  });

  it('maps uids and gids in a user namespace', () => {
    const spec = minimalSpec(['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map']);
    spec.linux = {
      namespaces: [{ type: 'pid' }, { type: 'user' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
    };
    spec.mounts = (spec.mounts ?? []).filter((m) => m.type !== 'sysfs');
    const b = bundleFor(spec, 'user1');
    spawnSync('chown', ['-R', '100000:200000', b.rootfs]);
    // As with runc, the container's root (host uid 100000) must be able to reach the rootfs.
    chmodSync(b.dir, 0o755);
    const r = tsrun(b, ['run', 'user1']);
    expect(r.stderr).toBe('');
    const [uid, gid, uidMap, gidMap] = r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    expect(uid).toBe('0');
    expect(gid).toBe('0');
    expect(uidMap).toBe('0 100000 65536');
    expect(gidMap).toBe('0 200000 65536');
  });

  it('sets the hostname in a new uts namespace', () => {
    const b = bundleFor(minimalSpec(['hostname']), 'host1');
    expect(tsrun(b, ['run', 'host1']).stdout).toBe('tsrun-test\n');
  });

  it('runs each hook kind at its point with the state on stdin, in order', () => {
    const log = join(mkdtempSync(join(tmpdir(), 'tsrun-hooks-')), 'log');
    const spec = minimalSpec(['sh', '-c', `echo process >> /hooklog`]);
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-hookbin-'));
    // Each hook appends its name, the status it was given, and whether it sees the container's hostname.
    const h = (name: string) => ({ path: hook(dir, name, `read -r s; echo "${name} $(echo "$s" | sed 's/.*"status":"\\([a-z]*\\)".*/\\1/') $(hostname)" >> ${log}`) });
    spec.hooks = {
      prestart: [h('prestart')],
      createRuntime: [h('createRuntime')],
      createContainer: [h('createContainer')],
      poststart: [h('poststart')],
      poststop: [h('poststop')],
    };
    const b = bundleFor(spec, 'hooks1');
    const r = tsrun(b, ['run', 'hooks1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const host = spawnSync('hostname', { encoding: 'utf8' }).stdout.trim();
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      `prestart creating ${host}`,
      `createRuntime creating ${host}`,
      `createContainer creating tsrun-test`,
      `poststart running ${host}`,
      `poststop stopped ${host}`,
    ]);
  });

  it('a failing createRuntime hook fails create and leaves nothing behind', () => {
    const spec = minimalSpec(['true']);
    const mark = join(tmpdir(), `tsrun-poststop-${process.pid}`);
    spec.hooks = {
      createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo nope >&2; exit 7'] }],
      // runtime.md: after a failing create hook the lifecycle goes on to the poststop hooks, all of them.
      poststop: [{ path: '/bin/false' }, { path: '/bin/sh', args: ['sh', '-c', `cat > ${mark}`] }],
    };
    const b = bundleFor(spec, 'hookfail');
    const r = tsrunToFiles(b, ['create', 'hookfail']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/createRuntime hook #0 \(\/bin\/sh\): exited with status 7: nope/);
    expect(r.stderr).toMatch(/level=warning msg="poststop hook #0 \(\/bin\/false\)/);
    expect(JSON.parse(readFileSync(mark, 'utf8'))).toMatchObject({ id: 'hookfail', status: 'stopped' });
    rmSync(mark, { force: true });
    expect(readdirSync(b.root)).toEqual([]);
    expect(existsSync(join(CGROUP_MOUNT, 'hookfail'))).toBe(false);
  });

  it('a hook that hangs is killed at its timeout and fails create', () => {
    const spec = minimalSpec(['true']);
    spec.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '60'], timeout: 1 }] };
    const b = bundleFor(spec, 'hookhang');
    const started = Date.now();
    const r = tsrunToFiles(b, ['create', 'hookhang']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/createContainer hook #0 \(\/bin\/sleep\): timed out after 1s/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(readdirSync(b.root)).toEqual([]);
  });

  it('a failing poststart hook fails start', () => {
    const spec = minimalSpec(['sleep', '30']);
    spec.hooks = { poststart: [{ path: '/bin/false' }] };
    const b = bundleFor(spec, 'pshook');
    expect(tsrunToFiles(b, ['create', 'pshook']).status).toBe(0);
    const r = tsrun(b, ['start', 'pshook']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/poststart hook #0/);
    // runtime-spec 1.3: and the container is stopped
    expect(state(b, 'pshook').status).toBe('stopped');
  });

  it('a failing startContainer hook fails start and stops the container; a #! script runs as a hook', () => {
    const spec = minimalSpec(['sleep', '30']);
    spec.hooks = { startContainer: [{ path: '/hook.sh' }, { path: '/bin/false' }] };
    const b = bundleFor(spec, 'schook');
    writeFileSync(join(b.rootfs, 'hook.sh'), '#!/bin/sh\necho script-ran > /tmp/ran\n');
    chmodSync(join(b.rootfs, 'hook.sh'), 0o755);
    expect(tsrunToFiles(b, ['create', 'schook']).status).toBe(0);
    const r = tsrun(b, ['start', 'schook']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/startContainer hook #1 \(\/bin\/false\)/);
    expect(readFileSync(join(b.rootfs, 'tmp', 'ran'), 'utf8')).toBe('script-ran\n');
    expect(state(b, 'schook').status).toBe('stopped');
  });

  it('passes preserved fds at 3.. and nothing else', () => {
    const b = bundleFor(minimalSpec(['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "; cat <&3']), 'fds');
    const extra = join(b.dir, 'extra');
    writeFileSync(extra, 'from fd 3');
    const r = spawnSync('sh', ['-c', `exec 3<${extra}; exec node ${join(import.meta.dirname, '../../bin/tsrun.js')} --root ${b.root} run --preserve-fds 1 --bundle ${b.dir} fds`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    // 0 1 2 3, and the fd ls itself opens for /proc/self/fd
    expect(r.stdout).toMatch(/^0 1 2 3 4 from fd 3$/);
  });

  it('a create that fails in the stub leaves no process, cgroup or state', () => {
    const spec = minimalSpec(['true']);
    spec.mounts = [...(spec.mounts ?? []), { destination: '/mnt', type: 'bind', source: '/nonexistent/source', options: ['bind'] }];
    const b = bundleFor(spec, 'stubfail');
    const r = tsrunToFiles(b, ['create', 'stubfail']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ENOENT/);
    expect(readdirSync(b.root)).toEqual([]);
    expect(existsSync(join(CGROUP_MOUNT, 'stubfail'))).toBe(false);
  });

  it('refuses an executable that is not in the rootfs', () => {
    const b = bundleFor(minimalSpec(['nope-not-here']), 'noexe');
    const r = tsrunToFiles(b, ['create', 'noexe']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/executable file not found in \$PATH/);
  });

  it('lists containers', () => {
    const b = bundleFor(minimalSpec(['sleep', '30']), 'lst');
    expect(tsrunToFiles(b, ['create', 'lst']).status).toBe(0);
    const list = JSON.parse(tsrun(b, ['list', '--format', 'json']).stdout) as { id: string; status: string }[];
    expect(list.map((c) => [c.id, c.status])).toEqual([['lst', 'created']]);
    expect(tsrun(b, ['list', '-q']).stdout).toBe('lst\n');
  });

  it('ps lists the host pids of the container processes, as json and as a ps table', () => {
    const b = bundleFor(minimalSpec(['sh', '-c', 'sleep 30 & sleep 31 & wait']), 'ps1');
    expect(tsrunToFiles(b, ['create', 'ps1']).status).toBe(0);
    expect(tsrun(b, ['start', 'ps1']).status).toBe(0);
    const { pid } = state(b, 'ps1');
    let pids: number[] = [];
    expect(waitFor(() => (pids = JSON.parse(tsrun(b, ['ps', '--format', 'json', 'ps1']).stdout) as number[]).length === 3)).toBe(true);
    expect(pids).toContain(pid);
    const table = tsrun(b, ['ps', 'ps1']).stdout.trim().split('\n');
    expect(table[0]).toMatch(/PID/);
    expect(table.slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).sort()).toEqual([...pids].sort());
  });

  it('kill --all signals every process of the container', () => {
    const spec = minimalSpec(['sh', '-c', 'trap "" TERM; sleep 30 & sleep 31 & wait']);
    const b = bundleFor(spec, 'kall');
    expect(tsrunToFiles(b, ['create', 'kall']).status).toBe(0);
    expect(tsrun(b, ['start', 'kall']).status).toBe(0);
    expect(waitFor(() => (JSON.parse(tsrun(b, ['ps', '--format', 'json', 'kall']).stdout) as number[]).length === 3)).toBe(true);
    // SIGTERM to the init alone would be ignored; --all reaches the two sleeps too.
    expect(tsrun(b, ['kill', '--all', 'kall', '9']).status).toBe(0);
    expect(waitFor(() => state(b, 'kall').status === 'stopped')).toBe(true);
    expect(JSON.parse(tsrun(b, ['ps', '--format', 'json', 'kall']).stdout)).toEqual([]);
  });

  it('gives runc\'s errors for unknown ids and illegal operations', () => {
    const b = bundleFor(minimalSpec(['sleep', '30']), 'ill');
    for (const args of [['state', 'nope'], ['start', 'nope'], ['kill', 'nope'], ['delete', 'nope'], ['ps', 'nope']]) {
      const r = tsrun(b, args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/container does not exist/);
    }
    expect(tsrun(b, ['delete', '--force', 'nope']).status).toBe(0);
    expect(tsrunToFiles(b, ['create', 'ill']).status).toBe(0);
    // A created init is PID 1 of its namespace with no handlers: only SIGKILL reaches it from outside.
    expect(tsrun(b, ['kill', 'ill', 'KILL']).status).toBe(0);
    expect(waitFor(() => state(b, 'ill').status === 'stopped')).toBe(true);
    expect(tsrun(b, ['kill', 'ill', '9']).stderr).toMatch(/container not running/);
    // as runc: --all only signals what is left in the cgroup, so a stopped container is fine
    expect(tsrun(b, ['kill', '--all', 'ill', '9']).status).toBe(0);
    expect(tsrun(b, ['start', 'ill']).stderr).toMatch(/cannot start a container that has stopped/);
    expect(tsrun(b, ['kill', 'ill', 'NOSUCHSIG']).stderr).toMatch(/invalid signal|unknown signal/);
  });

  it('gives the container a session keyring of its own unless --no-new-keyring', () => {
    const b = bundleFor(minimalSpec(['sh', '-c', 'grep -o "keyring *_ses[^:]*" /proc/keys || echo none']), 'key1');
    expect(tsrun(b, ['run', 'key1']).stdout.trim()).toMatch(/^keyring +_ses\.key1$/m);
    const shared = tsrun(b, ['run', '--no-new-keyring', 'key1']).stdout;
    expect(shared).not.toMatch(/_ses\.key1/);
  });
});
