// linux.devices (config-linux.md "Devices") and the device cgroup rules
// (linux.resources.devices, "Device allowlist").

import { entries, isAbsolute, pointer, q, type Check } from './context.js';

const DEVICE_TYPES: ReadonlySet<string> = new Set(['c', 'b', 'u', 'p']);

/**
 * Each device: a type of c, b, u or p; major and minor unless it is a FIFO
 * (p); an absolute path; no two devices at one path. The same type, major
 * and minor at two paths SHOULD NOT happen: a warning.
 */
export const devices: Check = {
  name: 'devices',
  run(spec, _host, report) {
    const paths = new Map<string, number>();
    const numbers = new Map<string, number>();
    for (const [i, d] of entries(spec.linux?.devices)) {
      if (!DEVICE_TYPES.has(d.type)) {
        report.error(pointer('linux', 'devices', i, 'type'), `device type ${q(d.type)} is not one of c (char), b (block), u (unbuffered char), p (FIFO)`);
      }
      if (d.type !== 'p') {
        for (const field of ['major', 'minor'] as const) {
          if (d[field] === undefined) report.error(pointer('linux', 'devices', i, field), `${field} is required for a device of type ${q(d.type)}`);
          else if (d[field] < 0) report.error(pointer('linux', 'devices', i, field), `${field} must not be negative`);
        }
      }
      if (!isAbsolute(d.path)) {
        report.error(pointer('linux', 'devices', i, 'path'), `device path ${q(d.path)} must be an absolute path in the container`);
      } else {
        const first = paths.get(d.path);
        if (first !== undefined) report.error(pointer('linux', 'devices', i, 'path'), `${d.path} is already the path of /linux/devices/${first}`);
        else paths.set(d.path, i);
      }
      if (d.type !== 'p' && d.major !== undefined && d.minor !== undefined) {
        const key = `${d.type === 'u' ? 'c' : d.type} ${d.major}:${d.minor}`;
        const first = numbers.get(key);
        if (first !== undefined) report.warn(pointer('linux', 'devices', i), `device ${key} is also /linux/devices/${first}; the same device SHOULD NOT be listed twice`);
        else numbers.set(key, i);
      }
    }
  },
};

const RULE_TYPES: ReadonlySet<string> = new Set(['a', 'b', 'c']);

/** Device cgroup rules: type a, b or c; access made of r, w and m (runc refuses anything else). */
export const deviceCgroupRules: Check = {
  name: 'deviceCgroupRules',
  run(spec, _host, report) {
    for (const [i, rule] of entries(spec.linux?.resources?.devices)) {
      if (rule.type !== undefined && rule.type !== '' && !RULE_TYPES.has(rule.type)) {
        report.error(pointer('linux', 'resources', 'devices', i, 'type'), `device rule type ${q(rule.type)} is not one of a (all), b (block), c (char)`);
      }
      if (rule.access !== undefined && !/^[rwm]*$/.test(rule.access)) {
        report.error(pointer('linux', 'resources', 'devices', i, 'access'), `device access ${q(rule.access)} must be made of r (read), w (write), m (mknod)`);
      }
      for (const field of ['major', 'minor'] as const) {
        const n = rule[field];
        // -1 is how some callers write "all" (the "*" of the v1 interface).
        if (n !== undefined && n < -1) report.error(pointer('linux', 'resources', 'devices', i, field), `${field} ${n} is not a device number`);
      }
    }
  },
};
