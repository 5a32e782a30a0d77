/**
 * Training on the WebGPU engine, as users run it: `nbm train --kernel webgpu` in its own process, on the machine's
 * adapter (SwiftShader, a software Vulkan GPU, on CI: slow, so the model is small). It tracks the native kernel's
 * run step for step; 1 and 3 WebGPU workers end bitwise equal; `auto` never takes a software adapter; a missing
 * adapter is one clear line.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '@nbm/data';
import { loadCheckpoint } from '@nbm/checkpoint';
import { csvRows, runNbm, scratchDir } from './helpers.ts';
import { REQUIRE_GPU, SWIFTSHADER_ICD } from '../libs/webgpu/test/gpu.ts';

const GPU_ENV = process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES ? {} : { VK_ICD_FILENAMES: SWIFTSHADER_ICD };

/** 24 visible units, 4 one-hot classes: a model SwiftShader trains in seconds. */
function writeData(dir: string): string[] {
  const n = 240;
  const x = new Float32Array(n * 4);
  const y = new Float32Array(n * 24);
  for (let i = 0; i < n; i++) {
    x[i * 4 + (i % 4)] = 1;
    for (let j = 0; j < 24; j++) y[i * 24 + j] = 0.5 + 0.4 * Math.sin(i * 0.37 + j * (1 + (i % 4)));
  }
  writeNpy(join(dir, 'x.npy'), x, [n, 4]);
  writeNpy(join(dir, 'y.npy'), y, [n, 24]);
  return ['--dataset', 'npy', '--x', join(dir, 'x.npy'), '--y', join(dir, 'y.npy')];
}

const finalCheckpoint = (dir: string) => loadCheckpoint(join(dir, 'checkpoints', JSON.parse(readFileSync(join(dir, 'checkpoints', 'latest.json'), 'utf8')).file));
const sameBytes = (x: Float32Array, y: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));

const SMALL = ['--batch-size', '24', '--block-size', '8', '--hidden', '6', '--width', '8', '--gibbs-steps', '4', '--log-every', '1', '--no-pictures', '--quiet', '--lr', '3e-3'];

describe('training on the WebGPU engine (nbm train --kernel webgpu)', function () {
  this.timeout(300_000);
  const scratch = scratchDir();
  let data: string[] = [];
  before(function () {
    if (!existsSync(SWIFTSHADER_ICD) && !GPU_ENV.VK_ICD_FILENAMES) {
      if (REQUIRE_GPU) throw new Error(`${SWIFTSHADER_ICD} is missing: .ci/run installs chromium for it`);
      console.log(`      skipped: no Vulkan driver here (${SWIFTSHADER_ICD} is missing)`);
      this.skip();
    }
    data = writeData(scratch.dir);
  });
  after(() => scratch.remove());

  const train = (args: string[], env: NodeJS.ProcessEnv = GPU_ENV) => runNbm(['train', ...data, ...SMALL, ...args], { env, timeoutMs: 240_000 });

  // CD differs by float32 rounding and the GPU's float32 normals: ~1e-4 absolute; late in training CD nears 0, so
  // the bound is relative with an absolute floor. A Bernoulli flip would move one step by ~|ΔF|/B ≫ this.
  it('tracks the native kernel for 200 steps (CD within 1e-3 relative + 5e-4, MSE_bias within 1e-4, every step)', async () => {
    const gpu = join(scratch.dir, 'gpu');
    const cpu = join(scratch.dir, 'cpu');
    const a = await train(['--engine', 'webgpu', '--max-steps', '200', '--out', gpu]); // --engine: --kernel's newer name
    expect(a.code, a.stderr).to.equal(0);
    const b = await train(['--kernel', 'native', '--max-steps', '200', '--out', cpu]);
    expect(b.code, b.stderr).to.equal(0);
    const rows = (dir: string) => csvRows(join(dir, 'metrics.csv')).filter((r) => r.kind === 'train');
    const [g, n] = [rows(gpu), rows(cpu)];
    expect(g.length).to.equal(200);
    g.forEach((r, i) => {
      const cd = Number(r.cd_loss);
      const ref = Number(n[i].cd_loss);
      expect(Math.abs(cd - ref), `step ${r.step} CD`).to.be.at.most(1e-3 * Math.abs(ref) + 5e-4);
      expect(Math.abs(Number(r.mse_bias) - Number(n[i].mse_bias)), `step ${r.step} MSE_bias`).to.be.at.most(1e-4);
    });
    const config = JSON.parse(readFileSync(join(gpu, 'config.json'), 'utf8'));
    expect(config.runtime.kernel.name).to.equal('webgpu');
    expect(config.runtime.kernel.device).to.be.a('string').and.not.equal('');
  });

  it('1 and 3 WebGPU workers end bitwise equal (exact sums on the device, uneven shards)', async () => {
    const one = join(scratch.dir, 'w1');
    const three = join(scratch.dir, 'w3');
    for (const [n, out] of [[1, one], [3, three]] as const) {
      const r = await train(['--kernel', 'webgpu', '--max-steps', '8', '--workers', String(n), '--out', out]);
      expect(r.code, r.stderr).to.equal(0);
    }
    const [a, b] = [await finalCheckpoint(one), await finalCheckpoint(three)];
    expect(a.rng.globalStep).to.equal(8);
    a.params.forEach((p, i) => expect(sameBytes(p.data, b.params[i].data), p.name).to.equal(true));
  });

  it('a run stopped at step 4 and resumed to 8 ends bitwise equal to the 8-step runs above', async () => {
    const out = join(scratch.dir, 'resumed');
    const first = await train(['--kernel', 'webgpu', '--max-steps', '4', '--out', out]);
    expect(first.code, first.stderr).to.equal(0);
    const second = await runNbm(['train', '--resume', out, '--max-steps', '8', '--quiet'], { env: GPU_ENV, timeoutMs: 240_000 });
    expect(second.code, second.stderr).to.equal(0);
    const [a, b] = [await finalCheckpoint(out), await finalCheckpoint(join(scratch.dir, 'w1'))];
    expect(a.rng.globalStep).to.equal(8);
    a.params.forEach((p, i) => expect(sameBytes(p.data, b.params[i].data), p.name).to.equal(true));
  });

  it('nbm sample --engine webgpu: byte-identical on 1 process and 2 workers, and the adapter recorded', async () => {
    const run = join(scratch.dir, 'gpu'); // the 200-step run above
    const request = ['--checkpoint', run, '--classes', '0-3', '--per-class', '5', '--gibbs-steps', '4', '--seed', '7', '--block-size', '8', '--engine', 'webgpu', '--no-pictures', '--quiet'];
    const outs: string[] = [];
    for (const [name, extra] of [['s-local', ['--chunk', '16']], ['s-w2', ['--workers', '2', '--chunk', '8']]] as const) {
      const out = join(scratch.dir, name);
      const r = await runNbm(['sample', ...request, '--out', out, ...extra], { env: GPU_ENV, timeoutMs: 120_000 });
      expect(r.code, r.stderr).to.equal(0);
      outs.push(out);
    }
    const [a, b] = outs.map((o) => readFileSync(join(o, 'samples.npy')));
    expect(a.length).to.be.greaterThan(20 * 24 * 4);
    expect(a.equals(b)).to.equal(true);
    const meta = JSON.parse(readFileSync(join(outs[0], 'sample.json'), 'utf8'));
    expect(meta.request.backend).to.equal('webgpu');
  });

  it("the tfjs engine on tfjs's webgpu backend tracks it on the cpu backend (CD within 1e-5 relative, 5 steps)", async () => {
    const [gpu, cpu] = [join(scratch.dir, 'tfjs-webgpu'), join(scratch.dir, 'tfjs-cpu')];
    for (const [backend, out] of [['webgpu', gpu], ['cpu', cpu]]) {
      const r = await train(['--kernel', 'tfjs', '--backend', backend, '--max-steps', '5', '--out', out]);
      expect(r.code, r.stderr).to.equal(0);
    }
    const rows = (dir: string) => csvRows(join(dir, 'metrics.csv')).filter((r) => r.kind === 'train');
    const [g, c] = [rows(gpu), rows(cpu)];
    expect(g.length).to.equal(5);
    g.forEach((r, i) => expect(Math.abs(Number(r.cd_loss) - Number(c[i].cd_loss)), `step ${r.step}`).to.be.at.most(1e-5 * Math.abs(Number(c[i].cd_loss))));
    expect(JSON.parse(readFileSync(join(gpu, 'config.json'), 'utf8')).runtime.backend.name).to.equal('webgpu');
  });

  it('auto passes over a software adapter and says so', async () => {
    const out = join(scratch.dir, 'auto');
    const r = await train(['--kernel', 'auto', '--max-steps', '1', '--out', out]);
    expect(r.code, r.stderr).to.equal(0);
    const kernel = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).runtime.kernel;
    expect(kernel.name).to.equal('native');
    expect(kernel.reason).to.match(/passed over webgpu \(its only adapter is a software one/);
  });

  it('no adapter: one line naming what was looked at, a non-zero exit, and no run directory', async () => {
    const out = join(scratch.dir, 'none');
    const r = await train(['--kernel', 'webgpu', '--max-steps', '1', '--out', out], { VK_ICD_FILENAMES: join(scratch.dir, 'no-such-icd.json') });
    expect(r.code).to.not.equal(0);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('nbm train:'));
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.match(/--engine webgpu: .*not available: no Vulkan GPU driver \(.*no-such-icd\.json \(missing\)/);
    expect(r.stderr).to.not.match(/\n\s+at /);
    expect(existsSync(out) ? readdirSync(out) : []).to.deep.equal([]);
    const t = await train(['--kernel', 'tfjs', '--backend', 'webgpu', '--max-steps', '1', '--out', out], { VK_ICD_FILENAMES: join(scratch.dir, 'no-such-icd.json') });
    expect(t.code).to.not.equal(0);
    expect(t.stderr.trim().split('\n').filter((l) => l.startsWith('nbm train:'))).to.deep.equal([
      "nbm train: --backend webgpu: tfjs's webgpu backend cannot start: Dawn found no WebGPU adapter (a Vulkan driver: the GPU's, or SwiftShader with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)",
    ]);
    expect(existsSync(out) ? readdirSync(out) : []).to.deep.equal([]);
  });
});
