import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { Coordinator, InsecureEndpointError, generateKeys, loadKeys, runWorker, type Refusal } from '../src/index.ts';
import { killAll, startWorker } from './helpers/processes.ts';
import { FAST, harness, type Harness } from './helpers/setup.ts';

describe('runtime: binding, closed by default, CURVE', function () {
  this.timeout(30_000);
  let dir: string;
  let h: Harness | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nbm-curve-'));
  });
  afterEach(async () => {
    await h?.coordinator.shutdown('test over');
    h = undefined;
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks its options and reports a taken address', async () => {
    const reject = async (opts: Parameters<typeof Coordinator.bind>[0]): Promise<Error> => {
      try {
        const c = await Coordinator.bind({ log: () => undefined, ...opts });
        await c.shutdown();
      } catch (err) {
        return err as Error;
      }
      throw new Error(`bind ${JSON.stringify(opts)} succeeded`);
    };
    expect(await reject({ bind: 'tcp://127.0.0.1:*', run: '*' })).to.be.instanceOf(TypeError).with.property('message').that.matches(/`run` must be a string of 1 to 128 characters other than '\*'/);
    expect((await reject({ bind: 'tcp://127.0.0.1:*', run: 'r', heartbeatMs: 600, timeoutMs: 1000 })).message).to.match(/timeoutMs \(1000\) must be at least twice heartbeatMs \(600\)/);
    const { publicKey, secretKey } = curveKeyPair();
    expect((await reject({ bind: 'tcp://127.0.0.1:*', run: 'r', curve: { publicKey: curveKeyPair().publicKey, secretKey, allowedClients: [publicKey] } })).message).to.match(/publicKey does not belong to its secretKey/);
    expect((await reject({ bind: 'tcp://127.0.0.1:*', run: 'r', curve: { publicKey, secretKey, allowedClients: [] } })).message).to.match(/allowedClients: list the public key of at least one worker/);
    h = await harness();
    const taken = await reject({ bind: h.coordinator.endpoint, run: 'r' });
    expect(taken.message).to.match(new RegExp(`^cannot bind the coordinator to ${h.coordinator.endpoint}: .*[Aa]ddress already in use`));
  });

  it('refuses to bind a non-loopback address without keys, saying why and how to make keys', async () => {
    for (const bind of ['tcp://0.0.0.0:5555', 'tcp://*:5555', 'tcp://10.1.2.3:5555', 'tcp://eth0:5555']) {
      let err: unknown;
      try {
        await Coordinator.bind({ bind, run: 'r' });
      } catch (e) {
        err = e;
      }
      expect(err, bind).to.be.instanceOf(InsecureEndpointError);
      const message = (err as Error).message;
      expect(message).to.contain(`refusing to bind ${bind} without CURVE keys`);
      expect(message).to.contain('only loopback addresses');
      expect(message).to.contain('`nbm keygen DIR`');
      expect(message).to.contain('`--keys DIR`');
    }
  });

  it('a worker refuses to connect to a non-loopback coordinator without keys', async () => {
    let err: unknown;
    try {
      await runWorker({ connect: 'tcp://10.1.2.3:5555', info: { host: 'h', device: '', backend: 'cpu', configHash: 'c' }, methods: {} });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InsecureEndpointError);
    expect((err as Error).message).to.match(/refusing to connect tcp:\/\/10\.1\.2\.3:5555 without CURVE keys.*nbm keygen DIR/);
  });

  it('admits a worker with the right keys, refuses one with another key pair before it can be called', async () => {
    generateKeys(dir);
    h = await harness({ configHash: 'cfg-1', curve: loadKeys(dir, 'coordinator') });
    const refusals: Array<[string, Refusal]> = [];
    h.coordinator.on('refused', (reason, detail) => refusals.push([reason, detail]));
    const good = loadKeys(dir, 'worker');
    const [w] = await h.start(1, { curve: good });
    const r = await h.coordinator.call(w.id, 'echo', ['over CURVE'], { t: new Float64Array([Math.PI]) });
    expect((r.value as { args: unknown[] }).args).to.deep.equal(['over CURVE']);
    expect(r.tensors.t[0]).to.equal(Math.PI);

    const stranger = curveKeyPair();
    const intruder = startWorker({ connect: h.coordinator.endpoint, ...FAST, curve: { ...stranger, serverKey: good.serverKey } });
    expect(await intruder.waitExit(10_000)).to.equal(4);
    const exit = intruder.events.find((e) => e.event === 'exit')!;
    expect(exit).to.include({ name: 'RegistrationRefusedError', code: 'curve-auth' });
    expect(exit.message).to.contain(`public key ${stranger.publicKey} is not among the coordinator's allowed clients`);
    const denied = refusals.find(([, d]) => d.code === 'curve-auth');
    expect(denied?.[0]).to.contain(`CURVE public key ${stranger.publicKey} is not among the allowed clients`);
    expect(h.coordinator.workers().map((x) => x.id)).to.deep.equal([w.id]);
    expect(intruder.events.some((e) => e.event === 'log' && /registered as/.test(String(e.line)))).to.equal(false);
  });

  it('a worker without keys (or with the wrong server key) cannot reach a CURVE coordinator, and says what to check', async () => {
    generateKeys(dir);
    h = await harness({ curve: loadKeys(dir, 'coordinator') });
    const plain = startWorker({ connect: h.coordinator.endpoint, ...FAST });
    const wrongServer = startWorker({ connect: h.coordinator.endpoint, ...FAST, curve: { ...loadKeys(dir, 'worker'), serverKey: curveKeyPair().publicKey } });
    expect(await plain.waitExit(FAST.timeoutMs + 3000)).to.equal(3);
    expect(await wrongServer.waitExit(FAST.timeoutMs + 3000)).to.equal(3);
    expect(plain.events.find((e) => e.event === 'exit')!.message).to.match(/no answer to register .*does the coordinator require CURVE keys\?/);
    expect(wrongServer.events.find((e) => e.event === 'exit')!.message).to.match(/no answer to register .*check that curve\.serverKey is the coordinator's public key/);
    expect(h.coordinator.workers()).to.deep.equal([]);
  });
});
