// Semantic validation of a config: what the JSON Schema cannot say. A list
// of small named checks (runc's libcontainer/configs/validate is the model),
// all run, pure, before any side effect; every problem is returned at once,
// located by JSON pointer. Run after schema validation: the checks trust the
// types the schema guarantees.

import type { ConfigProblem } from '../../errors.js';
import type { Spec } from '../types.js';
import type { Check, HostFacts, Reporter, ValidationResult } from './context.js';
import { capabilityNames, capabilitySubsets } from './capabilities.js';
import { blockIOWeights, cpuSettings, memoryLimits, unifiedKeys } from './cgroups.js';
import { deviceCgroupRules, devices } from './devices.js';
import { hooks } from './hooks.js';
import { processUserMapped, userNamespaceMappings } from './idmappings.js';
import { intelRdt } from './intelrdt.js';
import { memoryPolicy } from './memory-policy.js';
import { maskedAndReadonlyPaths, mountDestinations, mountIdMappings } from './mounts.js';
import { namespacePaths, namespaceTypes } from './namespaces.js';
import { netDevices } from './netdevices.js';
import {
  processArgsAndCwd,
  processEnv,
  processExecCPUAffinity,
  processOomAndIoPriority,
  processScheduler,
  windowsOnlyProcessFields,
} from './process.js';
import { rlimits } from './rlimits.js';
import { ociVersion, otherPlatforms, rootFilesystem } from './root.js';
import { rootless } from './rootless.js';
import { seccompErrnoRet, seccompNames, seccompNotify } from './seccomp.js';
import { sysctls } from './sysctl.js';
import { timeOffsets } from './time.js';
import { utsNames } from './uts.js';

export type { Check, HostFacts, Reporter, ValidationResult } from './context.js';

/** Every check, in the order they run (the order only affects the order of the problems). */
export const CHECKS: readonly Check[] = [
  ociVersion,
  rootFilesystem,
  otherPlatforms,
  namespaceTypes,
  namespacePaths,
  userNamespaceMappings,
  processUserMapped,
  processArgsAndCwd,
  processEnv,
  windowsOnlyProcessFields,
  processOomAndIoPriority,
  processScheduler,
  processExecCPUAffinity,
  rlimits,
  capabilityNames,
  capabilitySubsets,
  utsNames,
  sysctls,
  mountDestinations,
  mountIdMappings,
  maskedAndReadonlyPaths,
  devices,
  deviceCgroupRules,
  unifiedKeys,
  memoryLimits,
  cpuSettings,
  blockIOWeights,
  seccompNames,
  seccompErrnoRet,
  seccompNotify,
  timeOffsets,
  hooks,
  intelRdt,
  netDevices,
  memoryPolicy,
  rootless,
];

/** Run `checks` (all of them by default) over a schema-valid spec and collect every problem. */
export function validateSpec(spec: Spec, host: HostFacts, checks: readonly Check[] = CHECKS): ValidationResult {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const report: Reporter = {
    error: (path, message) => errors.push({ path, message }),
    warn: (path, message) => warnings.push({ path, message }),
  };
  for (const check of checks) {
    try {
      check.run(spec, host, report);
    } catch (err) {
      // Only a spec the schema would have refused gets here (a string where a
      // list belongs, ...): report it rather than crash, and keep checking.
      report.error('', `check ${check.name} could not run on this config: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { errors, warnings };
}
