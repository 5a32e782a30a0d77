import { expect } from 'chai';
import { fillBits, fillNormal, fillUniform, type RandomKey } from '@nbm/random';
import { kernelOrSkip } from './helpers.ts';

/** Distance in float32 ulps (same sign assumed; the test only compares close values). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0] - i[1]);
}

const KEYS: RandomKey[] = [
  { seed: 1, stream: 6 },
  { seed: 0, stream: 0 },
  { seed: 0xffffffff, stream: 7 },
  { seed: 123456789, stream: 11 },
];
const COUNTERS: [number, number, number][] = [
  [0, 0, 0],
  [17, 5, 31],
  [0xffffffff, 0xfffffffe, 0x7fffffff],
];
// lengths around the kernel's 64-value blocks and 4-lane Philox words
const LENGTHS = [1, 2, 3, 4, 5, 63, 64, 65, 127, 128, 129, 784];

describe('native Philox draws vs @nbm/random', () => {
  for (const kind of ['bits', 'uniform'] as const) {
    it(`${kind}: bit for bit on every tier, key, counter and length`, function () {
      const kernel = kernelOrSkip(this);
      for (const tier of kernel.tiers) {
        const kt = kernel.withTier(tier);
        for (const key of KEYS)
          for (const [a, b, c] of COUNTERS)
            for (const n of LENGTHS) {
              if (kind === 'bits') {
                const ref = new Uint32Array(n);
                fillBits(ref, key, a, b, c);
                expect(Array.from(kt.philoxBits(key, a, b, c, n)), `${tier} ${JSON.stringify(key)} ${a},${b},${c} n=${n}`).to.deep.equal(Array.from(ref));
              } else {
                const ref = new Float32Array(n);
                fillUniform(ref, key, a, b, c);
                expect(Array.from(kt.uniforms(key, a, b, c, n)), `${tier} n=${n}`).to.deep.equal(Array.from(ref));
              }
            }
      }
    });
  }

  it('normals: equal to @nbm/random within 1 float32 ulp (and almost always bit for bit) on every tier', function () {
    // The kernel's Box–Muller uses its own double-precision log/sin/cos (a few double ulps from V8's), so a
    // result may round to the neighbouring float32 where the exact value sits within ~1e-16 of a rounding
    // boundary: expected about once in 10^8 values. 200k values here: any difference is a 1-ulp tie.
    const kernel = kernelOrSkip(this);
    for (const tier of kernel.tiers) {
      const kt = kernel.withTier(tier);
      let total = 0;
      let differing = 0;
      for (let a = 0; a < 64; a++) {
        const key = { seed: 1 + a * 7919, stream: 7 };
        const n = a < 60 ? 3136 : 3 + a;
        const ref = new Float32Array(n);
        fillNormal(ref, key, a, 1000 + a, a % 5);
        const got = kt.normals(key, a, 1000 + a, a % 5, n);
        for (let i = 0; i < n; i++) {
          total++;
          if (got[i] !== ref[i]) {
            differing++;
            expect(ulps(got[i], ref[i]), `${tier} value ${i} of counter ${a}`).to.be.at.most(1);
          }
        }
      }
      expect(total).to.be.greaterThan(180_000);
      expect(differing, `${tier}: values differing by 1 ulp`).to.be.at.most(2);
    }
  });

  it('normals: the first values of 4000 counters match, tails included', function () {
    // many short draws: θ = 2πv takes values near 0, π/2, π and 3π/2 (where cos or sin is tiny and the
    // kernel's argument reduction matters), and |n| reaches past 3.5 (u near 0, where log matters).
    const kernel = kernelOrSkip(this);
    let maxAbs = 0;
    for (let b = 0; b < 4000; b++) {
      const ref = new Float32Array(4);
      fillNormal(ref, { seed: 9, stream: 3 }, 0, b, 0);
      const got = kernel.normals({ seed: 9, stream: 3 }, 0, b, 0, 4);
      for (let i = 0; i < 4; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
        if (got[i] !== ref[i]) expect(ulps(got[i], ref[i])).to.be.at.most(1);
      }
    }
    expect(maxAbs).to.be.greaterThan(3.5);
  });

  it('rejects a counter that is not a u32', function () {
    const kernel = kernelOrSkip(this);
    expect(() => kernel.uniforms({ seed: 1, stream: 2 }, -1, 0, 0, 4)).to.throw(RangeError, /a must be an integer in \[0, 4294967295\]/);
    expect(() => kernel.normals({ seed: 2 ** 32, stream: 2 }, 0, 0, 0, 4)).to.throw(RangeError, /seed/);
  });
});
