import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../../errors.js';
import { defaultSpec } from '../../spec/default-config.js';
import { CONFIG_FILE } from '../../spec/load.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `spec [--bundle B] [--rootless]`: a default config.json, as runc writes it; never overwrites one. */
const spec: CommandRunner<CommandOf<'spec'>> = async (command) => {
  const file = join(command.bundle, CONFIG_FILE);
  if (existsSync(file)) throw new TsrunError(`File ${file} exists. Remove it first`);
  // cgroup namespace by default where the host is pure cgroup v2, as runc does.
  const cgroupns = existsSync('/sys/fs/cgroup/cgroup.controllers');
  writeFileSync(file, `${JSON.stringify(defaultSpec({ rootless: command.rootless, cgroupns }), null, '\t')}\n`, { flag: 'wx', mode: 0o644 });
  return 0;
};
export default spec;
