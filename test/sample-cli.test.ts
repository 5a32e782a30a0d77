/**
 * `nbm sample` end to end, through the real command and real worker processes: byte-identical output whatever
 * the number of workers and the chunk size, a killed-and-resumed job equal to an uninterrupted one, .npy files
 * that read back by the format spec, and bad input refused with a clear error and nothing complete on disk.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '@nbm/data';
import { NBM_BIN, runNbm, scratchDir } from './helpers.ts';

/** Files whose presence says "finished": none may exist after a failure or an interruption. */
const COMPLETE_LOOKING = ['samples.npy', 'contexts.npy', 'sample.json', 'grid.png', 'components.png'];

/** The npy header by the format spec (magic, version, u16/u32 length, dict literal), independent of @nbm/data. */
function npyHeader(file: string): { descr: string; fortran: string; shape: number[]; dataOffset: number; size: number } {
  const b = readFileSync(file);
  expect(b.subarray(0, 6).toString('latin1')).to.equal('\x93NUMPY');
  const pre = b[6] === 1 ? 10 : 12;
  const hlen = b[6] === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const text = b.subarray(pre, pre + hlen).toString('latin1');
  const m = /^\{'descr': '([^']+)', 'fortran_order': (True|False), 'shape': \((\d+), (\d+)\), \} *\n$/.exec(text);
  expect(m, text).to.not.equal(null);
  return { descr: m![1], fortran: m![2], shape: [Number(m![3]), Number(m![4])], dataOffset: pre + hlen, size: b.length };
}

const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

describe('nbm sample (end to end)', function () {
  this.timeout(600_000);
  const scratch = scratchDir('nbm-sample-cli-');
  after(() => scratch.remove());
  const run = join(scratch.dir, 'run');
  /**
   * 130 rows (10 classes × 13) in blocks of 10, on wasm. The model has the paper's 64 hidden units: with so many the
   * wasm backend's bits for a row depend on how rows are batched, so equal files across chunkings mean something.
   */
  const request = (classes: string, perClass: number) =>
    ['--checkpoint', run, '--classes', classes, '--per-class', String(perClass), '--gibbs-steps', '4', '--seed', '7', '--block-size', '10', '--backend', 'wasm', '--quiet'];
  const REQUEST = request('0-9', 13);

  before(async () => {
    const r = await runNbm(['train', '--train-examples', '256', '--val-examples', '64', '--batch-size', '32', '--hidden', '64', '--gibbs-steps', '4', '--epochs', '1', '--backend', 'cpu', '--kernel', 'tfjs', '--no-pictures', '--quiet', '--out', run]);
    expect(r.code, r.stderr).to.equal(0);
  });

  it('writes samples.npy, contexts.npy, grid.png, components.png and sample.json; the arrays read back by the spec', async () => {
    const out = join(scratch.dir, 'one');
    const r = await runNbm(['sample', ...REQUEST, '--out', out, '--chunk', '100']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/done: 130 samples of 784 values/);
    expect(readdirSync(out).sort()).to.deep.equal(['components.png', 'contexts.npy', 'grid.png', 'sample.json', 'samples.npy']);
    for (const [name, cols] of [['samples.npy', 784], ['contexts.npy', 10]] as const) {
      const h = npyHeader(join(out, name));
      expect(h).to.include({ descr: '<f4', fortran: 'False' });
      expect(h.shape).to.deep.equal([130, cols]);
      expect(h.dataOffset % 64).to.equal(0);
      expect(h.size).to.equal(h.dataOffset + 130 * cols * 4);
    }
    const m = JSON.parse(readFileSync(join(out, 'sample.json'), 'utf8'));
    expect(m.request).to.deep.include({ count: 130, gibbsSteps: 4, seed: 7, blockSize: 10, backend: 'wasm' });
    expect(m.request.checkpoint).to.match(/run\/checkpoints\/epoch-001\.safetensors$/);
  });

  it('is byte-identical on 1 and 3 workers and with other chunk sizes', async () => {
    // 21 rows in blocks of 10: the last block holds one row. On wasm a row alone gets other bits than in a batch,
    // so a sampler that batched by chunk (row 20 with rows 0-19 under --chunk 100, alone under --chunk 20) fails here.
    const runs: Array<[string, string[]]> = [
      ['local-100', ['--chunk', '100']],
      ['local-20', ['--chunk', '20']],
      ['w1-10', ['--workers', '1', '--chunk', '10']],
      ['w3-10', ['--workers', '3', '--chunk', '10']],
    ];
    for (const [name, extra] of runs) {
      const r = await runNbm(['sample', ...request('0-2', 7), '--out', join(scratch.dir, name), ...extra]);
      expect(r.code, `${name}: ${r.stderr}`).to.equal(0);
    }
    expect(npyHeader(join(scratch.dir, 'local-100', 'samples.npy')).shape).to.deep.equal([21, 784]);
    for (const [name] of runs.slice(1)) {
      for (const f of ['samples.npy', 'contexts.npy']) {
        expect(same(join(scratch.dir, name, f), join(scratch.dir, 'local-100', f)), `${name}/${f}`).to.equal(true);
      }
    }
    expect(JSON.parse(readFileSync(join(scratch.dir, 'w3-10', 'sample.json'), 'utf8')).workers).to.equal(3);
  });

  it('--listen 127.0.0.1:* --expect 2 with two remote nbm workers is byte-identical to one process', async () => {
    const reference = join(scratch.dir, 'listen-ref');
    const ref = await runNbm(['sample', ...request('0-2', 7), '--out', reference, '--chunk', '20']);
    expect(ref.code, ref.stderr).to.equal(0);
    const out = join(scratch.dir, 'listen');
    const coordinator = spawn(process.execPath, [NBM_BIN, 'sample', ...request('0-2', 7), '--out', out, '--chunk', '10', '--listen', 'tcp://127.0.0.1:*', '--expect', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const workers: ReturnType<typeof spawn>[] = [];
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line within 60 s:\n${stderr}`)), 60_000);
        coordinator.stderr.on('data', (d) => {
          stderr += d;
          const m = /coordinator listening on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        coordinator.on('exit', (code) => reject(new Error(`nbm sample exited (${code}) before listening:\n${stderr}`)));
      });
      for (let i = 0; i < 2; i++) workers.push(spawn(process.execPath, [NBM_BIN, 'worker', '--connect', endpoint], { stdio: 'ignore' }));
      const code = await new Promise<number | null>((resolve) => coordinator.on('exit', (c) => resolve(c)));
      expect(code, stderr).to.equal(0);
      for (const f of ['samples.npy', 'contexts.npy']) expect(same(join(out, f), join(reference, f)), f).to.equal(true);
      expect(JSON.parse(readFileSync(join(out, 'sample.json'), 'utf8')).workers).to.equal(2);
    } finally {
      coordinator.kill('SIGKILL');
      for (const w of workers) w.kill('SIGKILL');
    }
  });

  it('refuses --listen on a non-loopback address without --keys, with the keygen hint, and writes nothing', async () => {
    const out = join(scratch.dir, 'insecure');
    const r = await runNbm(['sample', ...request('0-2', 7), '--out', out, '--listen', 'tcp://0.0.0.0:5555', '--expect', '2']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/refusing to listen on tcp:\/\/0\.0\.0\.0:5555 without CURVE keys.*nbm keygen DIR/);
    expect(existsSync(out)).to.equal(false);
  });

  it('a job killed mid-run leaves only .partial files, and --resume finishes it byte-identical to an uninterrupted one', async () => {
    const long = ['--checkpoint', run, '--classes', '0-9', '--per-class', '120', '--gibbs-steps', '4', '--seed', '3', '--block-size', '10', '--backend', 'wasm', '--quiet'];
    const straight = join(scratch.dir, 'straight');
    expect((await runNbm(['sample', ...long, '--out', straight, '--chunk', '50'])).code).to.equal(0);

    const killed = join(scratch.dir, 'killed');
    const child = spawn(process.execPath, [NBM_BIN, 'sample', ...long, '--out', killed, '--chunk', '50'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const partial = join(killed, 'samples.npy.partial');
    const rowBytes = 784 * 4;
    for (const deadline = Date.now() + 120_000; ; ) {
      if (existsSync(partial) && statSync(partial).size > 300 * rowBytes) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the job ended before it could be killed mid-run');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');
    // the killed job's lock (nbm.lock) stays until the next job takes it over: it is not output
    const left = readdirSync(killed).filter((f) => f !== 'nbm.lock').sort();
    expect(left).to.deep.equal(['contexts.npy.partial', 'sample.json.partial', 'samples.npy.partial']);
    expect(statSync(partial).size, 'killed before the end').to.be.below(1200 * rowBytes);

    // the resume may run with other workers and chunks: they do not change the bits
    const r = await runNbm(['sample', '--out', killed, '--resume', '--workers', '2', '--chunk', '30', '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    for (const f of ['samples.npy', 'contexts.npy']) expect(same(join(killed, f), join(straight, f)), f).to.equal(true);
    expect(readdirSync(killed).filter((f) => f.endsWith('.partial'))).to.deep.equal([]);
    const m = JSON.parse(readFileSync(join(killed, 'sample.json'), 'utf8'));
    expect(m.resumed).to.equal(true);
    expect(m.drawnThisSession).to.be.below(1200);

    const again = await runNbm(['sample', '--out', killed, '--resume', '--quiet']);
    expect(again.code).to.equal(0);
    expect(again.stdout).to.match(/already holds the finished job/);
  });

  describe('bad input: a clear error, non-zero exit, nothing that looks complete on disk', () => {
    let wrongNx: string;
    let corrupt: string;
    before(() => {
      wrongNx = join(scratch.dir, 'x3.npy');
      writeNpy(wrongNx, new Float32Array(5 * 3), [5, 3]);
      corrupt = join(scratch.dir, 'corrupt.safetensors');
      const good = readFileSync(join(run, 'checkpoints', 'epoch-001.safetensors'));
      good[good.length - 10] ^= 0xff;
      writeFileSync(corrupt, good);
    });
    const cases: Array<[string, () => string[], RegExp]> = [
      ['a missing checkpoint', () => ['--checkpoint', join(scratch.dir, 'no-such-run'), '--classes', '0-9'], /--checkpoint .*no-such-run: no such file or directory/],
      ['a directory that is no run', () => ['--checkpoint', scratch.dir, '--classes', '0-9'], /no checkpoint there; name a run directory/],
      ['a corrupt checkpoint', () => ['--checkpoint', corrupt, '--classes', '0-9'], /corrupt/],
      ['contexts of the wrong nx', () => ['--checkpoint', run, '--contexts', wrongNx], /rows of 3 values, but the model takes contexts of nx = 10/],
      ['a missing contexts file', () => ['--checkpoint', run, '--contexts', join(scratch.dir, 'nope.npy')], /nope\.npy/],
      ['a class out of range', () => ['--checkpoint', run, '--classes', '0-10'], /class 10 is out of range: .*classes are 0-9/],
      ['a class list that does not parse', () => ['--checkpoint', run, '--classes', 'cats'], /--classes 'cats': 'cats' is not a class index or a range/],
      ['a repeated class', () => ['--checkpoint', run, '--classes', '1,3,1'], /class 1 appears twice/],
      ['--classes and --contexts together', () => ['--checkpoint', run, '--classes', '1', '--contexts', wrongNx], /--classes or --contexts, not both/],
      ['neither --classes nor --contexts', () => ['--checkpoint', run], /say what to sample/],
      ['a chunk that is not whole blocks', () => ['--checkpoint', run, '--classes', '0-9', '--chunk', '75'], /--chunk 75 must be a whole number of blocks of --block-size 50/],
      ['--per-class 0', () => ['--checkpoint', run, '--classes', '0-9', '--per-class', '0'], /--per-class must be a positive integer, got 0/],
      ['a bad backend', () => ['--checkpoint', run, '--classes', '0-9', '--backend', 'gpu'], /--backend must be auto, tensorflow, wasm or cpu \(or an engine: native, webgpu\), got 'gpu'/],
      ['an unknown flag', () => ['--checkpoint', run, '--classes', '0-9', '--bogus'], /Unknown option '--bogus'/],
    ];
    cases.forEach(([what, args, message], i) => {
      it(what, async () => {
        const out = join(scratch.dir, `bad-${i}`);
        const r = await runNbm(['sample', ...args(), '--out', out, '--quiet']);
        expect(r.code, r.stdout).to.not.equal(0);
        expect(r.stderr).to.match(message);
        expect(r.stderr.split('\n').filter((l) => l.trim()).length, `one line: ${r.stderr}`).to.equal(1);
        const present = existsSync(out) ? readdirSync(out) : [];
        expect(present.filter((f) => COMPLETE_LOOKING.includes(f))).to.deep.equal([]);
        expect(present, 'nothing written at all').to.deep.equal([]);
      });
    });

    it('a resume whose flags disagree with the interrupted job changes nothing', async () => {
      const out = join(scratch.dir, 'disagree');
      const child = spawn(process.execPath, [NBM_BIN, 'sample', ...request('0-9', 400), '--chunk', '10', '--out', out], { stdio: 'ignore' });
      const partial = join(out, 'samples.npy.partial');
      for (const deadline = Date.now() + 120_000; !(existsSync(partial) && statSync(partial).size > 20 * 784 * 4); ) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error('the job ended before it could be killed mid-run');
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const before = readdirSync(out).map((f) => [f, readFileSync(join(out, f))] as const);
      expect(before.map(([f]) => f), 'the killed job left its lock').to.include('nbm.lock');
      const r = await runNbm(['sample', '--out', out, '--resume', '--seed', '8', '--gibbs-steps', '4', '--quiet']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/--seed 8 \(the job was started with 7\)/);
      for (const [f, bytes] of before) expect(readFileSync(join(out, f)).equals(bytes), f).to.equal(true);
    });
  });
});
