/**
 * The sweep's worker actor: the methods a worker process serves for `nbm sweep`. Merge them into a worker's
 * method table (`runWorker({ methods: { ...trainingWorker(o).methods, ...sweepWorker().methods } })`) or serve
 * them alone (worker-main.ts).
 *
 * | method        | args                  | returns              |
 * |---------------|-----------------------|----------------------|
 * | `trialEpochs` | [{@link TrialEpochsCall}] | {@link TrialEpochsResult} |
 *
 * One job at a time per worker (the runtime's actors are sequential); the job's training yields to the event
 * loop between steps, so heartbeats flow, and stops when the coordinator abandons the call.
 */
import type { ActorMethod } from '@nbm/runtime';
import { runTrialEpochs, type TrialEpochsCall } from './trial-run.ts';

/** The method names, as the coordinator calls them. */
export const SWEEP_METHODS = { trialEpochs: 'trialEpochs' } as const;

export interface SweepWorker {
  readonly methods: Record<string, ActorMethod>;
}

/** The sweep's actor methods. */
export function sweepWorker(): SweepWorker {
  const trialEpochs: ActorMethod = async (args, _tensors, ctx) => {
    const value = await runTrialEpochs(args[0] as TrialEpochsCall, { signal: ctx.signal });
    return { value };
  };
  return { methods: { [SWEEP_METHODS.trialEpochs]: trialEpochs } };
}
