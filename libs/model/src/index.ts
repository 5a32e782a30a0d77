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
export { conditionals, freeEnergy, logCosh, visibleTimesWeights, hiddenTimesWeights, type Conditionals, type ParameterTensors } from './networks.ts';
export { chainRandoms, runChain, sampleHidden, sampleVisible, type ChainStreams } from './chain.ts';
export { createTfjsEngine, createAsyncTfjsEngine, parameterTensors, trainingStreams } from './tfjs-engine.ts';
export { adamwStep, initAdamW, type AdamWConfig, type AdamWState } from './adamw.ts';
export { sampleModel, conditionalArrays } from './sample.ts';
export {
  registerEngine,
  unregisterEngine,
  enginesFor,
  resolveEngine,
  EngineUnavailableError,
  type EngineEntry,
  type EngineProbe,
  type EngineDecision,
  type EngineTask,
} from './registry.ts';
export { conditional64, freeEnergy64, energy64, wtd64, wv64, logCosh64, blockGradient64, type Conditional64 } from './reference.ts';
