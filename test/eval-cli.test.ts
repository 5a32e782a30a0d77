import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAtomicTempName } from '@nbm/checkpoint';
import { writeNpy } from '@nbm/data';
import { runNbm, scratchDir } from './helpers.ts';

/** A quick MNIST run to evaluate: 2 epochs of 256 examples, 8 hidden units (exact log Z: 2^8 states). */
const QUICK = ['--train-examples', '256', '--val-examples', '64', '--batch-size', '32', '--hidden', '8', '--gibbs-steps', '4', '--epochs', '2', '--backend', 'cpu', '--kernel', 'tfjs', '--no-pictures', '--quiet'];

/** What eval.json must hold (the list). */
const FIELDS = ['split', 'examples', 'method', 'loglik_nats', 'loglik_se', 'bits_per_dim', 'per_class', 'mse_bias', 'mse_var', 'baseline_loglik_nats', 'min_eig'];

function readJson(file: string): Record<string, unknown> & { per_class: Record<string, Record<string, number>> } {
  return JSON.parse(readFileSync(file, 'utf8'));
}

describe('nbm eval (end to end)', function () {
  this.timeout(300_000);
  const scratch = scratchDir('nbm-eval-cli-');
  const run = join(scratch.dir, 'quick');
  after(() => scratch.remove());

  before(async () => {
    const r = await runNbm(['train', ...QUICK, '--out', run]);
    expect(r.code, r.stderr).to.equal(0);
  });

  it('evaluates the latest checkpoint of a run exactly, prints a table and writes eval.json into the run', async () => {
    const r = await runNbm(['eval', '--checkpoint', run, '--split', 'val', '--limit', '300', '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^all\s+300\s/m);
    expect(r.stdout).to.match(/log Z by exact enumeration/);
    expect(r.stdout).to.include(`wrote ${join(run, 'eval.json')}`);
    const report = readJson(join(run, 'eval.json'));
    for (const f of FIELDS) expect(report, f).to.have.property(f);
    expect(report).to.include({ split: 'val', examples: 300, method: 'exact', visible: 'gaussian' });
    expect(report.checkpoint).to.equal(join(run, 'checkpoints', 'epoch-002.safetensors'));
    for (const k of ['loglik_nats', 'loglik_se', 'bits_per_dim', 'mse_bias', 'mse_var', 'baseline_loglik_nats', 'min_eig']) {
      expect(Number.isFinite(report[k]), k).to.equal(true);
    }
    expect(report.bits_per_dim as number).to.be.closeTo(-(report.loglik_nats as number) / (784 * Math.LN2), 1e-9);
    expect(report.loglik_se_log_z).to.equal(0);
    // ten classes, keyed by label, whose examples add up
    expect(Object.keys(report.per_class).sort()).to.deep.equal(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(Object.values(report.per_class).reduce((n, c) => n + c.examples, 0)).to.equal(300);
    // written atomically: no temporary file left behind
    expect(readdirSync(run).filter(isAtomicTempName)).to.deep.equal([]);
  });

  it('--ais with a checkpoint file and --out: AIS agrees with the exact log Z within 4 SE', async () => {
    const exact = readJson(join(run, 'eval.json'));
    const out = join(scratch.dir, 'ais-out');
    const file = join(run, 'checkpoints', 'epoch-002.safetensors');
    const r = await runNbm(['eval', '--checkpoint', file, '--split', 'val', '--limit', '300', '--ais', '--ais-chains', '20', '--ais-steps', '200', '--out', out, '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    const ais = readJson(join(out, 'eval.json'));
    expect(ais).to.include({ method: 'ais', examples: 300 });
    expect(ais.ais).to.deep.include({ chains: 20, steps: 200 });
    for (const [label, c] of Object.entries(ais.per_class)) {
      expect(Math.abs(c.log_z - exact.per_class[label].log_z), `class ${label}`).to.be.at.most(4 * c.log_z_se + 1e-9);
    }
  });

  it('--dataset npy evaluates every row of the user\'s files as given', async () => {
    const x = join(scratch.dir, 'x.npy');
    const y = join(scratch.dir, 'y.npy');
    const n = 12;
    const xs = new Float32Array(n * 10);
    for (let r = 0; r < n; r++) xs[r * 10 + (r % 2)] = 1; // classes 0 and 1, as one-hot rows
    writeNpy(x, xs, [n, 10]);
    writeNpy(y, Float32Array.from({ length: n * 784 }, (_, i) => Math.sin(i)), [n, 784]);
    const out = join(scratch.dir, 'npy-out');
    const r = await runNbm(['eval', '--checkpoint', run, '--dataset', 'npy', '--x', x, '--y', y, '--out', out, '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    const report = readJson(join(out, 'eval.json'));
    expect(report).to.include({ split: 'all', examples: n });
    expect(Object.keys(report.per_class)).to.deep.equal(['context 0', 'context 1']);
  });

  describe('on a worker pool', () => {
    /** eval.json without what may differ between sessions (wall time) */
    const numbers = (dir: string) => {
      const { seconds: _s, ...rest } = readJson(join(dir, 'eval.json'));
      return rest;
    };
    for (const [method, extra] of [
      ['exact', ['--exact']],
      ['AIS', ['--ais', '--ais-chains', '6', '--ais-steps', '30']],
    ] as const) {
      it(`--workers 2 writes the same eval.json numbers as one process (${method})`, async () => {
        const common = ['eval', '--checkpoint', run, '--split', 'val', '--limit', '120', ...extra, '--quiet'];
        const one = join(scratch.dir, `one-${method}`);
        const two = join(scratch.dir, `two-${method}`);
        const a = await runNbm([...common, '--out', one]);
        expect(a.code, a.stderr).to.equal(0);
        const b = await runNbm([...common, '--out', two, '--workers', '2']);
        expect(b.code, b.stderr).to.equal(0);
        expect(numbers(two)).to.deep.equal(numbers(one));
        expect(numbers(one).method).to.equal(method === 'exact' ? 'exact' : 'ais');
      });
    }

    it('loses a worker mid-evaluation (kill -9): its context goes to another, and eval.json is the same as one process\'s (AIS)', async () => {
      const common = ['eval', '--checkpoint', run, '--split', 'val', '--limit', '120', '--ais', '--ais-chains', '40', '--ais-steps', '30000'];
      const one = join(scratch.dir, 'lost-one');
      const three = join(scratch.dir, 'lost-three');
      let victim: number | undefined;
      const killFirstWorker = (stderr: string) => {
        const pid = /evaluating \d+ context\(s\) on 3 worker\(s\): w\d+ \(\S+ pid (\d+)\)/.exec(stderr)?.[1];
        if (pid && victim === undefined) {
          victim = Number(pid);
          process.kill(victim, 'SIGKILL');
        }
      };
      const [a, b] = await Promise.all([
        runNbm([...common, '--quiet', '--out', one], { timeoutMs: 300_000 }),
        runNbm([...common, '--workers', '3', '--out', three], { timeoutMs: 300_000, onStderr: killFirstWorker }),
      ]);
      expect(a.code, a.stderr).to.equal(0);
      expect(b.code, b.stderr).to.equal(0);
      expect(victim, 'the pool was announced and a worker killed').to.be.a('number');
      expect(b.stderr).to.match(new RegExp(`worker w\\d+ \\(\\S+ pid ${victim}\\) lost \\(.*\\); its context goes to another`));
      expect(numbers(three)).to.deep.equal(numbers(one));
    });

    it('refuses a non-loopback --listen without --keys, with the keygen hint', async () => {
      const r = await runNbm(['eval', '--checkpoint', run, '--listen', 'tcp://0.0.0.0:5555', '--expect', '1', '--quiet']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/refusing to listen on tcp:\/\/0\.0\.0\.0:5555 without CURVE keys.*nbm keygen DIR/);
    });
  });

  describe('bad requests: exit 2 and a one-line message', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['no --checkpoint', ['--split', 'test'], /--checkpoint is required/],
      ['a missing checkpoint', ['--checkpoint', '/nonexistent/run'], /--checkpoint \/nonexistent\/run: no such file or directory/],
      ['an unknown flag', ['--checkpoint', 'x', '--bogus'], /Unknown option '--bogus'/],
      ['a bad split', ['--checkpoint', 'x', '--split', 'train'], /--split must be test or val, got 'train'/],
      ['too few AIS chains', ['--checkpoint', 'x', '--ais-chains', '1'], /--ais-chains must be an integer of at least 2, got 1/],
      ['a non-numeric --ais-steps', ['--checkpoint', 'x', '--ais-steps', 'many'], /--ais-steps must be a number, got 'many'/],
      ['--exact with --ais', ['--checkpoint', 'x', '--exact', '--ais'], /--exact and --ais exclude each other/],
      ['npy without files', ['--checkpoint', 'x', '--dataset', 'npy'], /--dataset npy needs --x FILE\.npy and --y FILE\.npy/],
      ['an unknown dataset', ['--checkpoint', 'x', '--dataset', 'cifar'], /--dataset must be mnist, fashion-mnist or npy/],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const r = await runNbm(['eval', ...args]);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(message);
        expect(r.stderr).to.not.match(/\n\s+at /);
      });
    }

    it('--exact with nh > 20 says why (2^nh states), and writes nothing', async () => {
      const wide = join(scratch.dir, 'wide');
      const t = await runNbm(['train', ...QUICK, '--hidden', '21', '--epochs', '0', '--max-steps', '1', '--out', wide]);
      expect(t.code, t.stderr).to.equal(0);
      const r = await runNbm(['eval', '--checkpoint', wide, '--exact', '--quiet']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/nbm eval: exact evaluation enumerates all 2\^nh hidden states .* nh = 21 \(2\^21 ≈ 2\.1e\+6 states\)/);
      expect(existsSync(join(wide, 'eval.json'))).to.equal(false);
    });
  });
});
