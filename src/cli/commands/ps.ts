import { spawnSync } from 'node:child_process';
import { cgroupPids } from '../../cgroups/manager.js';
import { TsrunError } from '../../errors.js';
import { writeStdout } from '../../log.js';
import type { CommandOf, CommandRunner } from '../context.js';

/**
 * `ps <id> [--format table|json] [ps args]`, as runc: json is the array of
 * host pids in the container's cgroup; table runs the host's `ps` (default
 * `-ef`) and keeps the header and the lines whose PID column is one of them.
 */
const ps: CommandRunner<CommandOf<'ps'>> = async (command, ctx) => {
  const store = await ctx.store();
  const record = store.read(command.id);
  const pids = record.cgroupPath === undefined ? [] : cgroupPids(record.cgroupPath);
  if (command.format === 'json') {
    writeStdout(`${JSON.stringify(pids)}\n`);
    return 0;
  }
  const args = command.psArgs.length > 0 ? command.psArgs : ['-ef'];
  const r = spawnSync('ps', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new TsrunError(`ps ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`);
  const [header = '', ...lines] = r.stdout.split('\n');
  const pidColumn = header.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw new TsrunError(`couldn't find PID field in ps output`);
  const wanted = new Set(pids);
  const kept = lines.filter((l) => l.trim() !== '' && wanted.has(Number(l.trim().split(/\s+/)[pidColumn])));
  writeStdout(`${[header, ...kept].join('\n')}\n`);
  return 0;
};
export default ps;
