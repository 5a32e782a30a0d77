import { expect } from 'chai';
import { registerCombineAccelerator, type CombineAccelerator, type CombineAcceleratorProvider } from '../src/index.ts';
import { kernelFor, packedWire } from '../src/reduce.ts';

describe('ring sums: a registered accelerator', () => {
  /** Runs f with `p` registered (undefined: none), then puts back what was registered before. */
  function withProvider<T>(p: CombineAcceleratorProvider | undefined, f: () => T): T {
    const previous = registerCombineAccelerator(p);
    try {
      return f();
    } finally {
      registerCombineAccelerator(previous);
    }
  }

  it('takes the long chunks of every sum (not MAX), the short ones stay in JavaScript, and the provider is asked once', () => {
    const calls: string[] = [];
    let asked = 0;
    const spy: CombineAccelerator = {
      sumF32: () => void calls.push('f32'),
      sumF64: () => void calls.push('f64'),
      packFixed: () => void calls.push('pack'),
      unpackFixed: () => void calls.push('unpack'),
      addPacked: () => (calls.push('addPacked'), true),
    };
    withProvider(() => (asked++, spy), () => {
      const long = 4096;
      kernelFor('sum', 'f32')(new Float32Array(long), new Float32Array(long));
      kernelFor('sum', 'f64')(new Float64Array(long), new Float64Array(long));
      kernelFor('max', 'f64')(new Float64Array(long), new Float64Array(long));
      packedWire.pack(new Float64Array(long), new Uint8Array(6 * long));
      packedWire.unpack(new Uint8Array(6 * long), new Float64Array(long));
      packedWire.add(new Float64Array(long), new Uint8Array(6 * long));
      const short = Float32Array.of(1, 2);
      kernelFor('sum', 'f32')(short, Float32Array.of(3, 4));
      expect(Array.from(short)).to.deep.equal([4, 6]);
      const bytes = new Uint8Array(12);
      packedWire.pack(Float64Array.of(-3, 5), bytes);
      const back = Float64Array.of(1, 1);
      packedWire.add(back, bytes);
      expect(Array.from(back)).to.deep.equal([-2, 6]);
    });
    expect(calls).to.deep.equal(['f32', 'f64', 'pack', 'unpack', 'addPacked']);
    expect(asked).to.equal(1);
  });

  it('without one (the provider has none) the JavaScript sums, overflow marks included', () => {
    withProvider(() => undefined, () => {
      const dst = new Float64Array(5000).fill(2 ** 46);
      const bytes = new Uint8Array(5000 * 6);
      packedWire.pack(new Float64Array(5000).fill(2 ** 46), bytes);
      packedWire.add(dst, bytes);
      expect(Number.isNaN(dst[0]) && Number.isNaN(dst[4999])).to.equal(true);
    });
  });
});
