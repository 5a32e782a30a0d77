import { expect } from 'chai';
import { philox4x32, fillNormal, fillUniform, permutation, registerFillAccelerator, Stream, type FillAccelerator, type FillAcceleratorProvider } from '../src/index.ts';

const hex = (a: Uint32Array) => Array.from(a, (v) => v.toString(16).padStart(8, '0')).join(' ');

describe('philox4x32-10', () => {
  // Known-answer vectors published with Random123 (kat_vectors, philox4x32 10 rounds).
  const kat: Array<[number[], number[], string]> = [
    [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ];
  for (const [c, k, want] of kat) {
    it(`matches the known answer for counter ${c.map((v) => v.toString(16)).join(',')}`, () => {
      const out = new Uint32Array(4);
      philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
      expect(hex(out)).to.equal(want);
    });
  }
});

describe('keyed streams', () => {
  const key = { seed: 1, stream: Stream.visible };

  it('uniforms lie in [0,1) with mean 1/2 and variance 1/12', () => {
    const u = new Float32Array(200_000);
    fillUniform(u, key, 3, 4, 5);
    let s = 0, s2 = 0, min = 1, max = 0;
    for (const v of u) { s += v; s2 += v * v; min = Math.min(min, v); max = Math.max(max, v); }
    const mean = s / u.length;
    const variance = s2 / u.length - mean * mean;
    expect(min).to.be.at.least(0);
    expect(max).to.be.below(1);
    // SE of the mean is sqrt(1/12/n) ≈ 6.5e-4; 5 SE
    expect(Math.abs(mean - 0.5)).to.be.below(3.3e-3);
    expect(Math.abs(variance - 1 / 12)).to.be.below(2e-3);
  });

  it('normals have mean 0, variance 1 and the normal fourth moment', () => {
    const n = new Float32Array(200_001); // odd length: the last pair is half used
    fillNormal(n, key, 7, 8, 9);
    let s = 0, s2 = 0, s4 = 0;
    for (const v of n) { s += v; s2 += v * v; s4 += v ** 4; }
    const N = n.length;
    expect(Math.abs(s / N)).to.be.below(5 * Math.sqrt(1 / N));
    expect(Math.abs(s2 / N - 1)).to.be.below(5 * Math.sqrt(2 / N));
    expect(Math.abs(s4 / N - 3)).to.be.below(5 * Math.sqrt(96 / N));
  });

  it('a prefix draws the same numbers whatever the vector length', () => {
    const a = new Float32Array(10);
    const b = new Float32Array(7);
    fillNormal(a, key, 1, 2, 3);
    fillNormal(b, key, 1, 2, 3);
    expect(Array.from(a.subarray(0, 6))).to.deep.equal(Array.from(b.subarray(0, 6)));
  });

  it('different counters and streams give different numbers', () => {
    const a = new Float32Array(8), b = new Float32Array(8), c = new Float32Array(8);
    fillUniform(a, key, 1, 2, 3);
    fillUniform(b, key, 1, 2, 4);
    fillUniform(c, { seed: 1, stream: Stream.hidden }, 1, 2, 3);
    expect(Array.from(a)).to.not.deep.equal(Array.from(b));
    expect(Array.from(a)).to.not.deep.equal(Array.from(c));
  });

  it('permutations are permutations, reproducible and uniform over positions', () => {
    const p = permutation(1000, key, 0);
    expect(Array.from(p).sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(1000, key, 0))).to.deep.equal(Array.from(p));
    expect(Array.from(permutation(1000, key, 1))).to.not.deep.equal(Array.from(p));
    // where element 0 lands over 4000 epochs of n = 4: each position with probability 1/4
    const counts = [0, 0, 0, 0];
    for (let e = 0; e < 4000; e++) counts[permutation(4, key, e).indexOf(0)]++;
    // chi-square with 3 dof; 16.27 is the 0.999 quantile
    const chi2 = counts.reduce((acc, c) => acc + (c - 1000) ** 2 / 1000, 0);
    expect(chi2).to.be.below(16.27);
  });
});

describe('fill accelerators', () => {
  const key = { seed: 5, stream: Stream.dataTrain };
  /** Runs f with `p` registered (undefined: none), then puts back what was registered before. */
  function withProvider<T>(p: FillAcceleratorProvider | undefined, f: () => T): T {
    const previous = registerFillAccelerator(p);
    try {
      return f();
    } finally {
      registerFillAccelerator(previous);
    }
  }
  const reference = (n: number, fill: typeof fillNormal, a = 1, b = 2, c = 3) =>
    withProvider(undefined, () => {
      const out = new Float32Array(n);
      fill(out, key, a, b, c);
      return Array.from(out);
    });

  it('recomputes in JavaScript the normals an accelerator lists, and only asks it for long fills at u32 counters', () => {
    const calls: string[] = [];
    const listed = Uint32Array.of(0, 5, 64, 99);
    // a stand-in for a kernel: right everywhere but at the indices it lists, which it leaves wrong
    const sloppy: FillAccelerator = {
      uniform(out, k, a, b, c) {
        calls.push('uniform');
        withProvider(undefined, () => fillUniform(out, k, a, b, c));
      },
      normal(out, k, a, b, c) {
        calls.push('normal');
        withProvider(undefined, () => fillNormal(out, k, a, b, c));
        for (const i of listed) out[i] = NaN;
        return listed;
      },
    };
    const want = reference(100, fillNormal);
    withProvider(() => sloppy, () => {
      const got = new Float32Array(100);
      fillNormal(got, key, 1, 2, 3);
      expect(Array.from(got)).to.deep.equal(want);
      const u = new Float32Array(100);
      fillUniform(u, key, 1, 2, 3);
      expect(Array.from(u)).to.deep.equal(reference(100, fillUniform));
      expect(calls).to.deep.equal(['normal', 'uniform']);
      fillNormal(new Float32Array(63), key, 1, 2, 3); // short: the JavaScript
      fillNormal(new Float32Array(100), key, 2 ** 32, 2, 3); // not a u32 counter: the JavaScript's own rules
      expect(calls).to.have.length(2);
    });
  });

  it('asks the provider once, and uses the JavaScript when it has no accelerator', () => {
    let asked = 0;
    const want = reference(200, fillNormal);
    withProvider(() => (asked++, undefined), () => {
      for (let i = 0; i < 3; i++) {
        const got = new Float32Array(200);
        fillNormal(got, key, 1, 2, 3);
        expect(Array.from(got)).to.deep.equal(want);
      }
    });
    expect(asked).to.equal(1);
  });
});
