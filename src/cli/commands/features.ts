import { buildFeatures, forHost, SUPPORT } from '../../features.js';
import { probeHostSupport } from '../../host-support.js';
import { writeStdout } from '../../log.js';
import type { CommandRunner } from '../context.js';

/** `features`: runtime-spec features.md JSON listing only what tsrun really supports, on this host. */
const features: CommandRunner = async () => {
  writeStdout(`${JSON.stringify(buildFeatures(forHost(SUPPORT, probeHostSupport())), null, '    ')}\n`);
  return 0;
};
export default features;
