import { expect } from 'chai';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { PROTOCOL_VERSION, decode, encode, type MessageInput } from '@nbm/protocol';
import type { Refusal } from '../src/index.ts';
import { killAll, startWorker } from './helpers/processes.ts';
import { RawDealer, RawRouter } from './helpers/raw.ts';
import { FAST, harness, type Harness } from './helpers/setup.ts';

const packr = new Packr({ useRecords: false });
const RUNS = 200;
const MAX_BYTES = 64 * 1024;

/** Valid messages of every kind, as a peer might send them (the run and config match the coordinator's). */
function validMessages(run: string): MessageInput[] {
  return [
    { type: 'register', run, host: 'h', pid: 1, device: 'd', backend: 'cpu', configHash: 'not-the-config', protocol: PROTOCOL_VERSION },
    { type: 'heartbeat', run, sentAt: 1, state: 'idle' },
    { type: 'result', run, id: 3, value: { a: [1, 2] }, tensors: { g: new Float32Array([1, 2, 3]) } },
    { type: 'error', run, id: 4, code: 'E', message: 'm' },
    { type: 'call', run, id: 5, method: 'm', args: [1], tensors: { x: new Uint8Array(8) } },
    { type: 'welcome', run, rank: 0, world: 1, peers: ['tcp://127.0.0.1:1'] },
    { type: 'abort', run, step: 2, reason: 'r' },
    { type: 'chunk', run, phase: 'rs', k: 0, seg: 0, chunk: 0, from: 0, world: 1, op: 'sum', n: 2, tensors: { data: new Float32Array(2) } },
  ];
}

/** Multipart messages that are wrong in every way a peer can get wrong (each frame under the socket limit). */
function badMessages(run: string, exclude: readonly string[] = []): fc.Arbitrary<Uint8Array[]> {
  const valid = validMessages(run).filter((m) => !exclude.includes(m.type)).map((m) => encode(m));
  const frame = fc.uint8Array({ maxLength: 96 });
  return fc.oneof<fc.Arbitrary<Uint8Array[]>[]>(
    // a well-formed message from a peer that never registered (or registers with another config)
    fc.constantFrom(...valid),
    // raw garbage
    fc.array(frame, { minLength: 1, maxLength: 4 }),
    // a valid message, header truncated
    fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([m, cut]) => [m[0].subarray(0, cut % m[0].length), ...m.slice(1)]),
    // a valid message with a byte of its header flipped
    fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([m, at, x]) => {
      const header = Buffer.from(m[0]);
      header[at % header.length] ^= x;
      return [header, ...m.slice(1)];
    }),
    // a valid message with tensor frames dropped, added or resized
    fc.tuple(fc.constantFrom(...valid.filter((m) => m.length > 1)), fc.constantFrom('drop', 'add', 'resize')).map(([m, how]) =>
      how === 'drop' ? m.slice(0, -1) : how === 'add' ? [...m, new Uint8Array(4)] : [...m.slice(0, -1), m[m.length - 1].subarray(1)],
    ),
    // headers that are MessagePack maps of anything: wrong versions, types, fields
    fc
      .record({
        v: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.integer(), fc.string()),
        type: fc.oneof(fc.constantFrom('register', 'heartbeat', 'result', 'error', 'call', 'nope'), fc.string()),
        run: fc.oneof(fc.constant(run), fc.string(), fc.integer()),
        extra: fc.anything({ maxDepth: 2 }),
      })
      .map((header) => {
        try {
          return [packr.pack(header)];
        } catch {
          return [new Uint8Array([0xc1])]; // a byte MessagePack never uses
        }
      }),
    // bigger than the whole-message limit, though each frame fits the socket's
    fc.constant<Uint8Array[]>([encode(validMessages(run)[1])[0], new Uint8Array(MAX_BYTES - 100), new Uint8Array(MAX_BYTES - 100)]),
  );
}

describe('runtime: fuzzing with malformed messages', function () {
  this.timeout(60_000);
  let h: Harness | undefined;
  const raws: Array<{ close(): void }> = [];
  afterEach(async () => {
    for (const r of raws.splice(0)) r.close();
    await h?.coordinator.shutdown('test over');
    h = undefined;
    killAll();
  });

  it(`never crashes the coordinator: each of ${RUNS} bad messages is refused, then a real worker works`, async () => {
    h = await harness({ configHash: 'cfg-1', maxMessageBytes: MAX_BYTES });
    const coordinator = h.coordinator;
    const refused: Array<[string, Refusal]> = [];
    let joins = 0;
    coordinator.on('refused', (reason, detail) => refused.push([reason, detail]));
    coordinator.on('join', () => joins++);
    const crashes: unknown[] = [];
    const onCrash = (err: unknown): void => void crashes.push(err);
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(badMessages('run-test'), async (frames) => {
          const sentinel = `sentinel-${n++}`;
          const before = refused.length;
          const d = new RawDealer(coordinator.endpoint);
          try {
            await d.send(frames);
            // a register with a unique config hash, refused as a mismatch: once it is refused, the
            // bad message before it has been handled, and the receive loop is still running
            await d.send(encode({ type: 'register', run: 'run-test', host: 'h', pid: 1, device: '', backend: 'cpu', configHash: sentinel, protocol: PROTOCOL_VERSION }));
            const deadline = performance.now() + 3000;
            while (!refused.slice(before).some(([reason]) => reason.includes(sentinel))) {
              if (performance.now() > deadline) throw new Error(`the coordinator did not answer the sentinel after ${JSON.stringify(frames.map((f) => Buffer.from(f).toString('hex').slice(0, 80)))}`);
              await new Promise((r) => setTimeout(r, 2));
            }
            // exactly one refusal for the bad message, one for the sentinel
            expect(refused.length - before, refused.slice(before).map(([r]) => r).join('\n')).to.equal(2);
          } finally {
            d.close();
          }
        }),
        // a fixed seed: the same messages every run, so that every refusal code below is reached every time
        { numRuns: RUNS, seed: 1 },
      );
    } finally {
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    }
    expect(crashes).to.deep.equal([]);
    expect(joins).to.equal(0);
    const codes = new Set(refused.map(([, d]) => d.code));
    for (const code of ['bad-msgpack', 'schema', 'oversized', 'frame-mismatch', 'not-registered', 'config-mismatch']) expect(codes, code).to.include(code);

    const [w] = await h.start(1);
    const t = new Float32Array([1, -0, NaN, 3.5]);
    const r = await coordinator.call(w.id, 'echo', ['still alive'], { t });
    expect(Buffer.from(r.tensors.t.buffer, r.tensors.t.byteOffset, r.tensors.t.byteLength).equals(Buffer.from(t.buffer))).to.equal(true);
  });

  it('never crashes a worker: after 100 bad messages from its coordinator it still answers a call', async () => {
    const router = await RawRouter.bind();
    raws.push(router);
    const worker = startWorker({ connect: router.endpoint, ...FAST, timeoutMs: 20_000 });
    expect(decode(await router.next(10_000))).to.include({ type: 'register' });
    await router.send(encode({ type: 'registered', run: 'R', id: 'w1', heartbeatMs: 100, timeoutMs: 20_000 }));
    // shutdown and error (not-registered) would legitimately end the worker: not among the bad messages
    const samples = fc.sample(badMessages('R', ['call']), { numRuns: 100, seed: 42 });
    for (const frames of samples) await router.send(frames);
    await router.send(encode({ type: 'call', run: 'R', id: 77, method: 'pid' }));
    const result = await router.nextMatching((m) => m.type === 'result', 10_000);
    expect(result).to.include({ id: 77, value: worker.child.pid });
    expect(worker.events.filter((e) => e.event === 'exit')).to.deep.equal([]);
    expect(worker.events.filter((e) => e.event === 'log' && /refused a message from the coordinator/.test(String(e.line))).length).to.be.greaterThan(50);
  });
});
