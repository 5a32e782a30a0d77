/**
 * The training actor a worker process serves: the coordinator configures it, places it in the ring, gives it
 * the state, and then calls `step` for each minibatch. Each call is one method of this table.
 */
import { Ring, collectReceivedFrames } from '@nbm/collective';
import { parameterSpecs } from '@nbm/model';
import type { ActorMethod } from '@nbm/runtime';
import type { TrainConfig } from '../config.ts';
import { gradientLayout, type GradientLayout } from '@nbm/collective';
import { shardGradients } from '../shard.ts';
import { stepRows } from '../step-rows.ts';
import type { TrainState } from '../state.ts';
import { engineOf, prepare, type Prepared } from '../trainer.ts';
import { reduceAndApply } from '../update.ts';
import { validationMetrics } from '../validate.ts';
import type { StepOrder } from '../executor.ts';
import { fingerprint } from './fingerprint.ts';
import { ringReducer } from './ring-reducer.ts';
import { copyState, decodeState, encodeState, restoreInto, stateHash, type StateMeta } from './state-codec.ts';

export interface WorkerActorOptions {
  /** host part of the ring socket's address (e.g. 127.0.0.1, or this host's address on the cluster network) */
  readonly ringHost: string;
  readonly ringCurve?: { publicKey: string; secretKey: string; serverKey: string };
  readonly log?: (line: string) => void;
  /** this worker's WebGPU adapter index (`nbm worker --device`), in place of the run's */
  readonly device?: number;
}

/** Arguments of the `step` method. */
export interface StepCall {
  readonly order: StepOrder;
  /** blocks [first, last) of the minibatch are this worker's */
  readonly first: number;
  readonly last: number;
  /** the ring tag: the run and the attempt (unique per try of a step) */
  readonly tag: { run: string; step: number };
  readonly timeoutMs: number;
  readonly hash: boolean;
}

export interface StepResult {
  readonly metrics: { cdLoss: number; mseBias: number; mseVar: number; finite: boolean };
  readonly skipped: boolean;
  readonly computeMs: number;
  readonly reduceMs: number;
  readonly hash?: string;
}

class TrainingActor {
  private prepared?: Prepared;
  private state?: TrainState;
  private layout?: GradientLayout;
  private ring?: Ring;
  /**
   * The states before this replica's last two steps, so that a step that failed somewhere can be undone even
   * after the next one (run ahead, see ClusterExecutor) started: each ≈ 7 MB at the paper's size, reused.
   */
  private undo: TrainState[] = [];

  constructor(private readonly opts: WorkerActorOptions) {}

  private need(): { p: Prepared; state: TrainState; layout: GradientLayout } {
    if (!this.prepared || !this.state || !this.layout) throw new Error('worker is not configured: call configure and setState first');
    return { p: this.prepared, state: this.state, layout: this.layout };
  }

  async configure(config: TrainConfig) {
    // a second configure (the coordinator's retry) replaces the first: release its engine (a GPU device)
    this.prepared?.engine?.engine.dispose();
    this.prepared = await prepare(this.opts.device === undefined ? config : { ...config, device: this.opts.device });
    this.state = undefined;
    return {
      fingerprint: fingerprint(this.prepared),
      backend: this.prepared.backend.name,
      engine: engineOf(this.prepared).engine.name,
      // what decides the bits of a block's gradient: replicas must agree on it (native tiers agree with each other)
      compute: computeDomain(this.prepared),
    };
  }

  async openRing(): Promise<string> {
    this.ring?.close();
    this.ring = await Ring.bind(`tcp://${this.opts.ringHost}:*`, this.opts.ringCurve ? { curve: this.opts.ringCurve } : {});
    return this.ring.address;
  }

  connectRing(placement: { rank: number; world: number; right: string }): void {
    if (!this.ring) throw new Error('connectRing before openRing');
    this.ring.connect(placement);
  }

  setState(meta: StateMeta, tensors: Record<string, ArrayBufferView>): string {
    if (!this.prepared) throw new Error('setState before configure');
    const specs = this.state?.params.specs ?? initialSpecs(this.prepared);
    this.state = decodeState(specs, meta, tensors);
    this.layout = gradientLayout(this.state.params);
    this.undo = [];
    return stateHash(this.state);
  }

  getState() {
    const { state } = this.need();
    return encodeState(state);
  }

  /** One step on this replica's shard; `signal` (the call's, aborted by the coordinator) ends a ring wait at once. */
  async step(call: StepCall, signal?: AbortSignal): Promise<StepResult> {
    const { p, state, layout } = this.need();
    if (!this.ring) throw new Error('step before the ring was formed');
    if (state.globalStep !== call.order.globalStep) {
      throw new Error(`replica is at step ${state.globalStep} but was asked for step ${call.order.globalStep}`);
    }
    this.keepBefore(state);
    // the last step's received frames go now, not in the middle of this step's collective (alone, it has none)
    if (this.ring.world > 1) collectReceivedFrames();
    const rows = stepRows(p.train.count, p.config, call.order);
    const spec = { seed: p.config.seed, globalStep: call.order.globalStep, visible: p.config.visible, gibbsSteps: p.config.gibbsSteps, blockSize: p.config.blockSize, rows };
    const t0 = performance.now();
    const { engine, ops } = engineOf(p);
    const grads = await shardGradients(engine, ops, layout, state.params, p.train, spec, call.first, call.last);
    const computeMs = performance.now() - t0;
    const reducer = ringReducer(this.ring, call.tag, call.timeoutMs, signal);
    const out = await reduceAndApply(state, grads, p.config, layout, call.order.examples, call.order.totalBlocks, p.model.ny, reducer, ops);
    state.epoch = call.order.epoch;
    state.stepInEpoch = call.order.stepInEpoch + 1;
    const result: StepResult = { metrics: out.metrics, skipped: out.skipped, computeMs, reduceMs: out.reduceMs };
    return call.hash ? { ...result, hash: stateHash(state) } : result;
  }

  /** Keeps the state before step `state.globalStep`, overwriting the buffer that does not hold the previous one. */
  private keepBefore(state: TrainState): void {
    if (this.undo.length < 2) {
      this.undo.push(copyState(state));
      return;
    }
    restoreInto(this.undo.find((b) => b.globalStep !== state.globalStep - 1) ?? this.undo[0], state);
  }

  /** Undoes step `globalStep` if this replica applied it (idempotent: a replica still at `globalStep` is left alone). */
  rollback(globalStep: number): number {
    const { state } = this.need();
    const before = this.undo.find((b) => b.globalStep === globalStep);
    if (state.globalStep === globalStep + 1 && before) restoreInto(state, before);
    if (state.globalStep !== globalStep) throw new Error(`cannot roll back to step ${globalStep}: replica is at step ${state.globalStep}`);
    return state.globalStep;
  }

  async validate(epoch: number) {
    const { p, state } = this.need();
    return validationMetrics(engineOf(p).engine, state.params, p.val, p.config, epoch);
  }

  hash(): string {
    return stateHash(this.need().state);
  }

  close(): void {
    this.ring?.close();
    this.prepared?.engine?.engine.dispose();
  }
}

function initialSpecs(p: Prepared) {
  return parameterSpecs(p.model);
}

/** The actor's methods as the runtime serves them, plus a close hook for the worker process. */
export function trainingWorker(opts: WorkerActorOptions): { methods: Record<string, ActorMethod>; close: () => void } {
  const actor = new TrainingActor(opts);
  const methods: Record<string, ActorMethod> = {
    configure: async ([config]) => ({ value: await actor.configure(config as TrainConfig) }),
    openRing: async () => ({ value: await actor.openRing() }),
    connectRing: ([placement]) => {
      actor.connectRing(placement as { rank: number; world: number; right: string });
      return { value: true };
    },
    setState: ([meta], tensors) => ({ value: actor.setState(meta as StateMeta, tensors) }),
    getState: () => {
      const { meta, tensors } = actor.getState();
      return { value: meta, frames: tensors };
    },
    step: async ([call], _tensors, ctx) => ({ value: await actor.step(call as StepCall, ctx.signal) }),
    rollback: ([step]) => ({ value: actor.rollback(step as number) }),
    validate: async ([epoch]) => ({ value: await actor.validate(epoch as number) }),
    hash: () => ({ value: actor.hash() }),
  };
  return { methods, close: () => actor.close() };
}

/** What decides the bits of a block's gradient: the engine, and the tfjs backend or the WebGPU adapter kind. */
function computeDomain(p: Prepared): string {
  const e = engineOf(p);
  if (e.kind === 'native') return 'native';
  if (e.kind === 'webgpu') return `webgpu/${e.device}`;
  return `tfjs/${p.backend.name}`;
}
