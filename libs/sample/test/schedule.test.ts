import { expect } from 'chai';
import { WorkerGoneError } from '../src/index.ts';
import { planChunks, type Chunk } from '../src/plan.ts';
import { runChunks, type ChunkWorker } from '../src/schedule.ts';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** y of a chunk: each row holds its global index (width 1), so the written order can be checked exactly. */
const rowsOf = (c: Chunk) => Float32Array.from({ length: c.count }, (_, i) => c.first + i);

/** A fake worker: takes `ms(chunk)` per chunk; `fail(chunk, n)` may throw on its n-th chunk. */
function fakeWorker(name: string, ms: (c: Chunk) => number, log: string[], fail?: (c: Chunk, n: number) => Error | undefined): ChunkWorker {
  let n = 0;
  return {
    name,
    async run(c, x) {
      expect(x.length).to.equal(c.count);
      log.push(`${name}:${c.index}`);
      await delay(ms(c));
      const e = fail?.(c, n++);
      if (e) throw e;
      return rowsOf(c);
    },
  };
}

/** Runs a plan and returns the rows in the order written, and the most chunks ever held at once. */
async function run(chunks: Chunk[], workers: ChunkWorker[], window: number) {
  const written: number[] = [];
  let outstanding = 0;
  let most = 0;
  let nextWrite = 0;
  await runChunks(chunks, workers, {
    window,
    contexts: (c) => {
      outstanding++;
      most = Math.max(most, outstanding);
      return new Float32Array(c.count);
    },
    write: (c, y) => {
      expect(c.index).to.equal(nextWrite++);
      written.push(...y);
      outstanding--;
    },
  });
  return { written, most };
}

describe('runChunks', () => {
  it('writes in plan order although workers finish out of order', async () => {
    const chunks = planChunks(0, 200, 10, 10);
    const log: string[] = [];
    // worker a is slow on even chunks, b is fast: results arrive out of order
    const a = fakeWorker('a', (c) => (c.index % 2 === 0 ? 15 : 1), log);
    const b = fakeWorker('b', () => 2, log);
    const { written } = await run(chunks, [a, b], 6);
    expect(written).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
    expect(new Set(log.map((l) => l[0]))).to.deep.equal(new Set(['a', 'b']));
  });

  it('never holds more than the window of chunks, however far a fast worker could run ahead', async () => {
    const chunks = planChunks(0, 300, 10, 10);
    // a is stuck on chunk 0 for a long time; b and c would otherwise draw everything else meanwhile
    const slow = fakeWorker('a', (c) => (c.index === 0 ? 80 : 1), []);
    const fast = [fakeWorker('b', () => 1, []), fakeWorker('c', () => 1, [])];
    for (const window of [1, 3, 5]) {
      const { written, most } = await run(chunks, [slow, ...fast], window);
      expect(written).to.have.length(300);
      expect(most, `window ${window}`).to.equal(window);
    }
  });

  it('hands a lost worker\'s chunk to another and still writes every row once, in order', async () => {
    const chunks = planChunks(0, 100, 10, 10);
    const log: string[] = [];
    const dying = fakeWorker('a', () => 3, log, (_c, n) => (n === 2 ? new WorkerGoneError('killed') : undefined));
    const requeued: number[] = [];
    const written: number[] = [];
    await runChunks(chunks, [dying, fakeWorker('b', () => 2, log)], {
      window: 4,
      contexts: (c) => new Float32Array(c.count),
      write: (_c, y) => written.push(...y),
      onRequeue: (c) => requeued.push(c.index),
    });
    expect(written).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
    expect(requeued).to.have.length(1);
    // the lost chunk was drawn again, by b
    expect(log.filter((l) => l === `b:${requeued[0]}`)).to.have.length(1);
    expect(log.filter((l) => l.startsWith('a:'))).to.have.length(3);
  });

  it('fails when every worker is lost', async () => {
    const gone = (name: string) => fakeWorker(name, () => 1, [], (_c, n) => (n === 1 ? new WorkerGoneError(`${name} died`) : undefined));
    const p = run(planChunks(0, 100, 10, 10), [gone('a'), gone('b')], 4);
    await p.then(
      () => expect.fail('should have failed'),
      (e: Error) => expect(e.message).to.match(/every worker was lost, \d+ chunk\(s\) still to draw/),
    );
  });

  it('ends the job at the first error that is not a lost worker, without waiting for chunks in flight', async () => {
    const broken = fakeWorker('a', () => 1, [], () => new Error('bad contexts'));
    const stuck = fakeWorker('b', () => 10_000, []);
    const t0 = Date.now();
    await run(planChunks(0, 100, 10, 10), [broken, stuck], 4).then(
      () => expect.fail('should have failed'),
      (e: Error) => expect(e.message).to.equal('bad contexts'),
    );
    expect(Date.now() - t0).to.be.below(2000);
  });
});
