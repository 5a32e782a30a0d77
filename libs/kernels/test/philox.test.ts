import { expect } from 'chai';
import { fillBits, fillNormal, fillUniform, openUnitFromBits, unitFromBits, type RandomKey } from '@nbm/random';
import { javascriptFills, kernelOrSkip } from './helpers.ts';

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
                javascriptFills(() => fillUniform(ref, key, a, b, c));
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
        javascriptFills(() => fillNormal(ref, key, a, 1000 + a, a % 5));
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
      javascriptFills(() => fillNormal(ref, { seed: 9, stream: 3 }, 0, b, 0));
      const got = kernel.normals({ seed: 9, stream: 3 }, 0, b, 0, 4);
      for (let i = 0; i < 4; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
        if (got[i] !== ref[i]) expect(ulps(got[i], ref[i])).to.be.at.most(1);
      }
    }
    expect(maxAbs).to.be.greaterThan(3.5);
  });

  it('fills through the kernel (as @nbm/random\'s accelerator) give the JavaScript\'s bits exactly', function () {
    kernelOrSkip(this);
    // 1M normals: about 20 of them lie near a float32 boundary, where the kernel's value is replaced by the
    // JavaScript's (a 1-ulp difference there is expected about once in 10^8 values without it)
    let values = 0;
    for (let r = 0; r < 2000; r++) {
      const n = LENGTHS[r % LENGTHS.length] < 64 ? 784 : LENGTHS[r % LENGTHS.length];
      const key = { seed: (r * 2654435761) >>> 0, stream: 4 };
      const [a, b, c] = [r, (r * 7919) >>> 0, r % 3 === 0 ? 0xffffffff : r % 32];
      for (const fill of [fillNormal, fillUniform]) {
        const want = new Float32Array(n);
        javascriptFills(() => fill(want, key, a, b, c));
        const got = new Float32Array(n);
        fill(got, key, a, b, c);
        expect(Array.from(got), `${fill.name} ${r}`).to.deep.equal(Array.from(want));
      }
      values += n;
    }
    expect(values).to.be.greaterThan(1_000_000);
  });

  it('lists every normal near a float32 rounding boundary, about 1 in 2^15.5 of them, on every tier', function () {
    const kernel = kernelOrSkip(this);
    // Box–Muller in float64 as @nbm/random computes it; a value within 2^-41 of its magnitude of a rounding
    // boundary must be listed (the kernel lists those within 2^-40 of its own value, a few double ulps away).
    // The listed fraction is 2^-16 · E[mantissa of |n|] ≈ 2.2e-5: about 35 of 1.57M (Poisson: 10 to 70 is ±4σ).
    const n = 784;
    const bits = new Uint32Array(n);
    for (const tier of kernel.tiers) {
      const kt = kernel.withTier(tier);
      let listed = 0;
      for (let r = 0; r < 2000; r++) {
        const key = { seed: 11, stream: 4 };
        const ties = new Set(kt.fillNormal(new Float32Array(n), key, r, 3 * r, 0) ?? []);
        listed += ties.size;
        fillBits(bits, key, r, 3 * r, 0);
        for (let i = 0; i < n; i += 2) {
          const rad = Math.sqrt(-2 * Math.log(openUnitFromBits(bits[i])));
          const theta = 2 * Math.PI * unitFromBits(bits[i + 1]);
          for (const [j, d] of [[i, rad * Math.cos(theta)], [i + 1, rad * Math.sin(theta)]]) {
            const w = Math.abs(d) * 2 ** -41;
            if (Math.fround(d - w) !== Math.fround(d + w)) expect(ties.has(j), `${tier}: value ${j} of row ${r}`).to.equal(true);
          }
        }
      }
      expect(listed, tier).to.be.within(10, 70);
    }
  });

  it('rejects a counter that is not a u32', function () {
    const kernel = kernelOrSkip(this);
    expect(() => kernel.uniforms({ seed: 1, stream: 2 }, -1, 0, 0, 4)).to.throw(RangeError, /a must be an integer in \[0, 4294967295\]/);
    expect(() => kernel.normals({ seed: 2 ** 32, stream: 2 }, 0, 0, 0, 4)).to.throw(RangeError, /seed/);
  });
});
