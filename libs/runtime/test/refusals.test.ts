import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { PROTOCOL_VERSION, decode, encode, type Message } from '@nbm/protocol';
import type { Refusal } from '../src/index.ts';
import { killAll, startWorker } from './helpers/processes.ts';
import { RawDealer, RawRouter } from './helpers/raw.ts';
import { FAST, harness, type Harness } from './helpers/setup.ts';

const packr = new Packr({ useRecords: false });
const REGISTER = { type: 'register', host: 'raw', pid: 4242, device: '', backend: 'cpu', configHash: 'cfg-1', protocol: PROTOCOL_VERSION } as const;

describe('runtime: refusals', function () {
  this.timeout(30_000);
  let h: Harness | undefined;
  let refusals: Array<[string, Refusal]>;
  const raws: Array<{ close(): void }> = [];

  const withHarness = async (opts: Parameters<typeof harness>[0] = {}): Promise<Harness> => {
    h = await harness({ configHash: 'cfg-1', ...opts });
    refusals = [];
    h.coordinator.on('refused', (reason, detail) => refusals.push([reason, detail]));
    return h;
  };
  /** Waits for the next refusal with `code`. */
  const refusal = (code: string, timeoutMs = 3000): Promise<[string, Refusal]> =>
    new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        const hit = refusals.find(([, d]) => d.code === code);
        if (hit) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(hit);
        }
      }, 10);
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`no '${code}' refusal within ${timeoutMs} ms; got ${JSON.stringify(refusals)}`));
      }, timeoutMs);
    });
  const dealer = (): RawDealer => {
    const d = new RawDealer(h!.coordinator.endpoint);
    raws.push(d);
    return d;
  };
  const errorReply = async (d: RawDealer): Promise<Message<'error'>> => (await d.inbox.nextMatching((m) => m.type === 'error', 3000)) as Message<'error'>;

  afterEach(async () => {
    for (const r of raws.splice(0)) r.close();
    await h?.coordinator.shutdown('test over');
    h = undefined;
    killAll();
  });

  it('refuses a worker whose model config differs: the worker exits with RegistrationRefusedError naming both hashes', async () => {
    await withHarness();
    const worker = startWorker({ connect: h!.coordinator.endpoint, ...FAST, configHash: 'cfg-OTHER' });
    expect(await worker.waitExit(10_000)).to.equal(4);
    const exit = worker.events.find((e) => e.event === 'exit')!;
    expect(exit).to.include({ name: 'RegistrationRefusedError', code: 'config-mismatch' });
    expect(exit.message).to.match(/refused this worker \(config-mismatch\): the worker's model config hash cfg-OTHER differs from the run's cfg-1/);
    const [reason] = await refusal('config-mismatch');
    expect(reason).to.contain('cfg-OTHER');
    expect(h!.coordinator.workers()).to.deep.equal([]);
    expect(h!.logs.some((l) => l.includes('config-mismatch'))).to.equal(true);
  });

  it('refuses a worker started for another run', async () => {
    await withHarness();
    const worker = startWorker({ connect: h!.coordinator.endpoint, ...FAST, run: 'another-run' });
    expect(await worker.waitExit(10_000)).to.equal(4);
    expect(worker.events.find((e) => e.event === 'exit')!.message).to.match(/\(wrong-run\): register for run "another-run", this coordinator runs "run-test"/);
    expect(h!.coordinator.workers()).to.deep.equal([]);
  });

  it('refuses messages of another run from a registered worker: they neither count as life nor reach a call', async () => {
    await withHarness();
    const d = dealer();
    await d.send(encode({ ...REGISTER, run: '*' }));
    const registered = await d.inbox.nextMatching((m) => m.type === 'registered', 3000);
    expect(registered).to.include({ run: 'run-test', id: 'w1' });
    const [w] = h!.coordinator.workers();
    const pending = h!.coordinator.call(w.id, 'anything').catch((e: Error) => e);
    const call = (await d.inbox.nextMatching((m) => m.type === 'call', 3000)) as Message<'call'>;
    await new Promise((r) => setTimeout(r, 20));
    const lastHeard = w.lastHeartbeat;
    await d.send(encode({ type: 'result', run: 'stale-run', id: call.id, value: 'wrong' }));
    const [reason, detail] = await refusal('wrong-run');
    expect(w.lastHeartbeat).to.equal(lastHeard);
    expect(detail.peer).to.equal('w1');
    expect(reason).to.contain(`a 'result' for run "stale-run", this is run "run-test"`);
    expect((await errorReply(d)).code).to.equal('wrong-run');
    // the call is still pending: the right run's result settles it
    await d.send(encode({ type: 'result', run: 'run-test', id: call.id, value: 'right' }));
    expect(await pending).to.deep.equal({ value: 'right', tensors: {} });
  });

  it('refuses another protocol version, in the envelope or in register, and answers why', async () => {
    await withHarness();
    const d1 = dealer();
    await d1.send([packr.pack({ ...REGISTER, v: PROTOCOL_VERSION + 1, run: 'run-test' })]);
    const [reason] = await refusal('wrong-version');
    expect(reason).to.contain(`protocol version ${PROTOCOL_VERSION + 1}, expected ${PROTOCOL_VERSION}`);
    expect(await errorReply(d1)).to.include({ code: 'wrong-version' });

    refusals.length = 0;
    const d2 = dealer();
    await d2.send(encode({ ...REGISTER, run: 'run-test', protocol: PROTOCOL_VERSION + 7 }));
    expect((await refusal('wrong-version'))[0]).to.contain(`worker speaks protocol version ${PROTOCOL_VERSION + 7}`);
    expect(h!.coordinator.workers()).to.deep.equal([]);
  });

  it('refuses anything but register from an unregistered peer, and never answers an error with an error', async () => {
    await withHarness();
    const d = dealer();
    await d.send(encode({ type: 'heartbeat', run: 'run-test', sentAt: Date.now() }));
    expect(await errorReply(d)).to.include({ code: 'not-registered' });
    await d.send(encode({ type: 'error', run: 'run-test', code: 'x', message: 'y' }));
    await refusal('not-registered');
    await new Promise((r) => setTimeout(r, 200));
    expect(refusals.filter(([, r]) => r.code === 'not-registered')).to.have.length(2);
    await expectNoMessage(d, 200);
  });

  it('refuses an oversized message at decode, drops a frame over the socket limit, and serves a real worker after both', async () => {
    await withHarness({ maxMessageBytes: 64 * 1024 });
    const d = dealer();
    const header = packr.pack({ v: PROTOCOL_VERSION, type: 'result', run: 'run-test', id: 1 });
    await d.send([header, new Uint8Array(40_000), new Uint8Array(40_000)]); // each frame fits, the message does not
    const [reason] = await refusal('oversized');
    expect(reason).to.match(/message of 80\d+ bytes exceeds the limit of 65536/);
    const big = dealer();
    await big.send([new Uint8Array(100_000)]); // libzmq closes this connection: nothing reaches the coordinator
    await new Promise((r) => setTimeout(r, 200));
    expect(refusals).to.have.length(1);
    const [w] = await h!.start(1);
    const payload = new Float32Array(1000).fill(1.5);
    const r = await h!.coordinator.call(w.id, 'echo', [], { payload });
    expect([...r.tensors.payload]).to.deep.equal([...payload]);
  });

  describe('worker side (against a scripted coordinator)', () => {
    let router: RawRouter;
    beforeEach(async () => {
      router = await RawRouter.bind();
      raws.push(router);
    });

    /** Starts a worker fixture and accepts its registration into run `run`. */
    async function registeredWorker(run: string) {
      const worker = startWorker({ connect: router.endpoint, ...FAST, timeoutMs: 10_000 });
      const register = decode(await router.next(10_000));
      expect(register).to.include({ type: 'register', run: '*', protocol: PROTOCOL_VERSION, host: 'fixture-host' });
      await router.send(encode({ type: 'registered', run, id: 'w9', heartbeatMs: 100, timeoutMs: 10_000 }));
      return worker;
    }

    it('a worker refuses a call of another run (answering wrong-run) and serves the right run', async () => {
      const worker = await registeredWorker('R');
      await router.send(encode({ type: 'call', run: 'X', id: 1, method: 'pid' }));
      const refused = (await router.nextMatching((m) => m.type !== 'heartbeat', 3000)) as Message<'error'>;
      expect(refused).to.include({ type: 'error', id: 1, code: 'wrong-run' });
      await router.send(encode({ type: 'call', run: 'R', id: 2, method: 'pid' }));
      const result = await router.nextMatching((m) => m.type !== 'heartbeat', 3000);
      expect(result).to.include({ type: 'result', id: 2, value: worker.child.pid, run: 'R' });
      expect(worker.events.some((e) => e.event === 'log' && /refused a 'call' for run "X"/.test(String(e.line)))).to.equal(true);
    });

    it('a worker refuses a coordinator speaking another protocol version, with RegistrationRefusedError', async () => {
      const worker = startWorker({ connect: router.endpoint, ...FAST });
      await router.next(10_000);
      await router.send([packr.pack({ v: PROTOCOL_VERSION + 1, type: 'registered', run: 'R', id: 'w1', heartbeatMs: 100, timeoutMs: 1000 })]);
      expect(await worker.waitExit(5000)).to.equal(4);
      expect(worker.events.find((e) => e.event === 'exit')).to.deep.include({ code: 'wrong-version' });
    });
  });
});

async function expectNoMessage(d: RawDealer, ms: number): Promise<void> {
  try {
    const frames = await d.inbox.next(ms);
    throw new Error(`expected no message, got ${JSON.stringify(decode(frames))}`);
  } catch (err) {
    if (!/no message within/.test((err as Error).message)) throw err;
  }
}
