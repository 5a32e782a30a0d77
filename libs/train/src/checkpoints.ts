/** A training state to and from a run's checkpoint (the file and the latest-checkpoint rule are @nbm/run's). */
import type { CheckpointState } from '@nbm/checkpoint';
import { parameterSpecs, type ModelConfig } from '@nbm/model';
import { saveRunCheckpoint } from '@nbm/run';
import type { TrainState } from './state.ts';

/** Writes `state` as checkpoint `name` of run `dir` and makes it the latest; `config` is the run's `{seed, config}`. */
export function writeCheckpoint(dir: string, name: string, state: TrainState, seed: number, config: object): Promise<string> {
  return saveRunCheckpoint(dir, name, {
    params: state.params.specs.map((s, i) => ({ name: s.name, shape: [...s.shape], data: state.params.values[i] })),
    optimizer: { step: state.optimizer.step, m: state.optimizer.m, v: state.optimizer.v },
    rng: { seed, epoch: state.epoch, stepInEpoch: state.stepInEpoch, globalStep: state.globalStep },
    config,
  });
}

/** Parameters, optimiser and stream position of a checkpoint loaded with `expectedTensors(model)`. */
export function restoreState(c: CheckpointState, model: ModelConfig): TrainState {
  const specs = parameterSpecs(model);
  const byName = new Map(c.params.map((p, i) => [p.name, i]));
  const order = specs.map((s) => byName.get(s.name)!);
  return {
    params: { specs, values: order.map((i) => c.params[i].data) },
    optimizer: { step: c.optimizer.step, m: order.map((i) => c.optimizer.m[i]), v: order.map((i) => c.optimizer.v[i]) },
    epoch: c.rng.epoch,
    stepInEpoch: c.rng.stepInEpoch,
    globalStep: c.rng.globalStep,
    nonFiniteRun: 0,
  };
}
