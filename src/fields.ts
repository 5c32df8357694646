// Space-separated fields of the kernel's text files (/proc/<pid>/stat, /proc/self/mountinfo),
// found with indexOf: no split of a whole line into dozens of strings to keep one.

/** The `n`th (0-based) space-separated field of `s[start, end)`, or undefined when it has fewer. */
export function spaceField(s: string, n: number, start = 0, end = s.length): string | undefined {
  let at = start;
  for (let k = 0; k < n; k++) {
    const sp = s.indexOf(' ', at);
    if (sp === -1 || sp >= end) return undefined;
    at = sp + 1;
  }
  const sp = s.indexOf(' ', at);
  return s.slice(at, sp === -1 || sp > end ? end : sp);
}
