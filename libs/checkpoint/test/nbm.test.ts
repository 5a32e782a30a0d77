import { expect } from 'chai';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHECKPOINT_FORMAT,
  CheckpointError,
  loadCheckpoint,
  readSafetensors,
  saveCheckpoint,
  writeSafetensors,
  type CheckpointState,
} from '@nbm/checkpoint';
import { bytesOf, handMadeFile, tempDir } from './helpers.ts';

/** A small NBM-shaped state: nx = 12, hidden 32, ny = 6, nh = 3. */
function state(): CheckpointState {
  const shapes: Array<[string, number[]]> = [
    ['bias_net.net.0.weight', [32, 12]],
    ['bias_net.net.0.bias', [32]],
    ['bias_net.net.2.weight', [6, 32]],
    ['bias_net.net.2.bias', [6]],
    ['weights_net.net.0.weight', [18, 12]],
    ['weights_net.net.0.bias', [18]],
  ];
  let k = 0;
  const fill = (n: number) => Float32Array.from({ length: n }, () => Math.sin(++k) * 1e-3);
  const params = shapes.map(([name, shape]) => ({ name, shape, data: fill(shape.reduce((a, b) => a * b, 1)) }));
  params[0].data[0] = -0;
  params[0].data[1] = 1e-42; // denormal
  return {
    params,
    optimizer: { step: 4300, m: params.map((p) => fill(p.data.length)), v: params.map((p) => fill(p.data.length).map(Math.abs)) },
    rng: { seed: 1, epoch: 10, stepInEpoch: 7, globalStep: 4300 },
    config: { visible: 'gaussian', hidden: 3, lr: 5e-4, weightDecay: { bias: 0.5, precision: 0.5, weights: 1 } },
  };
}

const expected = () => state().params.map(({ name, shape }) => ({ name, shape }));

async function rejection(p: Promise<unknown>): Promise<CheckpointError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as CheckpointError,
  );
}

describe('NBM checkpoints', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('round-trips parameters, moments, step, RNG state and config exactly', async () => {
    const path = join(dir, 'epoch-010.safetensors');
    const s = state();
    await saveCheckpoint(path, s);
    for (const back of [await loadCheckpoint(path), await loadCheckpoint(path, expected())]) {
      expect(back.params.map((p) => [p.name, p.shape])).to.deep.equal(s.params.map((p) => [p.name, p.shape]));
      back.params.forEach((p, i) => {
        expect(bytesOf(p.data)).to.deep.equal(bytesOf(s.params[i].data));
        expect(bytesOf(back.optimizer.m[i])).to.deep.equal(bytesOf(s.optimizer.m[i]));
        expect(bytesOf(back.optimizer.v[i])).to.deep.equal(bytesOf(s.optimizer.v[i]));
      });
      expect(back.optimizer.step).to.equal(4300);
      expect(back.rng).to.deep.equal(s.rng);
      expect(back.config).to.deep.equal(s.config);
    }
    expect(readdirSync(dir)).to.deep.equal(['epoch-010.safetensors']);
  });

  it('uses the PyTorch state_dict names and the documented metadata keys', async () => {
    const path = join(dir, 'c.safetensors');
    await saveCheckpoint(path, state());
    const { tensors, metadata } = await readSafetensors(path);
    expect(tensors.get('bias_net.net.0.weight')?.shape).to.deep.equal([32, 12]);
    expect(tensors.get('optimizer.exp_avg.bias_net.net.0.weight')?.shape).to.deep.equal([32, 12]);
    expect(tensors.get('optimizer.exp_avg_sq.weights_net.net.0.bias')?.dtype).to.equal('F32');
    expect(tensors.size).to.equal(18);
    expect(metadata['nbm.format']).to.equal(CHECKPOINT_FORMAT);
    expect(JSON.parse(metadata['nbm.optimizer.step'])).to.equal(4300);
    expect(JSON.parse(metadata['nbm.rng'])).to.deep.equal({ seed: 1, epoch: 10, stepInEpoch: 7, globalStep: 4300 });
    expect(JSON.parse(metadata['nbm.config']).hidden).to.equal(3);
  });

  it('returns parameters in the order the model expects', async () => {
    const path = join(dir, 'c.safetensors');
    await saveCheckpoint(path, state());
    const reversed = expected().reverse();
    const back = await loadCheckpoint(path, reversed);
    expect(back.params.map((p) => p.name)).to.deep.equal(reversed.map((e) => e.name));
    expect(bytesOf(back.optimizer.v[0])).to.deep.equal(bytesOf(state().optimizer.v[5]));
  });

  it('a wrong shape names the tensor, both shapes and a likely cause', async () => {
    const path = join(dir, 'epoch-001.safetensors');
    await saveCheckpoint(path, state());
    const want = expected();
    want[0] = { name: 'bias_net.net.0.weight', shape: [32, 10] };
    const err = await rejection(loadCheckpoint(path, want));
    expect(err).to.be.instanceOf(CheckpointError);
    expect(err.kind).to.equal('mismatch');
    expect(err.message).to.equal(
      `checkpoint ${path}: bias_net.net.0.weight has shape [32,12], expected [32,10] (was it trained with a different --hidden/dataset?)`,
    );
  });

  it('a missing or an extra parameter is an error', async () => {
    const path = join(dir, 'c.safetensors');
    await saveCheckpoint(path, state());
    const more = [...expected(), { name: 'precision_net.net.0.weight', shape: [32, 12] }];
    expect((await rejection(loadCheckpoint(path, more))).message).to.equal(
      `checkpoint ${path}: missing tensor precision_net.net.0.weight (expected shape [32,12]); was it written for a different model?`,
    );
    expect((await rejection(loadCheckpoint(path, expected().slice(1)))).message).to.match(
      /has parameters the model does not have: bias_net\.net\.0\.weight/,
    );
  });

  it('a flipped byte is refused as corrupt', async () => {
    const path = join(dir, 'c.safetensors');
    await saveCheckpoint(path, state());
    const bytes = readFileSync(path);
    bytes[bytes.length - 100] ^= 0x10;
    writeFileSync(path, bytes);
    const err = await rejection(loadCheckpoint(path));
    expect(err.message).to.equal(`checkpoint ${path} is corrupt: checksum mismatch`);
  });

  it('a plain safetensors file is not taken for an NBM checkpoint', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array(1) }], {});
    expect((await rejection(loadCheckpoint(path))).message).to.equal(
      `checkpoint ${path}: not an nbm checkpoint (no nbm.format in its metadata)`,
    );
  });

  it('a checkpoint without checksums is refused', async () => {
    const path = join(dir, 'c.safetensors');
    writeFileSync(path, handMadeFile('{"__metadata__":{"nbm.format":"nbm-checkpoint/1"}}', []));
    expect((await rejection(loadCheckpoint(path))).message).to.equal(
      `checkpoint ${path} is corrupt: it carries no checksum (nbm.sha256), so it cannot be verified`,
    );
  });

  it('inconsistent state is refused before anything is written', async () => {
    const path = join(dir, 'c.safetensors');
    const s = state();
    s.optimizer.m.pop();
    expect((await rejection(saveCheckpoint(path, s))).message).to.equal(
      `cannot write checkpoint ${path}: 6 parameters but 5 first and 6 second moments`,
    );
    const t = state();
    t.optimizer.v[2] = new Float32Array(3);
    expect((await rejection(saveCheckpoint(path, t))).message).to.match(/second moment of bias_net\.net\.2\.weight does not match/);
    const u = state();
    u.rng.epoch = -1;
    expect((await rejection(saveCheckpoint(path, u))).message).to.match(/rng\.epoch = -1 is not a non-negative integer/);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('a failed save leaves the previous checkpoint intact', async () => {
    const path = join(dir, 'c.safetensors');
    await saveCheckpoint(path, state());
    const before = readFileSync(path);
    const s = state();
    s.params[1].shape = [31];
    await rejection(saveCheckpoint(path, s));
    expect(readFileSync(path).equals(before)).to.equal(true);
  });
});
