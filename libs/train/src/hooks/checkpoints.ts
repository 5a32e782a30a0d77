/** Checkpoints every kept state (checkpoints/NAME.safetensors, then latest.json): what --resume continues from. */
import { writeCheckpoint } from '../checkpoints.ts';
import type { TrainHooks } from './hooks.ts';

export function checkpointsHook(): TrainHooks {
  return {
    async onSave(run, s) {
      await writeCheckpoint(run.dir, s.name, s.state, run.config.seed, { seed: run.config.seed, config: run.config });
    },
  };
}
