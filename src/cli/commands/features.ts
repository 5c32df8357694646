import { buildFeatures } from '../../features.js';
import { writeStdout } from '../../log.js';
import type { CommandRunner } from '../context.js';

/** `features`: runtime-spec features.md JSON listing only what tsrun really supports. */
const features: CommandRunner = async () => {
  writeStdout(`${JSON.stringify(buildFeatures(), null, '    ')}\n`);
  return 0;
};
export default features;
