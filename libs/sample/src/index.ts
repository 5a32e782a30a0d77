/**
 * @nbm/sample: bulk samples from a trained NBM (`nbm sample`).
 * - {@link runSampleJob}: the whole job — checkpoint → chunks on this process or a worker pool → samples.npy,
 *   contexts.npy (streamed, resumable, never complete-looking before they are), grid.png, components.png,
 *   sample.json
 * - {@link samplingWorker}: the actor methods a worker serves (`sampleLoad`, `sampleChunk`, `sampleUnload`)
 */
export { SampleError } from './errors.ts';
export { WorkerGoneError } from './schedule.ts';
export { type ContextSpec } from './contexts.ts';
export {
  DEFAULT_BLOCK_SIZE,
  DEFAULT_CHUNK,
  DEFAULT_PER_CLASS,
  DEFAULT_SEED,
  type SampleRequest,
  type SampleSpec,
} from './request.ts';
export { type SampleBackendRequest } from './backend.ts';
export { samplingWorker } from './worker-actor.ts';
export { runSampleJob, type SampleJobOptions, type SampleJobResult, type SampleManifest } from './job.ts';
