import { expect } from 'chai';
import { SampleError } from '../src/index.ts';
import { checkSizes, planChunks, type Chunk } from '../src/plan.ts';

/** Every row of [from, total) in exactly one chunk, chunks in order and indexed by position. */
function expectCover(chunks: Chunk[], from: number, total: number): void {
  let next = from;
  chunks.forEach((c, i) => {
    expect(c.index).to.equal(i);
    expect(c.first).to.equal(next);
    expect(c.count).to.be.above(0);
    next += c.count;
  });
  expect(next).to.equal(total);
}

describe('planChunks', () => {
  it('cuts a fresh job at multiples of the chunk size, the last chunk short', () => {
    const chunks = planChunks(0, 1050, 200, 50);
    expect(chunks.map((c) => [c.first, c.count])).to.deep.equal([[0, 200], [200, 200], [400, 200], [600, 200], [800, 200], [1000, 50]]);
  });

  it('resumes at the block holding the first missing row, then falls back onto the chunk grid', () => {
    // rows 0..236 are written: row 237 lies in block [200, 250)
    const chunks = planChunks(237, 1050, 200, 50);
    expect(chunks.map((c) => [c.first, c.count])).to.deep.equal([[200, 200], [400, 200], [600, 200], [800, 200], [1000, 50]]);
    const mid = planChunks(260, 1050, 200, 50);
    expect(mid[0]).to.deep.equal({ index: 0, first: 250, count: 150 });
    expect(mid[1].first).to.equal(400);
  });

  it('covers every row exactly once for many sizes, and every chunk starts a block', () => {
    for (const [total, chunk, block] of [[1, 1, 1], [7, 3, 1], [1000, 100, 10], [999, 120, 40], [5, 1000, 50]]) {
      for (const done of [0, 1, Math.floor(total / 2), total - 1]) {
        const chunks = planChunks(done, total, chunk, block);
        const from = Math.floor(done / block) * block;
        expectCover(chunks, from, total);
        for (const c of chunks) expect(c.first % block, `${total}/${chunk}/${block}`).to.equal(0);
        // every chunk lies inside one cell of the chunk grid: the same blocks as a fresh plan computes
        for (const c of chunks) expect(Math.floor(c.first / chunk)).to.equal(Math.floor((c.first + c.count - 1) / chunk));
      }
    }
  });

  it('has nothing left to do when every row is written', () => {
    expect(planChunks(1000, 1000, 100, 50)).to.deep.equal([]);
  });

  it('refuses sizes that do not fit together, naming the flag', () => {
    expect(() => checkSizes(100, 75, 50)).to.throw(SampleError, /--chunk 75 must be a whole number of blocks of --block-size 50/);
    expect(() => checkSizes(100, 0, 50)).to.throw(SampleError, /--chunk must be a positive integer/);
    expect(() => checkSizes(100, 100, 0)).to.throw(SampleError, /--block-size must be a positive integer/);
    expect(() => checkSizes(0, 100, 50)).to.throw(SampleError, /nothing to draw/);
    expect(() => checkSizes(2 ** 32 + 1, 100, 50)).to.throw(SampleError, /2\^32/);
  });
});
