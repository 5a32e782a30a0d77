import { expect } from 'chai';
import fc from 'fast-check';
import { FixedPointOverflowError, NonFiniteError, chooseExponent, maxAbs, toFixed } from '../src/index.ts';
import { FIXED_MAX, PACKED_BYTES, addFixedInto, addPackedInto, fromFixed, packFixed, unpackFixed } from '../src/fixed-point.ts';

// ------------------------------------------------------------------ exact references in BigInt

/** A finite double as m · 2^p with integer m (exact). */
function decompose(x: number): { m: bigint; p: number } {
  if (x === 0) return { m: 0n, p: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) mant |= 1n << 52n;
  const p = (biased === 0 ? 1 : biased) - 1075;
  return { m: sign * mant, p };
}

const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** round(x · 2^e) with Math.round's rule (halves toward +∞), computed exactly. */
function exactScaledRound(x: number, e: number): bigint {
  const { m, p } = decompose(x);
  const shift = p + e;
  if (shift >= 0) return m << BigInt(shift);
  const d = 1n << BigInt(-shift);
  return floorDiv(2n * m + d, 2n * d); // floor(m/d + 1/2)
}

// ------------------------------------------------------------------ arbitraries

const f32 = (max: number) => fc.float({ min: Math.fround(-max), max: Math.fround(max), noNaN: true, noDefaultInfinity: true });
/** K terms of L float32 values each, magnitudes spread over many binades. */
const terms = fc
  .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: -30, max: 30 }))
  .chain(([k, l, binade]) =>
    fc.array(fc.array(f32(2 ** binade), { minLength: l, maxLength: l }).map((a) => Float32Array.from(a)), { minLength: k, maxLength: k }),
  );

function globalMax(ts: Float32Array[]): number {
  return ts.reduce((m, t) => Math.max(m, maxAbs(t)), 0);
}

function fixedSum(ts: Float32Array[], e: number, order: number[]): Float64Array {
  const acc = new Float64Array(ts[0].length);
  order.forEach((j, pos) => toFixed(ts[j], e, acc, pos > 0));
  return acc;
}

const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('fixed point: exact, order-independent sums', () => {
  it('gives bitwise identical sums under any permutation and grouping of the terms', () => {
    fc.assert(
      fc.property(
        terms.chain((ts) =>
          fc.tuple(
            fc.constant(ts),
            fc.shuffledSubarray([...ts.keys()], { minLength: ts.length, maxLength: ts.length }),
            fc.array(fc.integer({ min: 0, max: ts.length - 1 }), { minLength: ts.length, maxLength: ts.length }),
          ),
        ),
        ([ts, perm, groupOf]) => {
          const e = chooseExponent(globalMax(ts), ts.length);
          const inOrder = fixedSum(ts, e, [...ts.keys()]);
          const permuted = fixedSum(ts, e, perm);
          // grouping: partial sums per group (as ranks would hold), then partials combined as the ring does
          const groups = new Map<number, number[]>();
          perm.forEach((j) => groups.set(groupOf[j], [...(groups.get(groupOf[j]) ?? []), j]));
          const partials = [...groups.values()].map((members) => fixedSum(ts, e, members));
          const grouped = partials[partials.length - 1].slice();
          for (let g = partials.length - 2; g >= 0; g--) expect(addFixedInto(grouped, partials[g])).to.equal(true);
          expect(bytes(permuted)).to.equal(bytes(inOrder));
          expect(bytes(grouped)).to.equal(bytes(inOrder));
          const a = new Float32Array(inOrder.length);
          const b = new Float32Array(inOrder.length);
          fromFixed(inOrder, e, 1 / ts.length, a);
          fromFixed(grouped, e, 1 / ts.length, b);
          expect(bytes(a)).to.equal(bytes(b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('equals the exact BigInt sum of exactly rounded terms', () => {
    fc.assert(
      fc.property(terms, (ts) => {
        const e = chooseExponent(globalMax(ts), ts.length);
        const sum = fixedSum(ts, e, [...ts.keys()]);
        for (let i = 0; i < sum.length; i++) {
          let ref = 0n;
          for (const t of ts) ref += exactScaledRound(t[i], e);
          expect(BigInt(sum[i]), `element ${i}`).to.equal(ref);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is within K half-quanta of the exact real sum, a quantum being ≈ maxTerms · maxAbs · 2^-46', () => {
    fc.assert(
      fc.property(terms, (ts) => {
        const k = ts.length;
        const top = globalMax(ts);
        fc.pre(top > 0);
        const e = chooseExponent(top, k);
        // quantum 2^-e relative to the max term: between maxTerms·2^-46 and maxTerms·2^-45
        const rel = 2 ** -e / top;
        expect(rel).to.be.at.most(k * 2 ** -45);
        expect(rel).to.be.at.least(k * 2 ** -46);
        const sum = fixedSum(ts, e, [...ts.keys()]);
        const q = Math.max(149, e) + 1; // every float32 and every 2^-e-1 step is an integer at 2^-q
        for (let i = 0; i < sum.length; i++) {
          let exact = 0n;
          for (const t of ts) {
            const { m, p } = decompose(t[i]);
            exact += m << BigInt(p + q);
          }
          const got = BigInt(sum[i]) << BigInt(q - e);
          const err = got > exact ? got - exact : exact - got;
          expect(err <= BigInt(k) << BigInt(q - e - 1), `element ${i}`).to.equal(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('fixed point: chooseExponent', () => {
  it('picks the largest e with maxAbs · 2^e · maxTerms ≤ 2^46 (checked exactly)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-40, max: 1e38, noNaN: true }), fc.integer({ min: 1, max: 1 << 20 }), (m, k) => {
        const e = chooseExponent(m, k);
        const { m: mant, p } = decompose(m);
        const lhs = (shift: number) => {
          // mant · 2^(p+shift) · k compared with 2^46, in integers scaled by 2^1200
          return (mant * BigInt(k)) << BigInt(p + shift + 1200);
        };
        const budget = 1n << BigInt(46 + 1200);
        expect(lhs(e) <= budget).to.equal(true);
        expect(lhs(e + 1) > budget).to.equal(true);
      }),
      { numRuns: 500 },
    );
  });

  it('handles the edges: zero bound, non-finite bound, bad term counts', () => {
    expect(chooseExponent(0, 8)).to.equal(0);
    expect(chooseExponent(1, 1)).to.equal(46);
    expect(chooseExponent(1, 2)).to.equal(45);
    expect(chooseExponent(1, 3)).to.equal(44);
    expect(chooseExponent(0.75, 1)).to.equal(46);
    expect(() => chooseExponent(NaN, 2)).to.throw(NonFiniteError, /maxAbs is NaN/);
    expect(() => chooseExponent(Infinity, 2)).to.throw(NonFiniteError);
    expect(() => chooseExponent(-1, 2)).to.throw(RangeError);
    expect(() => chooseExponent(1, 0)).to.throw(RangeError, /maxTerms/);
    expect(() => chooseExponent(1, 1.5)).to.throw(RangeError);
  });

  it('maxAbs flags NaN and Infinity so a MAX reduction propagates them', () => {
    expect(maxAbs(new Float32Array([1, -3, 2]))).to.equal(3);
    expect(maxAbs(new Float32Array([]))).to.equal(0);
    expect(maxAbs(new Float32Array([1, NaN, Infinity]))).to.be.NaN;
    expect(maxAbs(new Float32Array([1, -Infinity, 2]))).to.equal(Infinity);
  });
});

describe('fixed point: errors instead of wrong sums', () => {
  it('refuses non-finite gradients, naming the element', () => {
    const dst = new Float64Array(3);
    expect(() => toFixed(new Float32Array([1, NaN, 2]), 10, dst, false)).to.throw(NonFiniteError, /element 1/);
    expect(() => toFixed(new Float32Array([1, 2, -Infinity]), 10, dst, false)).to.throw(NonFiniteError, /element 2/);
  });

  it('detects a term or a sum leaving ±(2^47 − 1), never rounding or wrapping', () => {
    const k = 4;
    const values = new Float32Array([0.5, -1, 1, 0.25]);
    const e = chooseExponent(1, k);
    const acc = new Float64Array(values.length);
    for (let j = 0; j < k; j++) toFixed(values, e, acc, j > 0); // within budget
    // e maximal ⇒ k terms of the max exceed 2^45, so 4k terms exceed 2^47
    let thrown: unknown;
    try {
      for (let j = 0; j < 3 * k; j++) toFixed(values, e, acc, true);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(FixedPointOverflowError);
    expect((thrown as FixedPointOverflowError).index).to.be.oneOf([1, 2]);
    expect(() => toFixed(new Float32Array([1]), 47, new Float64Array(1), false)).to.throw(FixedPointOverflowError, /leaves ±\(2\^47 − 1\)/);
    expect(() => toFixed(new Float32Array([3.4e38]), 1000, new Float64Array(1), false)).to.throw(FixedPointOverflowError);
  });

  it('accepts exactly 2^47 − 1 and refuses 2^47', () => {
    const acc = Float64Array.of(FIXED_MAX - 1);
    toFixed(Float32Array.of(1), 0, acc, true);
    expect(acc[0]).to.equal(FIXED_MAX);
    expect(() => toFixed(Float32Array.of(1), 0, acc, true)).to.throw(FixedPointOverflowError);
    expect(acc[0]).to.equal(FIXED_MAX); // not modified
  });

  it('marks an overflowing collective sum NaN, and fromFixed reports it', () => {
    const a = Float64Array.of(1, FIXED_MAX, -FIXED_MAX);
    expect(addFixedInto(a, Float64Array.of(2, 1, -1))).to.equal(false);
    expect(a[0]).to.equal(3);
    expect(a[1]).to.be.NaN;
    expect(a[2]).to.be.NaN;
    // NaN sticks through later additions, whatever they add
    addFixedInto(a, Float64Array.of(0, -5, 5));
    expect(a[1]).to.be.NaN;
    const out = new Float32Array(3);
    expect(() => fromFixed(a, 0, 1, out)).to.throw(FixedPointOverflowError, /element 1: a partial sum overflowed/);
  });

  it('refuses mismatched lengths and bad exponents', () => {
    expect(() => toFixed(new Float32Array(2), 0, new Float64Array(3), false)).to.throw(RangeError);
    expect(() => fromFixed(new Float64Array(2), 0, 1, new Float32Array(3))).to.throw(RangeError);
    expect(() => toFixed(new Float32Array(1), 0.5, new Float64Array(1), false)).to.throw(RangeError);
  });

  it('stores −0 as 0 so sums have one bit pattern', () => {
    const acc = new Float64Array(1);
    toFixed(Float32Array.of(-1e-30), 10, acc, false);
    expect(Object.is(acc[0], 0)).to.equal(true);
  });
});

describe('fixed point: the packed wire (6 bytes a value)', () => {
  const bytesOf = (v: number) => {
    const out = new Uint8Array(PACKED_BYTES);
    packFixed(Float64Array.of(v), out);
    return Array.from(out);
  };

  it('writes 48-bit two\'s complement, little-endian, with −2^47 as the overflow mark', () => {
    expect(bytesOf(0)).to.deep.equal([0, 0, 0, 0, 0, 0]);
    expect(bytesOf(1)).to.deep.equal([1, 0, 0, 0, 0, 0]);
    expect(bytesOf(-1)).to.deep.equal([255, 255, 255, 255, 255, 255]);
    expect(bytesOf(0x123456789abc)).to.deep.equal([0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12]);
    expect(bytesOf(FIXED_MAX)).to.deep.equal([255, 255, 255, 255, 255, 127]);
    expect(bytesOf(-FIXED_MAX)).to.deep.equal([1, 0, 0, 0, 0, 128]);
    const mark = [0, 0, 0, 0, 0, 128];
    for (const v of [NaN, FIXED_MAX + 1, -(FIXED_MAX + 1), 2 ** 60, Infinity]) expect(bytesOf(v), String(v)).to.deep.equal(mark);
  });

  it('round-trips every integer in range, and reads the mark as NaN', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -FIXED_MAX, max: FIXED_MAX }), { minLength: 1, maxLength: 64 }), (xs) => {
        const src = Float64Array.from(xs);
        const bytes = new Uint8Array(xs.length * PACKED_BYTES);
        packFixed(src, bytes);
        const back = new Float64Array(xs.length);
        unpackFixed(bytes, back);
        expect(Array.from(back)).to.deep.equal(Array.from(src, (v) => v + 0));
      }),
      { numRuns: 300 },
    );
    const bytes = new Uint8Array(2 * PACKED_BYTES);
    packFixed(Float64Array.of(NaN, -5), bytes);
    const back = new Float64Array(2);
    unpackFixed(bytes, back);
    expect(back[0]).to.be.NaN;
    expect(back[1]).to.equal(-5);
  });

  it('adds packed values as addFixedInto adds float64 ones, marks and overflow included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -FIXED_MAX, max: FIXED_MAX }), fc.integer({ min: -FIXED_MAX, max: FIXED_MAX })), { minLength: 1, maxLength: 64 }), (pairs) => {
        const a = Float64Array.from(pairs, (p) => p[0]);
        const b = Float64Array.from(pairs, (p) => p[1]);
        const viaFloat = a.slice();
        const okFloat = addFixedInto(viaFloat, b);
        const bytes = new Uint8Array(b.length * PACKED_BYTES);
        packFixed(b, bytes);
        const viaPacked = a.slice();
        expect(addPackedInto(viaPacked, bytes)).to.equal(okFloat);
        expect(Array.from(viaPacked)).to.deep.equal(Array.from(viaFloat));
      }),
      { numRuns: 300 },
    );
    const dst = Float64Array.of(1, FIXED_MAX, NaN, 3);
    const bytes = new Uint8Array(4 * PACKED_BYTES);
    packFixed(Float64Array.of(NaN, 1, 1, 4), bytes);
    expect(addPackedInto(dst, bytes)).to.equal(false);
    expect([Number.isNaN(dst[0]), Number.isNaN(dst[1]), Number.isNaN(dst[2]), dst[3]]).to.deep.equal([true, true, true, 7]);
  });

  it('refuses byte arrays of the wrong length', () => {
    expect(() => packFixed(new Float64Array(2), new Uint8Array(11))).to.throw(RangeError, /12 packed bytes/);
    expect(() => unpackFixed(new Uint8Array(6), new Float64Array(2))).to.throw(RangeError);
    expect(() => addPackedInto(new Float64Array(1), new Uint8Array(12))).to.throw(RangeError);
  });
});
