// The little of source maps (v3) that bench:phases needs: which source file, and which
// original name, a position of the minified bundle belongs to. Written by esbuild beside each
// bundle (scripts/build.mjs); tsrun itself never reads them.

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));
const VLQ_SHIFT = 5;
const VLQ_CONTINUE = 1 << VLQ_SHIFT;
const VLQ_MASK = VLQ_CONTINUE - 1;
/** How far before a function's start (its parameters, where V8 puts it) its name is looked for. */
const NAME_REACH = 80;

/** The base64 VLQ numbers of one segment. */
function decodeSegment(text) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const digit = DIGIT.get(c);
    if (digit === undefined) throw new Error(`source map: bad character ${JSON.stringify(c)}`);
    value += (digit & VLQ_MASK) << shift;
    if (digit & VLQ_CONTINUE) {
      shift += VLQ_SHIFT;
      continue;
    }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return values;
}

export class SourceMap {
  /** @param {{ sources: string[], names?: string[], mappings: string }} map */
  constructor(map) {
    this.sources = map.sources;
    this.names = map.names ?? [];
    /** Per generated line: segments [column, source, name (-1: none)], by column. */
    this.lines = [];
    let source = 0;
    let name = 0;
    for (const line of map.mappings.split(';')) {
      const segments = [];
      let column = 0;
      for (const text of line.split(',')) {
        if (text === '') continue;
        const [dc = 0, ds, , , dn] = decodeSegment(text);
        column += dc;
        if (ds === undefined) continue; // a segment that maps to no source
        source += ds;
        let named = -1;
        if (dn !== undefined) named = name += dn;
        segments.push([column, source, named]);
      }
      this.lines.push(segments);
    }
  }

  /**
   * The source file (as the map names it) of a 0-based generated position, and the original
   * name closest before it on that line (a function's own, for a profile's frame), if any.
   * @param {number} line @param {number} column
   * @returns {{ source: string, name: string | undefined } | undefined}
   */
  lookup(line, column) {
    const segments = this.lines[line];
    if (!segments) return undefined;
    let lo = 0;
    let hi = segments.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segments[mid][0] <= column) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at < 0) return undefined;
    let name;
    for (let i = at; i >= 0 && segments[i][0] >= column - NAME_REACH; i--) {
      if (segments[i][2] >= 0) {
        name = this.names[segments[i][2]];
        break;
      }
    }
    return { source: this.sources[segments[at][1]], name };
  }
}
