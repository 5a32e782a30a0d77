/**
 * Turning what the user asked for into a checked job: the model, the contexts and the draw settings. For a fresh
 * job from the flags (with defaults); for `--resume` from the record the interrupted job left, after checking that
 * the flags given again agree with it and that the checkpoint and contexts file have not changed since.
 */
import { findCheckpoint } from '@nbm/run';
import type { SampleBackendRequest } from './backend.ts';
import { loadModel, type LoadedModel } from './checkpoint.ts';
import { parseClasses } from './classes.ts';
import type { DrawSettings } from './compute.ts';
import { classContexts, fileContexts, type ContextSource, type ContextSpec } from './contexts.ts';
import { SampleError } from './errors.ts';
import { readPartialManifest, type PartialManifest } from './out-dir.ts';
import { DEFAULT_BLOCK_SIZE, DEFAULT_PER_CLASS, DEFAULT_SEED, checkDrawSettings, checkResumeAgrees, type SampleSpec } from './request.ts';

/** A job once every input is checked. */
export interface ResolvedJob {
  readonly loaded: LoadedModel;
  readonly contexts: ContextSource;
  readonly settings: DrawSettings;
  /** what to ask the sampler for: the flag (fresh) or the backend the job was drawn on (resume) */
  readonly backend: SampleBackendRequest;
  /** the interrupted job's record, on resume */
  readonly recorded?: PartialManifest;
}

function contextSource(spec: SampleSpec, nx: number): ContextSource {
  if (spec.classes !== undefined && spec.contexts !== undefined) throw new SampleError('give --classes or --contexts, not both');
  if (spec.contexts !== undefined) {
    if (spec.perClass !== undefined) throw new SampleError('--per-class goes with --classes; with --contexts each row of the file is one sample');
    return fileContexts(spec.contexts, nx);
  }
  if (spec.classes === undefined) throw new SampleError('say what to sample: --classes (e.g. 0-9) with --per-class N, or --contexts FILE.npy');
  return classContexts(parseClasses(spec.classes, nx), spec.perClass ?? DEFAULT_PER_CLASS, nx);
}

function recordedSource(c: ContextSpec, nx: number): ContextSource {
  if (c.kind === 'classes') return classContexts(c.classes, c.perClass, nx);
  const source = fileContexts(c.path, nx);
  if (source.spec.kind === 'file' && source.spec.sha256 !== c.sha256) {
    throw new SampleError(`--resume: the contexts file ${c.path} changed since the job started (its values no longer match)`);
  }
  return source;
}

/** A new job from the flags. */
export async function resolveFresh(spec: SampleSpec): Promise<ResolvedJob> {
  if (spec.checkpoint === undefined) throw new SampleError('--checkpoint is required: a run directory (runs/NAME) or a checkpoint file');
  const loaded = await loadModel(spec.checkpoint);
  const contexts = contextSource(spec, loaded.model.nx);
  const trained = loaded.trainConfig.gibbsSteps;
  const settings: DrawSettings = {
    seed: spec.seed ?? DEFAULT_SEED,
    gibbsSteps: spec.gibbsSteps ?? (typeof trained === 'number' ? trained : 32),
    denoise: spec.denoise ?? false,
    blockSize: spec.blockSize ?? DEFAULT_BLOCK_SIZE,
  };
  checkDrawSettings(settings);
  return { loaded, contexts, settings, backend: spec.backend ?? 'auto' };
}

/** The unfinished job in `dir`, as it was started. */
export async function resolveResume(spec: SampleSpec, dir: string): Promise<ResolvedJob> {
  const recorded = readPartialManifest(dir);
  const r = recorded.request;
  const given = {
    checkpoint: spec.checkpoint !== undefined ? (await findCheckpoint(spec.checkpoint)).file : undefined,
    contexts: spec.classes !== undefined || spec.contexts !== undefined ? contextSource(spec, r.model.nx).spec : undefined,
  };
  checkResumeAgrees(r, spec, given, dir);
  const loaded = await loadModel(r.checkpoint);
  if (loaded.hash !== r.modelHash) throw new SampleError(`--resume: the checkpoint ${r.checkpoint} changed since the job started (its parameters differ)`);
  const contexts = recordedSource(r.contexts, r.model.nx);
  const settings: DrawSettings = { seed: r.seed, gibbsSteps: r.gibbsSteps, denoise: r.denoise, blockSize: r.blockSize };
  return { loaded, contexts, settings, backend: r.backend as SampleBackendRequest, recorded };
}
