import type { ModelConfig, Parameters } from '@nbm/model';
import { activateSampleBackend, type SampleBackend, type SampleBackendRequest } from './backend.ts';
import { sampleRange, type DrawSettings } from './compute.ts';
import type { ChunkWorker } from './schedule.ts';

/** The model and draw settings a sampler is started with. */
export interface SamplerModel {
  readonly model: ModelConfig;
  readonly params: Parameters;
  /** parametersHash(params) */
  readonly hash: string;
  readonly settings: DrawSettings;
}

/** Workers ready to draw chunks, and the backend they draw on. */
export interface Sampler {
  readonly workers: readonly ChunkWorker[];
  /** the concrete backend (its name decides the bits of the output) */
  readonly backend: SampleBackend;
  close(): Promise<void>;
}

/** Sampling in this process: one worker that runs the chunks here, on the requested backend. */
export async function startLocal(m: SamplerModel, backend: SampleBackendRequest): Promise<Sampler> {
  const choice = await activateSampleBackend(backend);
  const chains = await choice.chains?.(m.model);
  const worker: ChunkWorker = {
    name: 'local',
    run: (chunk, x) => sampleRange(m.model, m.params, x, chunk.first, m.settings, undefined, chains),
  };
  return { workers: [worker], backend: choice, close: async () => choice.close?.() };
}
