/**
 * How a buffer is cut for the ring: `world` contiguous segments whose lengths differ by at most one
 * (the first `length % world` are one longer; with `length < world` some are empty), each cut into
 * chunks of at most `chunkElems` elements. Every rank computes the same cuts, so the schedule of
 * messages is known on both ends of each link.
 */

/** Half-open element range `[start, end)`. */
export interface Range {
  start: number;
  end: number;
}

/** The range of segment `seg` (0 ≤ seg < world) of a buffer of `length` elements. */
export function segmentRange(length: number, world: number, seg: number): Range {
  const base = Math.floor(length / world);
  const extra = length % world;
  const start = seg * base + Math.min(seg, extra);
  return { start, end: start + base + (seg < extra ? 1 : 0) };
}

/** The chunks of `range`, each at most `chunkElems` long; none for an empty range. */
export function chunkRanges(range: Range, chunkElems: number): Range[] {
  const out: Range[] = [];
  for (let start = range.start; start < range.end; start += chunkElems) {
    out.push({ start, end: Math.min(range.end, start + chunkElems) });
  }
  return out;
}

/** `a mod n` in [0, n). */
export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
