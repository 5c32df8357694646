import { NotImplementedError } from '../../errors.js';
import { formatWarning, loadBundle } from '../../spec/load.js';
import type { CommandOf, CommandRunner } from '../context.js';

/** `create <id>`: validates the bundle fully (nothing is created before that passes). */
const create: CommandRunner<CommandOf<'create'>> = async (command, ctx) => {
  const loaded = loadBundle(command.bundle, { rootless: ctx.global.rootless === 'true' });
  for (const w of loaded.warnings) ctx.logger.warn(formatWarning(w));
  throw new NotImplementedError('create (the container lifecycle)');
};
export default create;
