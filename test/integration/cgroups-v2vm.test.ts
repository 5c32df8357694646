// The cgroup limits this hybrid host cannot enforce (memory, pids, cpu,
// cpuset, io: see TESTING.md), tested in a throwaway VM with a pure cgroup v2
// hierarchy and every controller: ../shared/tools/v2vm/run-in-v2vm.sh boots
// it and runs test/v2vm/cgroups.v2vm.ts inside with vitest; this file reports
// each of its cases. One boot runs them all: everything in the VM is 15-40x
// slower (about 5 minutes here). Set TSRUN_SKIP_V2VM=1 to skip it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBusybox, isRoot } from '../helpers/bundle.js';
import { V2VM_CASES, V2VM_SUITE } from '../v2vm/cases.js';

const REPO = resolve(import.meta.dirname, '../..');
const SCRIPT = resolve(REPO, '../shared/tools/v2vm/run-in-v2vm.sh');
/** The VM's own limit (run-in-v2vm.sh exits 124 past it), below this file's. */
const VM_TIMEOUT_S = 1500;
const EXIT_VM_FAILURE = 125;

interface CaseResult {
  readonly title: string;
  readonly status: string;
  readonly failureMessages: readonly string[];
}

function staticSkipReason(): string | undefined {
  if (process.env.TSRUN_SKIP_V2VM) return 'TSRUN_SKIP_V2VM is set';
  if (!isRoot) return 'the VM test needs root';
  if (!hasBusybox) return 'the VM test needs busybox-static (/bin/busybox)';
  if (process.arch !== 'x64') return `the v2vm guest is x86_64 and this host is ${process.arch}`;
  if (!existsSync(SCRIPT)) return `${SCRIPT} is missing`;
  if (spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { stdio: 'ignore' }).status !== 0) {
    return 'qemu-system-x86_64 is missing (apt-get install -y qemu-system-x86 xz-utils); the VM runs under TCG, KVM is not needed';
  }
  return undefined;
}

let skipReason = staticSkipReason();
let output = '';
let exitCode: number | null = null;
const results = new Map<string, CaseResult>();
let scratch: string | undefined;

function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The environment the VM's command gets (run-in-v2vm.sh exports ours), without this vitest worker's own variables. */
function ownEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && !k.startsWith('VITE_') && k !== 'NODE_ENV'));
}

function runVm(): Promise<number | null> {
  const cacheDir = join(homedir(), '.cache');
  mkdirSync(cacheDir, { recursive: true });
  // Shared with the VM at the same path; the VM's own /tmp is a private tmpfs.
  scratch = mkdtempSync(join(cacheDir, 'tsrun-v2vm-test-'));
  const inner = [
    process.execPath,
    join(REPO, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--config',
    'test/v2vm/vitest.config.ts',
    '--reporter=verbose',
    '--reporter=json',
    `--outputFile.json=${join(scratch, 'results.json')}`,
  ];
  return new Promise((done) => {
    const child = spawn(SCRIPT, inner, {
      cwd: REPO,
      env: { ...ownEnv(), V2VM_SCRATCH: scratch, V2VM_TIMEOUT: String(VM_TIMEOUT_S), CI: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => {
      output += `\nspawn ${SCRIPT}: ${err.message}`;
      done(EXIT_VM_FAILURE);
    });
    child.on('close', (code) => done(code));
  });
}

function readResults(file: string): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { testResults?: { assertionResults?: CaseResult[] }[] };
  for (const file of doc.testResults ?? []) for (const r of file.assertionResults ?? []) results.set(r.title, r);
}

describe(`${V2VM_SUITE} (run-in-v2vm.sh)`, () => {
  beforeAll(async () => {
    if (skipReason !== undefined) {
      console.warn(`cgroup v2 VM tests skipped: ${skipReason}`);
      return;
    }
    exitCode = await runVm();
    const file = join(scratch as string, 'results.json');
    if (existsSync(file)) readResults(file);
    // 125: the VM could not be built or booted (no qemu, no kernel package, ...): a reason to skip, not a failure of tsrun.
    else if (exitCode === EXIT_VM_FAILURE) {
      skipReason = `the VM could not start (run-in-v2vm.sh exit 125):\n${tail(output, 20)}`;
      console.warn(`cgroup v2 VM tests skipped: ${skipReason}`);
    }
  }, (VM_TIMEOUT_S + 120) * 1000);

  afterAll(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  for (const title of Object.values(V2VM_CASES)) {
    it(title, (ctx) => {
      if (skipReason !== undefined) ctx.skip(skipReason);
      const r = results.get(title);
      if (r === undefined) throw new Error(`no result from the VM (exit status ${exitCode}); its output:\n${tail(output)}`);
      if (r.status !== 'passed') throw new Error(`${r.status} in the VM:\n${r.failureMessages.join('\n')}\n--- VM output ---\n${tail(output)}`);
      expect(r.status).toBe('passed');
    });
  }
});
