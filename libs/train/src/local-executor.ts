import type { Dataset } from '@nbm/data';
import type { GradientEngine, ModelConfig } from '@nbm/model';
import type { TrainConfig } from './config.ts';
import type { Position, StepExecutor, StepOrder, StepReport } from './executor.ts';
import type { StepOps } from './ops.ts';
import { gradientLayout } from '@nbm/collective';
import { shardGradients } from './shard.ts';
import { stepRows } from './step-rows.ts';
import type { TrainState } from './state.ts';
import { localReducer, reduceAndApply } from './update.ts';
import { validationMetrics } from './validate.ts';

/** Every block of every step in this process, with the identity reducer. */
export class LocalExecutor implements StepExecutor {
  readonly kind = 'local';
  private readonly layout;

  constructor(
    private readonly cfg: TrainConfig,
    private readonly model: ModelConfig,
    private readonly engine: GradientEngine,
    private readonly ops: StepOps,
    private readonly train: Dataset,
    private readonly val: Dataset,
    private readonly state: TrainState,
  ) {
    this.layout = gradientLayout(state.params);
  }

  async step(order: StepOrder): Promise<StepReport> {
    const rows = stepRows(this.train.count, this.cfg, order);
    const spec = { seed: this.cfg.seed, globalStep: order.globalStep, visible: this.cfg.visible, gibbsSteps: this.cfg.gibbsSteps, blockSize: this.cfg.blockSize, rows };
    const t0 = performance.now();
    const grads = await shardGradients(this.engine, this.ops, this.layout, this.state.params, this.train, spec, 0, order.totalBlocks);
    const computeMs = performance.now() - t0;
    const out = await reduceAndApply(this.state, grads, this.cfg, this.layout, order.examples, order.totalBlocks, this.model.ny, localReducer, this.ops);
    this.state.epoch = order.epoch;
    this.state.stepInEpoch = order.stepInEpoch + 1;
    return { metrics: out.metrics, skipped: out.skipped, computeMs, reduceMs: out.reduceMs, worldSize: 1 };
  }

  async snapshot(position: Position): Promise<TrainState> {
    return { ...this.state, ...position };
  }

  async validate(epoch: number) {
    return validationMetrics(this.engine, this.state.params, this.val, this.cfg, epoch);
  }

  async close(): Promise<void> {
    this.engine.dispose();
  }
}
