// The kernel's list format for CPUs and NUMA nodes (cpuset.cpus, cpuset.mems,
// set_mempolicy nodes, sched_setaffinity lists): "0-3,7", "0-15:2/4".

const ITEM = /^(\d+)(?:-(\d+)(?::(\d+)\/(\d+))?)?$/;

/**
 * Why `text` is not a valid list, or undefined if it is. An empty (or
 * blank) string is valid: it means "not set".
 */
export function listFormatProblem(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  for (const raw of text.split(',')) {
    const item = raw.trim();
    const m = ITEM.exec(item);
    if (m === null) return `${JSON.stringify(item)} is not a number or a range like "0-3"`;
    const first = Number(m[1]);
    if (m[2] !== undefined) {
      const last = Number(m[2]);
      if (last < first) return `range ${JSON.stringify(item)} ends before it starts`;
      if (m[3] !== undefined && m[4] !== undefined) {
        const used = Number(m[3]);
        const group = Number(m[4]);
        if (group === 0 || used === 0 || used > group) return `range ${JSON.stringify(item)} has an invalid ":used/group" stride`;
      }
    }
  }
  return undefined;
}
