import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '@nbm/checkpoint';
import { initParameters, type ModelConfig } from '@nbm/model';

/** A temporary directory for one suite, removed after it. */
export function scratch(prefix = 'nbm-sample-'): { path: string } {
  const holder = { path: '' };
  before(() => {
    holder.path = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => rmSync(holder.path, { recursive: true, force: true }));
  return holder;
}

/**
 * A run directory holding a freshly initialised model as its latest checkpoint (what `nbm train` leaves, without
 * the training): DIR/checkpoints/epoch-001.safetensors and latest.json.
 */
export async function makeRun(dir: string, model: ModelConfig, settings: Record<string, unknown> = {}, seed = 1): Promise<string> {
  const params = initParameters(model, seed);
  const zeros = params.values.map((v) => new Float32Array(v.length));
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  const file = join(dir, 'checkpoints', 'epoch-001.safetensors');
  await saveCheckpoint(file, {
    params: params.specs.map((s, i) => ({ name: s.name, shape: [...s.shape], data: params.values[i] })),
    optimizer: { step: 0, m: zeros, v: zeros },
    rng: { seed, epoch: 1, stepInEpoch: 0, globalStep: 0 },
    config: { seed, config: { dataset: 'mnist', visible: model.visible, hidden: model.nh, width: model.width, gibbsSteps: 3, ...settings } },
  });
  writeFileSync(join(dir, 'checkpoints', 'latest.json'), JSON.stringify({ file: 'epoch-001.safetensors', globalStep: 0 }) + '\n');
  return file;
}
