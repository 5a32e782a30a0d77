/**
 * Exact, order-independent summation of float32 gradients through 48-bit fixed point.
 *
 * Each term g is turned into the integer round(g · 2^e), held in a float64. Integers of magnitude
 * below 2^53 add exactly in float64, so as long as every partial sum stays in range the sum is the
 * same whatever the order or grouping of the terms: on one worker or on N, through any ring.
 * The range is ±(2^47 − 1), a 48-bit two's complement integer, so that a value travels in 6 bytes
 * ({@link packFixed}) rather than a float64's 8: the exact all-reduce then moves 6 + 4 bytes a value
 * against float32's 4 + 4. {@link chooseExponent} picks e so that `maxTerms` terms bounded by `maxAbs`
 * sum to at most 2^46 (one bit of headroom); every operation here checks the range and throws
 * {@link FixedPointOverflowError} rather than round or wrap.
 *
 * Resolution: the quantum 2^−e is about maxTerms · maxAbs · 2^−46, i.e. each term keeps ≈ 46 − log2(maxTerms)
 * bits relative to the largest term (2^−40 of maxAbs for 64 terms). The rounding of a sum of maxTerms terms
 * is then below float32's own wherever the mean is above 2^−23 · maxTerms of the largest term: for the 8 blocks
 * of a paper-size step, every element within a factor of 2^20 of its tensor's largest.
 */

/** Largest magnitude a fixed-point value or partial sum may have: 2^47 − 1. */
export const FIXED_MAX = 2 ** 47 - 1;

/** Target bound of a full sum chosen by {@link chooseExponent}: 2^46. */
export const FIXED_BUDGET = 2 ** 46;

/** How the range reads in messages. */
const RANGE = '±(2^47 − 1)';

/** A value or partial sum left the fixed-point range ±(2^47 − 1). */
export class FixedPointOverflowError extends Error {
  override readonly name = 'FixedPointOverflowError';
  constructor(
    /** Element index where it happened. */
    readonly index: number,
    /** The offending value (NaN when a ring collective already marked the element as overflowed). */
    readonly value: number,
    detail: string,
  ) {
    super(`fixed-point overflow at element ${index}: ${detail}`);
  }
}

/** A gradient (or a bound) is NaN or ±Infinity: nothing can be summed; the step must be skipped. */
export class NonFiniteError extends Error {
  override readonly name = 'NonFiniteError';
  constructor(
    /** Element index, or −1 for a scalar argument. */
    readonly index: number,
    readonly value: number,
    what: string,
  ) {
    super(`${what} is ${value}${index >= 0 ? ` at element ${index}` : ''}; cannot convert to fixed point`);
  }
}

/**
 * Largest |x| over `src`: NaN if any element is NaN, else Infinity if any is infinite. A worker's
 * bound is MAX-reduced over the ring (NaN and Infinity propagate), then given to {@link chooseExponent},
 * which throws {@link NonFiniteError} on every rank alike: the skip decision is collective.
 */
export function maxAbs(src: Float32Array | Float64Array): number {
  let m = 0;
  for (let i = 0; i < src.length; i++) {
    const a = Math.abs(src[i]);
    if (a > m) m = a;
    else if (a !== a) return NaN;
  }
  return m;
}

const pow2 = (e: number): number => 2 ** e;

/**
 * The largest integer e with `maxAbs · 2^e · maxTerms ≤ 2^46`: the finest fixed-point scale at which
 * `maxTerms` terms of magnitude at most `maxAbs` still sum exactly. For `maxAbs = 0` (all terms zero)
 * any e is exact and 0 is returned.
 *
 * @throws NonFiniteError when `maxAbs` is NaN or infinite.
 * @throws RangeError when `maxAbs` is negative or `maxTerms` is not an integer in [1, 2^46].
 */
export function chooseExponent(maxAbs: number, maxTerms: number): number {
  if (!Number.isFinite(maxAbs)) throw new NonFiniteError(-1, maxAbs, 'the gradient bound maxAbs');
  if (maxAbs < 0) throw new RangeError(`chooseExponent: maxAbs must be ≥ 0, got ${maxAbs}`);
  if (!Number.isInteger(maxTerms) || maxTerms < 1 || maxTerms > FIXED_BUDGET) {
    throw new RangeError(`chooseExponent: maxTerms must be an integer in [1, 2^46], got ${maxTerms}`);
  }
  if (maxAbs === 0) return 0;
  // maxAbs · 2^e is exact (a power-of-two scaling); the product with maxTerms rounds at most once.
  const fits = (e: number) => maxAbs * pow2(e) * maxTerms <= FIXED_BUDGET;
  let e = Math.floor(Math.log2(FIXED_BUDGET) - Math.log2(maxAbs) - Math.log2(maxTerms));
  while (!fits(e)) e--;
  while (fits(e + 1)) e++;
  return e;
}

function checkExponent(e: number): void {
  if (!Number.isInteger(e) || e < -1000 || e > 1000) throw new RangeError(`fixed-point exponent must be an integer in [-1000, 1000], got ${e}`);
}

/**
 * Converts `src` to fixed point at exponent `e` into `dst`: `dst[i] = round(src[i] · 2^e)`, or with
 * `accumulate`, `dst[i] += round(src[i] · 2^e)`. Rounding is `Math.round` (halves toward +∞); −0 is
 * stored as 0.
 *
 * @throws NonFiniteError at the first NaN or infinite element of `src`.
 * @throws FixedPointOverflowError when a value or sum would leave ±(2^47 − 1); `dst` is then partly written.
 * @throws RangeError when the lengths differ or `e` is not an integer in [−1000, 1000].
 */
export function toFixed(src: Float32Array | Float64Array, e: number, dst: Float64Array, accumulate: boolean): void {
  checkExponent(e);
  if (src.length !== dst.length) throw new RangeError(`toFixed: src has ${src.length} elements, dst ${dst.length}`);
  const scale = pow2(e);
  for (let i = 0; i < src.length; i++) {
    const g = src[i];
    if (!Number.isFinite(g)) throw new NonFiniteError(i, g, 'a gradient');
    const q = Math.round(g * scale) + 0;
    const v = accumulate ? dst[i] + q : q;
    if (!(Math.abs(v) <= FIXED_MAX)) {
      throw new FixedPointOverflowError(i, v, accumulate ? `${dst[i]} + ${q} leaves ${RANGE}` : `${g} · 2^${e} = ${q} leaves ${RANGE}`);
    }
    dst[i] = v;
  }
}

/**
 * Adds fixed-point `src` into `dst` element-wise for a collective: a sum beyond ±(2^47 − 1) (or a NaN
 * already in either) stores NaN, which then propagates through every later addition, so all ranks
 * receive the same marked element and {@link fromFixed} reports it. Returns true when no element overflowed.
 */
export function addFixedInto(dst: Float64Array, src: Float64Array): boolean {
  let ok = true;
  const n = dst.length;
  for (let i = 0; i < n; i++) {
    const v = dst[i] + src[i];
    if (Math.abs(v) <= FIXED_MAX) dst[i] = v;
    else {
      dst[i] = NaN;
      ok = false;
    }
  }
  return ok;
}

/**
 * Converts a fixed-point sum back: `dst[i] = sum[i] · 2^−e · scale` (e.g. `scale = 1/B` for a mean),
 * rounded once more to float32 when `dst` is a Float32Array.
 *
 * @throws FixedPointOverflowError at the first element that is NaN (marked by {@link addFixedInto})
 *   or beyond ±(2^47 − 1).
 * @throws RangeError when the lengths differ, `e` is out of range or `scale` is not finite.
 */
export function fromFixed(sum: Float64Array, e: number, scale: number, dst: Float32Array | Float64Array): void {
  if (fromFixedMarked(sum, e, scale, dst)) return;
  const i = sum.findIndex((s) => !(Math.abs(s) <= FIXED_MAX));
  const s = sum[i];
  throw new FixedPointOverflowError(i, s, Number.isNaN(s) ? 'a partial sum overflowed during the reduction' : `${s} leaves ${RANGE}`);
}

/**
 * {@link fromFixed} for one rank's share of a collective (`Ring.allReduceFixedTo`): the same values, but an
 * element the reduction marked NaN (or one beyond ±(2^47 − 1)) becomes NaN in `dst` instead of throwing, so that
 * the mark travels on to every rank. Returns true when no element was marked.
 */
export function fromFixedMarked(sum: Float64Array, e: number, scale: number, dst: Float32Array | Float64Array): boolean {
  checkExponent(e);
  if (sum.length !== dst.length) throw new RangeError(`fromFixed: sum has ${sum.length} elements, dst ${dst.length}`);
  if (!Number.isFinite(scale)) throw new RangeError(`fromFixed: scale must be finite, got ${scale}`);
  const inv = pow2(-e);
  let ok = true;
  for (let i = 0; i < sum.length; i++) {
    const s = sum[i];
    if (Math.abs(s) <= FIXED_MAX) dst[i] = s * inv * scale;
    else {
      dst[i] = NaN;
      ok = false;
    }
  }
  return ok;
}

// ------------------------------------------------------------------ on the wire

/** Bytes a fixed-point value takes on the wire: a 48-bit two's complement integer, little-endian. */
export const PACKED_BYTES = 6;

const TWO24 = 2 ** 24;
const TWO48 = 2 ** 48;
/** The high 24 bits of the pattern −2^47 (low bits 0), outside the range: an element marked overflowed. */
const MARK_HI = 0x800000;

function checkPacked(values: number, bytes: number, what: string): void {
  if (bytes !== values * PACKED_BYTES) throw new RangeError(`${what}: ${values} values need ${values * PACKED_BYTES} packed bytes, got ${bytes}`);
}

/**
 * Packs fixed-point `src` into `dst`, 6 bytes a value ({@link PACKED_BYTES}). A NaN (an overflow mark) or a value
 * beyond ±(2^47 − 1) becomes the mark −2^47, which {@link unpackFixed} and {@link addPackedInto} read as NaN.
 * Lossless for every value in range.
 */
export function packFixed(src: Float64Array, dst: Uint8Array): void {
  checkPacked(src.length, dst.length, 'packFixed');
  for (let i = 0, o = 0; i < src.length; i++, o += PACKED_BYTES) {
    const v = src[i];
    // two's complement: a negative v as v + 2^48, an integer below 2^48 and so exact in float64
    const u = Math.abs(v) <= FIXED_MAX ? (v < 0 ? v + TWO48 : v) : MARK_HI * TWO24;
    const lo = u % TWO24;
    const hi = (u - lo) / TWO24;
    dst[o] = lo & 0xff;
    dst[o + 1] = (lo >>> 8) & 0xff;
    dst[o + 2] = lo >>> 16;
    dst[o + 3] = hi & 0xff;
    dst[o + 4] = (hi >>> 8) & 0xff;
    dst[o + 5] = hi >>> 16;
  }
}

/** The value packed at byte `o` of `src`: NaN for the mark. */
function packedAt(src: Uint8Array, o: number): number {
  const lo = src[o] | (src[o + 1] << 8) | (src[o + 2] << 16);
  const hi = src[o + 3] | (src[o + 4] << 8) | (src[o + 5] << 16);
  if (hi < MARK_HI) return hi * TWO24 + lo;
  if (hi === MARK_HI && lo === 0) return NaN;
  return (hi - TWO24) * TWO24 + lo;
}

/** Unpacks {@link packFixed}'s bytes into `dst` (the mark as NaN). */
export function unpackFixed(src: Uint8Array, dst: Float64Array): void {
  checkPacked(dst.length, src.length, 'unpackFixed');
  for (let i = 0, o = 0; i < dst.length; i++, o += PACKED_BYTES) dst[i] = packedAt(src, o);
}

/**
 * {@link addFixedInto} with `src` packed: `dst[i] += value i of src`, a sum beyond ±(2^47 − 1) or a mark stores
 * NaN. Returns true when no element overflowed.
 */
export function addPackedInto(dst: Float64Array, src: Uint8Array): boolean {
  checkPacked(dst.length, src.length, 'addPackedInto');
  let ok = true;
  for (let i = 0, o = 0; i < dst.length; i++, o += PACKED_BYTES) {
    const v = dst[i] + packedAt(src, o);
    if (Math.abs(v) <= FIXED_MAX) dst[i] = v;
    else {
      dst[i] = NaN;
      ok = false;
    }
  }
  return ok;
}
