/**
 * @nbm/model: the NBM itself. Its configuration and parameters (the official PyTorch names and layouts), the
 * engine interface every engine implements ({@link GradientEngine}) and the registry that picks one
 * ({@link registerEngine}, {@link resolveEngine}), the tfjs engine, AdamW with one decay per network, sampling,
 * and the float64 reference every engine's tests compare with ({@link blockGradient64}).
 */
export { type ModelConfig, type VisibleType, validateModelConfig, LOG_PRECISION_MIN, LOG_PRECISION_MAX } from './config.ts';
export {
  type ParameterGroup,
  type ParameterSpec,
  type Parameters,
  parameterSpecs,
  parameterCount,
  initParameters,
  cloneParameters,
  sizeOf,
  namedTensors,
  fromNamedTensors,
} from './parameters.ts';
export type { ExampleBlock, ChainKey, BlockStats, BlockGradient, GradientEngine, HostGradientEngine, ShardGradients } from './engine.ts';
export { type ChainStreams } from './chain.ts';
export { createTfjsEngine, createAsyncTfjsEngine } from './tfjs-engine.ts';
export { adamwStep, initAdamW, type AdamWConfig, type AdamWState } from './adamw.ts';
export { sampleModel, conditionalArrays } from './sample.ts';
export { registerEngine, resolveEngine, EngineUnavailableError, type EngineEntry, type EngineProbe, type EngineDecision, type EngineTask } from './registry.ts';
export { conditional64, wtd64, wv64, blockGradient64, type Conditional64 } from './reference.ts';
