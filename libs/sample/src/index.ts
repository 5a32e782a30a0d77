/**
 * @nbm/sample: bulk samples from a trained NBM (`nbm sample`).
 * - {@link runSampleJob}: the whole job — checkpoint → chunks on this process or a worker pool → samples.npy,
 *   contexts.npy (streamed, resumable, never complete-looking before they are), grid.png, components.png,
 *   sample.json
 * - {@link samplingWorker}: the actor methods a worker serves (`sampleLoad`, `sampleChunk`, `sampleUnload`)
 * - the parts, for other callers: {@link sampleRange} (block-aligned, keyed draws), {@link planChunks},
 *   {@link runChunks} (ordered parallel map with a bounded window), {@link SampleOutput}, {@link parseClasses},
 *   {@link loadModel}
 */
export { SampleError } from './errors.ts';
export { parseClasses, formatClasses } from './classes.ts';
export { sampleRange, sampleStreams, type DrawSettings } from './compute.ts';
export { planChunks, checkSizes, type Chunk } from './plan.ts';
export { runChunks, WorkerGoneError, type ChunkWorker, type ScheduleOptions } from './schedule.ts';
export { SampleOutput, type OutputPaths } from './output.ts';
export { classContexts, fileContexts, describeContexts, type ContextSource, type ContextSpec } from './contexts.ts';
export { loadModel, type LoadedModel } from './checkpoint.ts';
export {
  DEFAULT_BLOCK_SIZE,
  DEFAULT_CHUNK,
  DEFAULT_PER_CLASS,
  DEFAULT_SEED,
  type SampleRequest,
  type SampleSpec,
} from './request.ts';
export { outPaths, readWrittenRows, SAMPLE_FORMAT } from './out-dir.ts';
export { activateSampleBackend, type SampleBackend, type SampleBackendRequest } from './backend.ts';
export { startLocal, type Sampler, type SamplerModel } from './local.ts';
export { startPool, type PoolOptions } from './pool.ts';
export { samplingWorker, parameterTensorsOf, type SampleLoad, type SampleLoaded, type SampleChunkCall } from './worker-actor.ts';
export { SampleProgress } from './progress.ts';
export { GRID_PER_CLASS } from './figures.ts';
export { runSampleJob, type SampleJobOptions, type SampleJobResult, type SampleManifest } from './job.ts';
export { resolveFresh, resolveResume, type ResolvedJob } from './resolve.ts';
export { drawRows, type DrawReport } from './draw.ts';
