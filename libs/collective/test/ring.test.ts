import { expect } from 'chai';
import { Pull, Push, curveKeyPair } from 'zeromq';
import { encode } from '@nbm/protocol';
import { CollectiveAbortedError, CollectiveMismatchError, CollectiveProtocolError, CollectiveTimeoutError, CollectiveUsageError, Ring, collectReceivedFrames } from '../src/index.ts';
import { chunkRanges, segmentRange } from '../src/partition.ts';
import { finishRing, killAll, startRing, type RankEvent } from './helpers/ring-processes.ts';

/** Checks every rank's cases passed and that all ranks report the same case list and result hashes. */
/** How many cases the 'correctness' scenario reports (fixtures/ring-rank.ts): 9 per length and 3 more. */
const correctnessCases = (lengths: number) => lengths * 9 + 3;

function expectAgreement(perRank: RankEvent[][], expectedCases: number): void {
  const [first] = perRank;
  expect(first, 'cases reported by rank 0').to.have.length(expectedCases);
  for (const [rank, cases] of perRank.entries()) {
    for (const c of cases) expect(c.ok, `rank ${rank}, ${c.name}: ${c.problem}`).to.equal(true);
    expect(cases.map((c) => c.name), `rank ${rank} case list`).to.deep.equal(first.map((c) => c.name));
    for (const [i, c] of cases.entries()) expect(c.hash, `rank ${rank}, ${c.name}: result differs from rank 0`).to.equal(first[i].hash);
  }
}

describe('partition', () => {
  it('cuts any length into world segments that cover it exactly, sizes differing by at most one', () => {
    for (const world of [1, 2, 3, 5, 7]) {
      for (const length of [0, 1, world - 1, world, world + 1, 7, 1000, 604_384]) {
        let next = 0;
        const sizes: number[] = [];
        for (let s = 0; s < world; s++) {
          const { start, end } = segmentRange(length, world, s);
          expect(start).to.equal(next);
          sizes.push(end - start);
          next = end;
        }
        expect(next).to.equal(length);
        expect(Math.max(...sizes) - Math.min(...sizes)).to.be.at.most(1);
      }
    }
  });

  it('chunks a segment into pieces of at most chunkElems, none for an empty one', () => {
    expect(chunkRanges({ start: 5, end: 5 }, 4)).to.deep.equal([]);
    expect(chunkRanges({ start: 3, end: 12 }, 4)).to.deep.equal([{ start: 3, end: 7 }, { start: 7, end: 11 }, { start: 11, end: 12 }]);
  });
});

describe('ring: local checks', () => {
  it('refuses to bind a non-loopback address without CURVE keys, saying how to fix it', async () => {
    let err: unknown;
    try {
      await Ring.bind('tcp://0.0.0.0:*');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CollectiveUsageError);
    expect((err as Error).message).to.match(/without CURVE keys.*curveKeyPair/);
  });

  it('refuses misuse with CollectiveUsageError', async () => {
    const ring = await Ring.bind('tcp://127.0.0.1:*');
    try {
      const tag = { run: 'r', step: 0 };
      await expectRejects(ring.allReduce(new Float32Array(4), 'sum', { tag }), /not connected/);
      expect(() => ring.connect({ rank: 2, world: 2, right: ring.address })).to.throw(CollectiveUsageError, /rank/);
      ring.connect({ rank: 0, world: 1, right: ring.address });
      await expectRejects(ring.allReduce(new Float32Array(4), 'min' as 'sum', { tag }), /op must be/);
      await expectRejects(ring.allReduce(new Float32Array(4), 'sum', { tag, exact: true }), /Float64Array/);
      await expectRejects(ring.allReduce(new Int32Array(4) as unknown as Float32Array, 'sum', { tag }), /Int32Array/);
      await expectRejects(ring.allReduce(new Float32Array(4), 'sum', { tag: { run: '', step: 0 } }), /tag.run/);
      await expectRejects(ring.allReduce(new Float32Array(4), 'sum', { tag: { run: 'r', step: -1 } }), /tag.step/);
      await expectRejects(ring.allReduce(new Float32Array(4), 'sum', { tag, timeoutMs: 0 }), /timeoutMs/);
      await expectRejects(ring.broadcast(new Float32Array(4), 1, { tag }), /root/);
      // world 1: a no-op that leaves the data alone
      const buf = Float32Array.of(1, 2, 3);
      await ring.allReduce(buf, 'sum', { tag });
      expect(Array.from(buf)).to.deep.equal([1, 2, 3]);
      ring.close();
      await expectRejects(ring.allReduce(buf, 'sum', { tag }), /closed/);
    } finally {
      ring.close();
    }
  });
});

describe('received frames', () => {
  it('collectReceivedFrames frees the memory of received frames no one holds any more (minor collections, now)', async () => {
    const pull = new Pull();
    const push = new Push();
    await pull.bind('tcp://127.0.0.1:*');
    push.connect(pull.lastEndpoint!);
    const frames = 8;
    const bytes = 1 << 20;
    try {
      collectReceivedFrames();
      await new Promise((r) => setImmediate(r));
      const before = process.memoryUsage().external;
      for (let i = 0; i < frames; i++) {
        await push.send(Buffer.alloc(bytes, i));
        const [got] = await pull.receive();
        expect(got.length).to.equal(bytes);
      }
      const held = process.memoryUsage().external;
      expect(held - before, 'ZeroMQ reports the frames as external memory').to.be.at.least(frames * bytes);
      // the first collection finds the Buffers dead and queues their finalizers, the next one runs them: a
      // worker, collecting once a step, frees a step's frames by the start of the step after next
      expect(collectReceivedFrames()).to.equal(true);
      await new Promise((r) => setImmediate(r));
      collectReceivedFrames();
      expect(held - process.memoryUsage().external, 'freed by the collections').to.be.at.least(frames * bytes * 0.9);
    } finally {
      push.close();
      pull.close();
    }
  });
});

describe('ring: what a left neighbour sends is checked (the test plays rank 1 of 2)', () => {
  let ring: Ring;
  let left: Push;
  const tag = { run: 'run-a', step: 3 };
  const chunk = (over: Record<string, unknown> = {}, data: Float32Array = new Float32Array(2)) =>
    encode({ type: 'chunk', run: 'run-a', step: 3, seq: 0, phase: 'rs', k: 0, seg: 1, chunk: 0, from: 1, world: 2, op: 'sum', n: 4, tensors: { data }, ...over } as Parameters<typeof encode>[0]);

  beforeEach(async () => {
    ring = await Ring.bind('tcp://127.0.0.1:*', { chunkBytes: 1024 });
    ring.connect({ rank: 0, world: 2, right: 'tcp://127.0.0.1:9' }); // nobody listens: sends just queue
    left = new Push({ linger: 0 });
    left.connect(ring.address);
  });
  afterEach(() => {
    ring.close();
    left.close();
  });

  async function failure(frames: Buffer[], timeoutMs = 3000): Promise<Error> {
    await left.send(frames);
    try {
      await ring.allReduce(Float32Array.of(1, 2, 3, 4), 'sum', { tag, timeoutMs });
    } catch (err) {
      return err as Error;
    }
    throw new Error('allReduce resolved');
  }

  it('accepts the expected frame (control: the harness itself is right)', async () => {
    // rank 0 of 2 first receives rs k=0 of segment 1 from rank 1, then ag k=0 of segment 0
    await left.send(chunk({}, Float32Array.of(10, 20)));
    await left.send(chunk({ phase: 'ag', seg: 0 }, Float32Array.of(7, 8)));
    const buf = Float32Array.of(1, 2, 3, 4);
    await ring.allReduce(buf, 'sum', { tag, timeoutMs: 3000 });
    expect(Array.from(buf)).to.deep.equal([7, 8, 13, 24]);
  });

  const stale: Array<[string, Record<string, unknown>, RegExp]> = [
    ['another run', { run: 'run-b' }, /run is "run-b", expected "run-a"/],
    ['an earlier step', { step: 2 }, /step is 2, expected 3/],
    ['another call of the same step', { seq: 5 }, /seq is 5, expected 0/],
    ['another phase', { phase: 'ag' }, /phase is "ag", expected "rs"/],
    ['another segment', { seg: 0 }, /seg is 0, expected 1/],
    ['another sender', { from: 0 }, /from is 0, expected 1/],
    ['another world size', { world: 3, from: 1 }, /world is 3, expected 2/],
    ['another operator', { op: 'max' }, /op is "max", expected "sum"/],
    ['another buffer length', { n: 5 }, /n is 5, expected 4/],
  ];
  for (const [what, over, text] of stale) {
    it(`refuses a frame of ${what} instead of merging it`, async () => {
      const err = await failure(chunk(over));
      expect(err).to.be.instanceOf(CollectiveMismatchError);
      expect(err.message).to.match(text);
    });
  }

  it('refuses a payload of the wrong dtype or length', async () => {
    expect(await failure(encode({ type: 'chunk', run: 'run-a', step: 3, seq: 0, phase: 'rs', k: 0, seg: 1, chunk: 0, from: 1, world: 2, op: 'sum', n: 4, tensors: { data: new Float64Array(2) } })))
      .to.be.instanceOf(CollectiveMismatchError).with.property('field', 'dtype');
  });

  it('refuses garbage and non-chunk messages', async () => {
    const garbage = await failure([Buffer.from('definitely not msgpack')]);
    expect(garbage).to.be.instanceOf(CollectiveProtocolError);
    expect(garbage.message).to.match(/invalid frame while waiting for rs k=0 seg=1 chunk=0 from rank 1/);
  });

  it('is broken after a failure: later calls are refused, naming the cause', async () => {
    await failure(chunk({ step: 2 }));
    const err = await expectRejects(ring.allReduce(new Float32Array(4), 'sum', { tag }), /broken/);
    expect(err.cause).to.be.instanceOf(CollectiveMismatchError);
  });

  it('drops an oversized frame at the socket (maxMessageSize) and times out, nothing merged', async () => {
    const err = await failure(chunk({}, new Float32Array(100_000)), 500);
    expect(err).to.be.instanceOf(CollectiveTimeoutError);
  });

  it('ends a call waiting on a silent neighbour as soon as its signal aborts, and is broken afterwards', async () => {
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(new Error('rank 1 was lost')), 100);
    let err: unknown;
    try {
      await ring.allReduce(new Float32Array(4), 'sum', { tag, timeoutMs: 20_000, signal: stop.signal });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CollectiveAbortedError);
    expect((err as Error).message).to.equal('collective aborted while waiting for rs k=0 seg=1 chunk=0 from rank 1: rank 1 was lost');
    // the 20 s timeout is far away: only the signal can have ended it (generous bound for a loaded machine)
    expect(Date.now() - started).to.be.below(5_000);
    const again = ring.allReduce(new Float32Array(4), 'sum', { tag });
    await expectRejects(again, /broken/);
    // an already aborted signal fails the call before anything waits
    const late = await Ring.bind('tcp://127.0.0.1:*');
    try {
      late.connect({ rank: 0, world: 2, right: 'tcp://127.0.0.1:9' });
      let early: unknown;
      await late.allReduce(new Float32Array(4), 'sum', { tag, signal: AbortSignal.abort(new Error('gone')) }).catch((e) => (early = e));
      expect(early).to.be.instanceOf(CollectiveAbortedError);
    } finally {
      late.close();
    }
  });

  it('refuses a second collective while one is in flight', async () => {
    const first = ring.allReduce(new Float32Array(4), 'sum', { tag, timeoutMs: 300 });
    await expectRejects(ring.allReduce(new Float32Array(4), 'sum', { tag }), /busy/);
    await first.catch(() => undefined);
  });
});

/** Expects `p` to reject with a CollectiveUsageError whose message matches `text`, and returns the error. */
async function expectRejects(p: Promise<unknown>, text: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(CollectiveUsageError);
    expect((err as Error).message).to.match(text);
    return err as Error;
  }
  return expect.fail(`expected a rejection matching ${text}`);
}

describe('ring: separate processes over loopback TCP', function () {
  this.timeout(60_000);
  afterEach(killAll);

  for (const world of [1, 2, 3, 4, 5]) {
    const lengths = [...new Set([0, 1, world - 1, 7, 1000, 604_384])];
    it(`all-reduces (sum, max, fast, exact, exact to float32), broadcasts, all-gathers and reduces scalars correctly and identically on ${world} rank(s), lengths ${lengths.join(', ')}`, async () => {
      // small chunks for the big buffer so the pipeline really interleaves many chunks per hop
      const ranks = await startRing(world, () => ({ scenario: 'correctness', lengths, chunkBytes: 64 * 1024, timeoutMs: 30_000 }));
      const perRank = await finishRing(ranks, 50_000);
      expectAgreement(perRank, correctnessCases(lengths.length));
    });
  }

  it('rejects with CollectiveTimeoutError within timeoutMs when one rank never takes part', async () => {
    const timeoutMs = 1500;
    const world = 4;
    const absent = 2;
    const ranks = await startRing(world, (rank) => (rank === absent ? { scenario: 'idle' } : { scenario: 'timed', timeoutMs, length: 10_000 }));
    const results = await finishRing(ranks, timeoutMs + 10_000);
    expect(results[absent]).to.deep.equal([]);
    for (const [rank, cases] of results.entries()) {
      if (rank === absent) continue;
      const [c] = cases;
      expect(c.error, `rank ${rank}: ${c.message}`).to.equal('CollectiveTimeoutError');
      expect(c.elapsedMs as number, `rank ${rank}`).to.be.at.least(timeoutMs - 5).and.at.most(timeoutMs + 500);
    }
  });

  it('refuses a frame of another step instead of merging it', async () => {
    const world = 3;
    const ranks = await startRing(world, (rank) => ({ scenario: 'timed', timeoutMs: 3000, length: 1000, step: rank === 1 ? 8 : 7 }));
    const results = (await finishRing(ranks, 15_000)).map(([c]) => c);
    for (const c of results) {
      expect(c.ok).to.equal(false);
      expect(c.collective).to.equal(true);
    }
    // rank 1's right neighbour sees step 8 where it expects 7, and rank 1 sees 7 where it expects 8
    expect(results[2].error).to.equal('CollectiveMismatchError');
    expect(results[2].message).to.match(/step is 8, expected 7/);
    expect(results[1].error).to.equal('CollectiveMismatchError');
    expect(results[1].message).to.match(/step is 7, expected 8/);
  });

  it('runs over CURVE, and a rank with the wrong server key gets nothing through', async () => {
    const server = curveKeyPair();
    const client = curveKeyPair();
    const good = { publicKey: server.publicKey, secretKey: server.secretKey, serverKey: server.publicKey };
    const okRanks = await startRing(3, () => ({ scenario: 'correctness', lengths: [1000], curve: good }));
    expectAgreement(await finishRing(okRanks, 30_000), correctnessCases(1));

    // rank 0 trusts the wrong server key: the handshake with rank 1 fails, so the ring starves
    const wrong = { publicKey: client.publicKey, secretKey: client.secretKey, serverKey: client.publicKey };
    const badRanks = await startRing(2, (rank) => ({ scenario: 'timed', timeoutMs: 1500, length: 100, curve: rank === 0 ? wrong : good }));
    const results = (await finishRing(badRanks, 15_000)).map(([c]) => c);
    expect(results.map((c) => c.error)).to.deep.equal(['CollectiveTimeoutError', 'CollectiveTimeoutError']);
  });
});
