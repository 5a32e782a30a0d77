/**
 * `nbm eval` on a pool of worker processes. The expensive part of an evaluation is one ln Z(x) per distinct context
 * (enumeration over 2^nh hidden states, or AIS); those are handed out to workers, one context per call, while the
 * rest (free energies, eigenvalues, the baseline) stays on the coordinator.
 *
 * Bit-identical to one process: a worker computes the same float64 Conditional from the same float32 parameters
 * and context, and AIS draws are keyed by (seed, context id, chain, step), so which process evaluates a context does
 * not change its ln Z. A worker that is lost (or times out) gives its context back to the others; when none is left,
 * this process finishes the rest itself.
 */
import { randomBytes } from 'node:crypto';
import { fromNamedTensors, namedTensors, parameterSpecs, type ModelConfig, type Parameters, type VisibleType } from '@nbm/model';
import {
  CallTimeoutError,
  WorkerLostError,
  startWorkerPool,
  type ActorMethod,
  type CoordinatorCurve,
  type TypedArray,
  type WorkerCommand,
  type WorkerHandle,
} from '@nbm/runtime';
import { aisLogZ } from './ais.ts';
import { conditionalAt, type Conditional } from './conditional.ts';
import { exactLogZ } from './exact.ts';

/** ln Z(x) for one context: exact (se 0), or AIS with its standard error and effective sample size. */
export interface PartitionEstimate {
  readonly logZ: number;
  readonly se: number;
  readonly ess?: number;
}

/** How ln Z is computed: the same for every context of an evaluation. */
export interface LogZSettings {
  readonly exact: boolean;
  readonly chains: number;
  readonly steps: number;
  readonly seed: number;
}

/** ln Z(x) for the context x (nx values) with id `contextId`: the single-process computation, used by both sides. */
export function partitionEstimate(model: ModelConfig, params: Parameters, x: Float32Array, contextId: number, s: LogZSettings): PartitionEstimate {
  return estimateAt(conditionalAt(model, params, x), model.visible, contextId, s);
}

/** ln Z of a Conditional already computed (`conditionalAt`). */
export function estimateAt(k: Conditional, visible: VisibleType, contextId: number, s: LogZSettings): PartitionEstimate {
  if (s.exact) return { logZ: exactLogZ(k, visible), se: 0 };
  const r = aisLogZ(k, visible, { chains: s.chains, steps: s.steps, seed: s.seed, contextId });
  return { logZ: r.logZ, se: r.se, ess: r.ess };
}

/**
 * Arguments of `evalLogZ`. Tensors: `x` (nx) the context, float32; on a worker's first call of a job also the
 * parameters `p0` … `p{n−1}` (float32, parameterSpecs order), which it keeps for the job's later calls.
 * It answers tensor `z`: float64 [logZ, se, ess] (ess NaN for exact).
 */
export interface EvalLogZCall {
  readonly job: string;
  readonly model: ModelConfig;
  readonly contextId: number;
  readonly settings: LogZSettings;
}

function receiveParameters(model: ModelConfig, tensors: Record<string, TypedArray>): Parameters {
  const specs = parameterSpecs(model);
  return { specs, values: fromNamedTensors(specs, tensors, 'p', 'evalLogZ: parameter') };
}

/**
 * The evaluation methods a worker serves (`evalLogZ`, `evalUnload`), next to training's and sampling's:
 * `runWorker({ methods: { ...trainingWorker(o).methods, ...samplingWorker().methods, ...evalWorker().methods }, … })`.
 */
export function evalWorker(): { methods: Record<string, ActorMethod>; close: () => void } {
  let loaded: { job: string; params: Parameters } | undefined;
  const methods: Record<string, ActorMethod> = {
    evalLogZ: ([arg], tensors) => {
      const call = arg as EvalLogZCall;
      if ('p0' in tensors) loaded = { job: call.job, params: receiveParameters(call.model, tensors) };
      if (!loaded || loaded.job !== call.job) throw new Error(`evalLogZ for job ${call.job}, but its parameters were not sent to this worker`);
      const x = tensors.x;
      if (!(x instanceof Float32Array) || x.length !== call.model.nx) throw new Error(`evalLogZ: tensor x must be float32 (nx) = (${call.model.nx})`);
      const z = partitionEstimate(call.model, loaded.params, x, call.contextId, call.settings);
      return { value: { contextId: call.contextId }, frames: { z: Float64Array.of(z.logZ, z.se, z.ess ?? NaN) } };
    },
    evalUnload: () => {
      loaded = undefined;
      return { value: true };
    },
  };
  return { methods, close: () => (loaded = undefined) };
}

/** Where the workers come from: spawned here and/or joining on `listen`. */
export interface EvalPoolOptions {
  /** local worker processes to spawn (`command`) */
  readonly spawn?: number;
  /** the nbm CLI's `worker` command (its `--connect` and timing flags are added here); needed with `spawn` */
  readonly command?: WorkerCommand;
  /** the coordinator's address for remote workers (default tcp://127.0.0.1:*); off loopback it needs `curve` */
  readonly listen?: string;
  /** workers to wait for, spawned ones included (default `spawn`) */
  readonly expect?: number;
  readonly curve?: CoordinatorCurve;
  readonly heartbeatMs?: number;
  readonly timeoutMs?: number;
  /** how long to wait for the expected workers, ms (default 300 000) */
  readonly startTimeoutMs?: number;
  /** one context's call is abandoned (and its worker dropped) after this long, ms (default 6 h) */
  readonly callTimeoutMs?: number;
  /** log lines (default stderr) */
  readonly log?: (line: string) => void;
}

export interface LogZContext {
  readonly id: number;
  readonly x: Float32Array;
}

const describeWorker = (h: WorkerHandle) => `${h.id} (${h.info.host} pid ${h.info.pid})`;

/**
 * ln Z for every context, on a pool of workers; `onDone(i, z)` as each finishes (in any order). Returns them in
 * the order of `contexts`.
 * @throws when the workers do not start in time, or a worker reports an error (everything started is shut down)
 */
export async function poolLogZ(
  o: EvalPoolOptions,
  model: ModelConfig,
  params: Parameters,
  contexts: readonly LogZContext[],
  settings: LogZSettings,
  onDone: (index: number, z: PartitionEstimate) => void = () => undefined,
): Promise<PartitionEstimate[]> {
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const spawn = o.spawn ?? 0;
  const expect = o.expect ?? spawn;
  if (!Number.isInteger(expect) || expect < 1) throw new Error(`an evaluation pool needs at least one worker, got ${expect}`);
  const job = `eval#${randomBytes(4).toString('hex')}`;
  const pool = await startWorkerPool({ job, listen: o.listen, curve: o.curve, heartbeatMs: o.heartbeatMs, timeoutMs: o.timeoutMs, spawn, command: o.command, log });
  const { coordinator } = pool;
  try {
    if (o.listen !== undefined) log(pool.announcement(expect));
    const handles = await pool.waitForWorkers(expect, o.startTimeoutMs ?? 300_000);
    log(`evaluating ${contexts.length} context(s) on ${handles.length} worker(s): ${handles.map(describeWorker).join(', ')}`);

    const results: Array<PartitionEstimate | undefined> = new Array(contexts.length);
    const queue = contexts.map((_, i) => i);
    const paramTensors = namedTensors(params.values);
    const callTimeoutMs = o.callTimeoutMs ?? 6 * 3600_000;
    const record = (i: number, z: PartitionEstimate) => {
      results[i] = z;
      onDone(i, z);
    };
    const serve = async (h: WorkerHandle) => {
      let loaded = false;
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const c = contexts[i];
        const call: EvalLogZCall = { job, model, contextId: c.id, settings };
        try {
          const r = await coordinator.call(h.id, 'evalLogZ', [call], loaded ? { x: c.x } : { ...paramTensors, x: c.x }, { timeoutMs: callTimeoutMs });
          const z = r.tensors.z;
          if (!(z instanceof Float64Array) || z.length !== 3) throw new Error(`worker ${describeWorker(h)} answered context ${c.id} without a float64 tensor z of 3 values`);
          loaded = true;
          record(i, Number.isNaN(z[2]) ? { logZ: z[0], se: z[1] } : { logZ: z[0], se: z[1], ess: z[2] });
        } catch (e) {
          if (e instanceof CallTimeoutError || e instanceof WorkerLostError) {
            if (e instanceof CallTimeoutError) coordinator.drop(h.id, `no answer for context ${c.id} within ${callTimeoutMs} ms`);
            log(`worker ${describeWorker(h)} lost (${(e as Error).message}); its context goes to another`);
            queue.unshift(i);
            return;
          }
          throw e;
        }
      }
    };
    await Promise.all(handles.map(serve));
    if (queue.length > 0) {
      log(`no worker left: evaluating the remaining ${queue.length} context(s) in this process`);
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) record(i, partitionEstimate(model, params, contexts[i].x, contexts[i].id, settings));
    }
    return results as PartitionEstimate[];
  } finally {
    await pool.close('evaluation finished');
  }
}
