/** A tiny trained-looking run on disk (npy data, a checkpoint, latest.json), for the end-to-end tests of `evaluate`. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '@nbm/checkpoint';
import { writeNpy } from '@nbm/data';
import { initParameters, type ModelConfig, type Parameters } from '@nbm/model';
import { fillNormal, fillUniform } from '@nbm/random';

export interface TinyRun {
  readonly dir: string;
  readonly model: ModelConfig;
  readonly params: Parameters;
  /** x.npy (n, nx): three distinct contexts, repeated */
  readonly xPath: string;
  /** y.npy (n, ny) float32: visible units as given */
  readonly yPath: string;
  readonly remove: () => void;
}

export interface TinyRunOptions {
  readonly visible: 'gaussian' | 'ising';
  readonly nh?: number;
  /** multiply the weights network's parameters by this (0: a W = 0 model) */
  readonly weightScale?: number;
  readonly rows?: number;
  readonly globalStep?: number;
  /** checkpoint file name (default epoch-001.safetensors) */
  readonly name?: string;
  /** write checkpoints/latest.json (default true) */
  readonly pointer?: boolean;
}

const CONTEXTS = [
  [1, 0, 0],
  [0, 1, 0],
  [0.5, -1, 2],
];

/** Writes the npy pair, the checkpoint and its pointer under a fresh temporary run directory. */
export async function writeTinyRun(o: TinyRunOptions, parent?: string): Promise<TinyRun> {
  const dir = parent ?? mkdtempSync(join(tmpdir(), 'nbm-eval-test-'));
  const model: ModelConfig = { nx: 3, ny: 6, nh: o.nh ?? 5, width: 4, visible: o.visible };
  const n = o.rows ?? 60;
  const x = new Float32Array(n * model.nx);
  for (let r = 0; r < n; r++) x.set(CONTEXTS[r % 3], r * model.nx);
  const y = new Float32Array(n * model.ny);
  if (o.visible === 'gaussian') {
    fillNormal(y, { seed: 21, stream: 0x7e57 }, 0, 0, 0);
  } else {
    fillUniform(y, { seed: 21, stream: 0x7e57 }, 0, 0, 0);
    for (let i = 0; i < y.length; i++) y[i] = y[i] < 0.4 ? 1 : -1;
  }
  const xPath = join(dir, 'x.npy');
  const yPath = join(dir, 'y.npy');
  writeNpy(xPath, x, [n, model.nx]);
  writeNpy(yPath, y, [n, model.ny]);

  const params = initParameters(model, 5);
  const scale = o.weightScale ?? 8; // the default init makes W tiny; trained models have λ_max(J) ≈ 1.5
  params.specs.forEach((s, i) => {
    if (s.group === 'weights') params.values[i] = params.values[i].map((v) => v * scale);
  });
  const checkpoints = join(dir, 'checkpoints');
  mkdirSync(checkpoints, { recursive: true });
  const name = o.name ?? 'epoch-001.safetensors';
  const config = { dataset: 'npy', x: xPath, y: yPath, visible: o.visible, hidden: model.nh, width: model.width, seed: 1, trainExamples: 0 };
  const zeros = params.values.map((v) => new Float32Array(v.length));
  await saveCheckpoint(join(checkpoints, name), {
    params: params.specs.map((s, i) => ({ name: s.name, shape: [...s.shape], data: params.values[i] })),
    optimizer: { step: o.globalStep ?? 7, m: zeros, v: zeros },
    rng: { seed: 1, epoch: 1, stepInEpoch: 0, globalStep: o.globalStep ?? 7 },
    config: { seed: 1, config },
  });
  if (o.pointer ?? true) writeFileSync(join(checkpoints, 'latest.json'), JSON.stringify({ file: name, globalStep: o.globalStep ?? 7 }) + '\n');
  return { dir, model, params, xPath, yPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
