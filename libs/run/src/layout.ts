/**
 * Where each file of a run directory lives (docs/run-on-disk.md#a-run-directory), and how checkpoints and
 * pictures are named.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The files and folders of run directory `dir`. */
export const runPaths = (dir: string) => ({
  config: join(dir, 'config.json'),
  metrics: join(dir, 'metrics.csv'),
  checkpoints: join(dir, 'checkpoints'),
  /** checkpoints/latest.json: the checkpoint a resume starts from, written after the checkpoint itself */
  latest: join(dir, 'checkpoints', 'latest.json'),
  samples: join(dir, 'samples'),
  components: join(dir, 'components'),
  loss: join(dir, 'loss.png'),
  log: join(dir, 'train.log'),
  /** who is in a distributed run's worker pool (`nbm status`) */
  status: join(dir, 'status.json'),
  tensorboard: join(dir, 'tensorboard'),
});

/** Checkpoint file names: epoch-NNN.safetensors at epoch ends, step-NNNNNNNN.safetensors in between. */
export const epochCheckpointName = (epoch: number) => `epoch-${String(epoch).padStart(3, '0')}.safetensors`;
export const stepCheckpointName = (step: number) => `step-${String(step).padStart(8, '0')}.safetensors`;
/** Pictures of an epoch's end. */
export const picturesName = (epoch: number) => `epoch-${String(epoch).padStart(3, '0')}.png`;
/** Pictures of a run that ended inside an epoch (--max-steps, a stop request): named by the global step. */
export const stepPicturesName = (step: number) => `step-${String(step).padStart(8, '0')}.png`;

const CHECKPOINT_NAME = /^(epoch-\d+|step-\d+)\.safetensors$/;

/** The checkpoint files in a checkpoints folder, in name order. */
export function checkpointFiles(checkpointsDir: string): string[] {
  if (!existsSync(checkpointsDir)) return [];
  return readdirSync(checkpointsDir).filter((f) => CHECKPOINT_NAME.test(f)).sort().map((f) => join(checkpointsDir, f));
}
