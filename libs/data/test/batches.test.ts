import { expect } from 'chai';
import { Stream, permutation } from '@nbm/random';
import { batchRows, batchesPerEpoch, epochOrder } from '../src/index.ts';

describe('batching', () => {
  it('epochOrder is permutation(count, {seed, stream: Stream.permutation}, epoch)', () => {
    const order = epochOrder(1000, 1, 3);
    expect(Array.from(order)).to.deep.equal(Array.from(permutation(1000, { seed: 1, stream: Stream.permutation }, 3)));
    expect(Array.from(order).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(epochOrder(1000, 1, 4))).to.not.deep.equal(Array.from(order));
    expect(Array.from(epochOrder(1000, 2, 3))).to.not.deep.equal(Array.from(order));
    // not the split's stream: the epoch-0 order is not the split permutation
    expect(Array.from(epochOrder(1000, 1, 0))).to.not.deep.equal(Array.from(permutation(1000, { seed: 1, stream: Stream.split }, 0)));
  });

  it('counts batches like PyTorch DataLoader with and without drop_last', () => {
    expect(batchesPerEpoch(55_000, 128)).to.equal(430);
    expect(batchesPerEpoch(55_000, 128, true)).to.equal(429);
    expect(batchesPerEpoch(1280, 128)).to.equal(10);
    expect(batchesPerEpoch(1280, 128, true)).to.equal(10);
    expect(batchesPerEpoch(0, 128)).to.equal(0);
    expect(batchesPerEpoch(5, 128, true)).to.equal(0);
    expect(() => batchesPerEpoch(10, 0)).to.throw(RangeError, /batch size must be a positive integer/);
  });

  it('batchRows cuts consecutive slices, the last one short, covering the order exactly once', () => {
    const order = epochOrder(1000, 1, 0);
    const n = batchesPerEpoch(1000, 128);
    const seen: number[] = [];
    for (let b = 0; b < n; b++) {
      const rows = batchRows(order, b, 128);
      expect(rows.length).to.equal(b < n - 1 ? 128 : 1000 - 7 * 128);
      seen.push(...rows);
    }
    expect(seen).to.deep.equal(Array.from(order));
    expect(() => batchRows(order, n, 128)).to.throw(RangeError, /batch index 8 is out of range: 1000 rows make 8 batches of 128/);
    expect(() => batchRows(order, -1, 128)).to.throw(RangeError);
  });

  it('refuses bad counts, seeds and epochs', () => {
    expect(() => epochOrder(-1, 1, 0)).to.throw(RangeError, /count/);
    expect(() => epochOrder(10, 1.5, 0)).to.throw(RangeError, /seed/);
    expect(() => epochOrder(10, 1, -2)).to.throw(RangeError, /epoch must be a u32/);
  });
});
