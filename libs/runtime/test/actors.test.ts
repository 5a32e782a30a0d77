import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { CallTimeoutError, RemoteError, WaitTimeoutError, WorkerLostError, type WorkerHandle } from '../src/index.ts';
import { killAll } from './helpers/processes.ts';
import { FAST, fixtureOf, harness, settle, type Harness } from './helpers/setup.ts';

/** A typed array of `n` elements filled with random bits (NaN payloads, −0, denormals and all). */
function randomArray<T extends ArrayBufferView>(Ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  const bytes = randomBytes(n * Ctor.BYTES_PER_ELEMENT);
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  return new Ctor(buf);
}
const bytesOf = (v: ArrayBufferView): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

describe('runtime: coordinator and worker processes', function () {
  this.timeout(30_000);

  describe('three workers, shared by these tests', () => {
    let h: Harness;
    let handles: WorkerHandle[];
    const joins: string[] = [];
    const lost: string[] = [];

    before(async () => {
      h = await harness({ configHash: 'cfg-1' });
      h.coordinator.on('join', (w) => joins.push(w.id));
      h.coordinator.on('lost', (w, reason) => lost.push(`${w.id}: ${reason}`));
      handles = await h.start(3);
    });
    after(async () => {
      await h.coordinator.shutdown('test over');
      killAll();
    });

    it('registers N workers, lists them in join order with their info, and places them with welcome', async () => {
      expect(handles.map((w) => w.id)).to.deep.equal(['w1', 'w2', 'w3']);
      expect(joins).to.deep.equal(['w1', 'w2', 'w3']);
      expect(h.coordinator.workers()).to.deep.equal(handles);
      const pids = h.workers.map((w) => w.child.pid).sort();
      expect(handles.map((w) => w.info.pid).sort()).to.deep.equal(pids);
      for (const w of handles) {
        expect(w.info).to.include({ host: 'fixture-host', device: 'cpu:0', backend: 'cpu', configHash: 'cfg-1', dataAddress: 'tcp://127.0.0.1:1' });
        expect(w.alive).to.equal(true);
      }
      const peers = handles.map((_, r) => `tcp://127.0.0.1:${7000 + r}`);
      for (const [rank, w] of handles.entries()) await h.coordinator.welcome(w.id, { rank, world: 3, peers });
      for (const [rank, w] of handles.entries()) {
        const ev = await fixtureOf(h, w).waitFor((e) => e.event === 'welcome', 5000, 'welcome');
        expect(ev).to.deep.include({ rank, world: 3, peers, run: 'run-test' });
      }
      // heartbeats refresh lastHeartbeat
      const before = handles[0].lastHeartbeat;
      await new Promise((r) => setTimeout(r, 3 * FAST.heartbeatMs));
      expect(handles[0].lastHeartbeat).to.be.greaterThan(before);
    });

    it('round-trips args and tensors bit for bit', async () => {
      const [w1, w2] = handles;
      const tensors = {
        f32: randomArray(Float32Array, 1000),
        f64: randomArray(Float64Array, 333),
        u32: randomArray(Uint32Array, 17),
        u8: randomArray(Uint8Array, 5),
        buf: Buffer.from('raw bytes'),
        empty: new Float32Array(0),
        big: randomArray(Float32Array, 604_384),
        sub: randomArray(Float64Array, 10).subarray(3, 7),
      };
      tensors.f32[0] = -0;
      const args = [1, 'two', { three: [3, null, true] }, new Uint8Array([4, 5])];
      for (const w of [w1, w2]) {
        const r = await h.coordinator.call(w.id, 'echo', args, tensors);
        const value = r.value as { args: unknown[]; pid: number };
        expect(value.pid).to.equal(w.info.pid);
        expect(value.args.slice(0, 3)).to.deep.equal(args.slice(0, 3));
        expect([...(value.args[3] as Uint8Array)]).to.deep.equal([4, 5]);
        expect(Object.keys(r.tensors).sort()).to.deep.equal(Object.keys(tensors).sort());
        for (const [name, sent] of Object.entries(tensors)) {
          const got = r.tensors[name];
          const expectedType = sent instanceof Buffer ? Uint8Array : sent.constructor;
          expect(got, name).to.be.instanceOf(expectedType);
          expect(bytesOf(got).equals(bytesOf(sent)), `${name} bits`).to.equal(true);
        }
      }
    });

    it('a method that throws rejects with RemoteError carrying code, message and remote stack; the worker serves on', async () => {
      const w = handles[0];
      const err = (await settle(h.coordinator.call(w.id, 'fail', ['boom 42']))).error as RemoteError;
      expect(err).to.be.instanceOf(RemoteError);
      expect(err).to.include({ code: 'Error', remoteMessage: 'boom 42', method: 'fail', workerId: w.id });
      expect(err.message).to.contain("'fail' failed on worker w1: Error: boom 42");
      expect(err.remoteStack).to.match(/fixtures\/worker\.ts/);

      const coded = (await settle(h.coordinator.call(w.id, 'fail', ['nope', 'E_CUSTOM']))).error as RemoteError;
      expect(coded.code).to.equal('E_CUSTOM');

      const unknown = (await settle(h.coordinator.call(w.id, 'noSuchMethod'))).error as RemoteError;
      expect(unknown).to.be.instanceOf(RemoteError);
      expect(unknown.code).to.equal('unknown-method');
      expect(unknown.remoteMessage).to.match(/no method 'noSuchMethod' \(it has: echo, fail, /);

      const bad = (await settle(h.coordinator.call(w.id, 'badReply'))).error as RemoteError;
      expect(bad.code).to.equal('bad-reply');
      expect(bad.remoteMessage).to.match(/Map is not plain data/);

      expect((await h.coordinator.call(w.id, 'pid')).value).to.equal(w.info.pid);
    });

    it('runs calls one at a time, in arrival order', async () => {
      const w = handles[1];
      const delays = [60, 0, 40, 5, 30, 10];
      const settledOrder: number[] = [];
      const calls = delays.map((ms, i) => h.coordinator.call(w.id, 'record', [i, ms]).then((r) => (settledOrder.push(i), r)));
      const results = await Promise.all(calls);
      const expected = delays.flatMap((_, i) => [`start ${i}`, `end ${i}`]);
      expect(results.at(-1)!.value).to.deep.equal(expected);
      for (const [i, r] of results.entries()) expect(r.value).to.deep.equal(expected.slice(0, 2 * i + 2));
      expect(settledOrder).to.deep.equal([0, 1, 2, 3, 4, 5]);
    });

    it('keeps a worker alive through an async call longer than the timeout: heartbeats flow both ways while it runs', async () => {
      const w = handles[2];
      expect((await h.coordinator.call(w.id, 'sleep', [1.6 * FAST.timeoutMs])).value).to.equal('slept');
      expect(lost).to.deep.equal([]);
      expect(w.alive).to.equal(true);
      await new Promise((r) => setTimeout(r, 3 * FAST.heartbeatMs));
      expect(w.state).to.equal('idle');
      expect(fixtureOf(h, w).events.filter((e) => e.event === 'exit')).to.deep.equal([]);
    });

    it('abort(step) aborts the call in flight and the queued calls of that step, not those of later steps', async () => {
      const w = handles[0];
      const fixture = fixtureOf(h, w);
      const inFlight = settle(h.coordinator.call(w.id, 'sleep', [20_000], undefined, { step: 7 }));
      const queued = settle(h.coordinator.call(w.id, 'sleep', [0], undefined, { step: 7 }));
      const later = settle(h.coordinator.call(w.id, 'sleep', [0], undefined, { step: 8 }));
      await fixture.waitFor((e) => e.event === 'sleeping' && e.step === 7, 5000, 'the step-7 call to start');
      await h.coordinator.abort(7, 'rank 2 failed');
      const [a, b, c] = await Promise.all([inFlight, queued, later]);
      expect(a.error).to.be.instanceOf(RemoteError);
      expect(a.error).to.include({ code: 'aborted' });
      expect((a.error as RemoteError).remoteMessage).to.equal('aborted by the coordinator at step 7: rank 2 failed');
      expect(b.error).to.be.instanceOf(RemoteError);
      expect(b.error).to.include({ code: 'aborted' });
      expect(c).to.include({ ok: true });
      expect(c.value!.value).to.equal('slept');
      expect(fixture.events.filter((e) => e.event === 'sleeping' && e.step !== undefined).map((e) => e.step)).to.deep.equal([7, 8]);
    });

    it('abort(step, reason, workers) reaches only the named workers: the others\' calls run on', async () => {
      const [a, b] = [handles[0], handles[1]];
      const named = settle(h.coordinator.call(a.id, 'sleep', [20_000], undefined, { step: 9 }));
      const other = settle(h.coordinator.call(b.id, 'sleep', [300]));
      await fixtureOf(h, a).waitFor((e) => e.event === 'sleeping' && e.step === 9, 5000, 'the step-9 call to start');
      await h.coordinator.abort(9, 'trial t001 lost a worker', [a.id]);
      const [x, y] = await Promise.all([named, other]);
      expect(x.error).to.include({ code: 'aborted' });
      expect((x.error as RemoteError).remoteMessage).to.equal('aborted by the coordinator at step 9: trial t001 lost a worker');
      expect(y).to.include({ ok: true });
      expect(y.value!.value).to.equal('slept');
    });

    it('a call past its timeout rejects with CallTimeoutError; its late result is ignored and the worker serves on', async () => {
      const w = handles[1];
      const r = await settle(h.coordinator.call(w.id, 'sleep', [600], undefined, { timeoutMs: 150 }));
      expect(r.error).to.be.instanceOf(CallTimeoutError);
      expect(r.error!.message).to.match(/call \d+ 'sleep' on worker w2 got no reply within 150 ms/);
      expect(r.ms).to.be.within(140, 1500);
      expect((await h.coordinator.call(w.id, 'pid')).value).to.equal(w.info.pid); // queued behind the sleep
      expect(h.logs.some((l) => /ignoring a reply from worker w2 to call \d+, which is not pending/.test(l))).to.equal(true);
    });

    it('refuses, before sending, a call the wire cannot carry', async () => {
      const w = handles[2];
      const bad = await settle(h.coordinator.call(w.id, 'echo', [], { ints: new Int32Array(2) }));
      expect(bad.error).to.be.instanceOf(TypeError);
      expect(bad.error!.message).to.equal("call 'echo': tensor 'ints' is a Int32Array; frames carry Float32Array, Float64Array, Uint32Array or Uint8Array");
      const args = await settle(h.coordinator.call(w.id, 'echo', [new Map()]));
      expect(args.error).to.have.property('name', 'ProtocolError');
      expect(args.error!.message).to.match(/args\[0\]: Map is not plain data/);
      expect((await settle(h.coordinator.call(w.id, 'echo', [], undefined, { timeoutMs: -1 }))).error).to.be.instanceOf(RangeError);
      const nobody = await settle(h.coordinator.call('w99', 'echo'));
      expect(nobody.error).to.be.instanceOf(WorkerLostError);
      expect(nobody.error!.message).to.equal('worker w99 lost: no such worker');
    });

    it('waitForWorkers rejects with WaitTimeoutError naming how many arrived', async () => {
      const r = await settle(h.coordinator.waitForWorkers(5, 300));
      expect(r.error).to.be.instanceOf(WaitTimeoutError);
      expect(r.error).to.include({ wanted: 5, arrived: 3 });
      expect(r.error!.message).to.match(/^waited 300 ms for 5 workers, 3 arrived \(w1 fixture-host pid \d+ cpu:0; w2 .*; w3 .*\)$/);
    });
  });

  describe('fresh workers for each test', () => {
    let h: Harness;
    beforeEach(async () => {
      h = await harness({ configHash: 'cfg-1' });
    });
    afterEach(async () => {
      await h.coordinator.shutdown('test over');
      killAll();
    });


    it('drop() rejects pending calls with WorkerLostError, forgets the worker, and the worker exits', async () => {
      const [w1, w2] = await h.start(2);
      const pending = settle(h.coordinator.call(w1.id, 'sleep', [20_000]));
      await fixtureOf(h, w1).waitFor((e) => e.event === 'sleeping', 5000, 'the call to start');
      h.coordinator.drop(w1.id, 'missed step 3');
      const r = await pending;
      expect(r.error).to.be.instanceOf(WorkerLostError);
      expect(r.error).to.include({ workerId: 'w1', reason: 'dropped: missed step 3' });
      expect(h.coordinator.workers().map((w) => w.id)).to.deep.equal(['w2']);
      expect(w1.alive).to.equal(false);
      const again = await settle(h.coordinator.call(w1.id, 'pid'));
      expect(again.error).to.be.instanceOf(WorkerLostError);
      expect(again.error!.message).to.contain('dropped: missed step 3');
      expect(await fixtureOf(h, w1).waitExit(5000)).to.equal(0);
      expect(fixtureOf(h, w1).events.find((e) => e.event === 'exit')!.reason).to.match(/dropped by the coordinator: missed step 3/);
      expect((await h.coordinator.call(w2.id, 'pid')).value).to.equal(w2.info.pid);
    });

    it('shutdown() stops every worker cleanly, with their acknowledgements, and rejects what is pending', async () => {
      const handles = await h.start(3);
      const pending = settle(h.coordinator.call(handles[0].id, 'sleep', [20_000]));
      await fixtureOf(h, handles[0]).waitFor((e) => e.event === 'sleeping', 5000, 'the call to start');
      const t0 = performance.now();
      await h.coordinator.shutdown('finished');
      expect(performance.now() - t0).to.be.below(1500); // acknowledged, not timed out
      expect(h.logs.some((l) => l.includes('no exit acknowledgement'))).to.equal(false);
      const r = await pending;
      expect(r.error).to.be.instanceOf(WorkerLostError);
      expect(r.error!.message).to.contain('coordinator shut down: finished');
      for (const f of h.workers) {
        expect(await f.waitExit(5000)).to.equal(0);
        expect(f.events.find((e) => e.event === 'exit')).to.deep.include({ how: 'resolved', reason: 'shutdown: finished' });
      }
      expect(h.coordinator.workers()).to.deep.equal([]);
    });
  });
});
