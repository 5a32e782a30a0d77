import { expect } from 'chai';
import { Stream, permutation } from '@nbm/random';
import { trainValSplit } from '../src/split.ts';

describe('trainValSplit', () => {
  it('takes the first count − valCount entries of the split permutation for training, the rest for validation', () => {
    const perm = permutation(100, { seed: 4, stream: Stream.split }, 0);
    const { train, val } = trainValSplit(100, 15, 4);
    expect(Array.from(train)).to.deep.equal(Array.from(perm.subarray(0, 85)));
    expect(Array.from(val)).to.deep.equal(Array.from(perm.subarray(85)));
  });

  it('is a pure function of (count, valCount, seed)', () => {
    expect(Array.from(trainValSplit(60_000, 5_000, 1).val)).to.deep.equal(Array.from(trainValSplit(60_000, 5_000, 1).val));
    expect(Array.from(trainValSplit(60_000, 5_000, 1).val)).to.not.deep.equal(Array.from(trainValSplit(60_000, 5_000, 2).val));
  });

  it('allows empty parts and refuses impossible sizes', () => {
    expect(trainValSplit(10, 0, 1).val.length).to.equal(0);
    expect(trainValSplit(10, 10, 1).train.length).to.equal(0);
    expect(() => trainValSplit(10, 11, 1)).to.throw(RangeError, /validation size must be an integer in \[0, 10\], got 11/);
    expect(() => trainValSplit(10, 2, -1)).to.throw(RangeError, /seed/);
  });
});
