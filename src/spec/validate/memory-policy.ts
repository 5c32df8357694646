// linux.memoryPolicy (config-linux.md "Memory policy"): what set_mempolicy(2) accepts.

import { q, type Check } from './context.js';
import { listFormatProblem } from './lists.js';

const MODES: ReadonlySet<string> = new Set(['MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_LOCAL']);
const FLAGS: ReadonlySet<string> = new Set(['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES']);
/** Modes that take no nodes (runc: "requires 0 nodes"). */
const NO_NODES: ReadonlySet<string> = new Set(['MPOL_DEFAULT', 'MPOL_LOCAL']);
/** Modes that need at least one node. MPOL_PREFERRED takes zero or one. */
const NEED_NODES: ReadonlySet<string> = new Set(['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY']);
/** MPOL_F_NUMA_BALANCING is valid with these modes only (mm/mempolicy.c sanitize_mpol_flags). */
const NUMA_BALANCING_MODES: ReadonlySet<string> = new Set(['MPOL_BIND', 'MPOL_PREFERRED_MANY']);

export const memoryPolicy: Check = {
  name: 'memoryPolicy',
  run(spec, _host, report) {
    const p = spec.linux?.memoryPolicy;
    if (p === undefined) return;
    if ((p.mode as string | undefined) === undefined || !MODES.has(p.mode)) {
      report.error('/linux/memoryPolicy/mode', `memory policy mode ${q(p.mode)} is not one of ${[...MODES].join(', ')}`);
      return;
    }
    const nodes = (p.nodes ?? '').trim();
    const problem = listFormatProblem(nodes);
    if (problem !== undefined) report.error('/linux/memoryPolicy/nodes', `invalid node list ${q(p.nodes)}: ${problem}`);
    if (NO_NODES.has(p.mode) && nodes !== '') report.error('/linux/memoryPolicy/nodes', `${p.mode} takes no nodes`);
    if (NEED_NODES.has(p.mode) && nodes === '') report.error('/linux/memoryPolicy/nodes', `${p.mode} needs at least one node`);
    const flags = new Set<string>(p.flags ?? []);
    for (const flag of flags) {
      if (!FLAGS.has(flag)) report.error('/linux/memoryPolicy/flags', `unknown memory policy flag ${q(flag)}; allowed: ${[...FLAGS].join(', ')}`);
    }
    if (flags.has('MPOL_F_STATIC_NODES') && flags.has('MPOL_F_RELATIVE_NODES')) {
      report.error('/linux/memoryPolicy/flags', 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other');
    }
    if (flags.has('MPOL_F_NUMA_BALANCING') && !NUMA_BALANCING_MODES.has(p.mode)) {
      report.error('/linux/memoryPolicy/flags', `MPOL_F_NUMA_BALANCING only goes with MPOL_BIND or MPOL_PREFERRED_MANY, not ${p.mode}`);
    }
    if (p.mode === 'MPOL_LOCAL' && (flags.has('MPOL_F_STATIC_NODES') || flags.has('MPOL_F_RELATIVE_NODES'))) {
      report.error('/linux/memoryPolicy/flags', 'MPOL_LOCAL takes no node flags');
    }
  },
};
