// The config's version, its root filesystem, and sections for other platforms.

import { isAbsolute, q, type Check } from './context.js';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** The newest runtime-spec version tsrun implements (features.ociVersionMax). */
const NEWEST = { major: 1, minor: 3 } as const;

/**
 * ociVersion MUST be SemVer (config.md). Versions outside 1.0.0 .. 1.3.x are
 * a warning, not an error: runc and crun run them, and old configs
 * (0.5.0-dev in the spec's own example) are still seen.
 */
export const ociVersion: Check = {
  name: 'ociVersion',
  run(spec, _host, report) {
    const m = SEMVER.exec(spec.ociVersion);
    if (m === null) {
      report.error('/ociVersion', `${q(spec.ociVersion)} is not a SemVer 2.0.0 version (like "1.3.0")`);
      return;
    }
    const major = Number(m[1]);
    const minor = Number(m[2]);
    if (major !== NEWEST.major || minor > NEWEST.minor) {
      report.warn('/ociVersion', `version ${spec.ociVersion} is outside what tsrun implements (1.0.0 to ${NEWEST.major}.${NEWEST.minor}.x); fields it does not know are ignored or refused`);
    }
  },
};

/** root is REQUIRED on Linux and a directory MUST exist at root.path (absolute, or relative to the bundle). */
export const rootFilesystem: Check = {
  name: 'rootFilesystem',
  run(spec, host, report) {
    if (spec.root === undefined) {
      report.error('/root', 'root is required on Linux');
      return;
    }
    const path = spec.root.path;
    if (path === '') {
      report.error('/root/path', 'root.path must not be empty');
      return;
    }
    const resolved = isAbsolute(path) ? path : `${host.bundle.replace(/\/+$/, '')}/${path}`;
    if (!host.exists(resolved)) {
      report.error('/root/path', `root filesystem ${resolved} does not exist`);
    } else if (!host.isDirectory(resolved)) {
      report.error('/root/path', `root filesystem ${resolved} is not a directory`);
    }
  },
};

const OTHER_PLATFORMS = ['windows', 'solaris', 'vm', 'zos', 'freebsd'] as const;

/** Sections for other platforms are ignored on Linux; say so. */
export const otherPlatforms: Check = {
  name: 'otherPlatforms',
  run(spec, _host, report) {
    for (const platform of OTHER_PLATFORMS) {
      if (spec[platform] !== undefined) report.warn(`/${platform}`, `the ${platform} section is ignored: tsrun is a Linux runtime`);
    }
  },
};
