// linux.intelRdt (config-linux.md "IntelRdt"): shape the schema cannot check.

import { entries, pointer, q, type Check } from './context.js';

/**
 * closID names a resctrl directory: not ".", "..", nor containing "/" (runc
 * intelrdtCheck). l3CacheSchema lines are L3 lines ("L3:", "L3CODE:",
 * "L3DATA:"); memBwSchema lines are MB lines; every schemata entry is a
 * "<RESOURCE>:<...>" line.
 */
export const intelRdt: Check = {
  name: 'intelRdt',
  run(spec, _host, report) {
    const rdt = spec.linux?.intelRdt;
    if (rdt === undefined) return;
    if (rdt.closID !== undefined && (rdt.closID === '.' || rdt.closID === '..' || rdt.closID.includes('/') || rdt.closID.includes('\0'))) {
      report.error('/linux/intelRdt/closID', `closID ${q(rdt.closID)} must be a plain directory name`);
    }
    if (rdt.l3CacheSchema !== undefined && rdt.l3CacheSchema !== '') {
      for (const line of rdt.l3CacheSchema.split('\n').filter((l) => l.trim() !== '')) {
        if (!/^\s*L3(CODE|DATA)?:/.test(line)) {
          report.error('/linux/intelRdt/l3CacheSchema', `${q(line)} is not an L3 schema line (like "L3:0=ffff")`);
        }
      }
    }
    if (rdt.memBwSchema !== undefined && rdt.memBwSchema !== '') {
      for (const line of rdt.memBwSchema.split('\n').filter((l) => l.trim() !== '')) {
        if (!/^\s*MB:/.test(line)) report.error('/linux/intelRdt/memBwSchema', `${q(line)} is not an MB schema line (like "MB:0=70")`);
      }
    }
    for (const [i, line] of entries(rdt.schemata)) {
      if (!/^\s*[A-Za-z0-9_]+:/.test(line) || line.includes('\n')) {
        report.error(pointer('linux', 'intelRdt', 'schemata', i), `${q(line)} is not one schemata line of the form <RESOURCE>:<id>=<value>;...`);
      }
    }
  },
};
