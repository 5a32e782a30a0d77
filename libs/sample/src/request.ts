import type { SampleBackendRequest } from './backend.ts';
import type { ModelConfig } from '@nbm/model';
import { describeContexts, type ContextSpec } from './contexts.ts';
import { SampleError } from './errors.ts';

/**
 * What a job draws, resolved: everything that decides the bits of samples.npy and contexts.npy. It is written to
 * `sample.json.partial` before the first row and copied into `sample.json` at the end; `--resume` reads it back,
 * so a resumed job draws exactly what the interrupted one would have.
 */
export interface SampleRequest {
  /** the checkpoint file, absolute */
  readonly checkpoint: string;
  /** parametersHash of its parameters: a resume refuses a checkpoint that changed since */
  readonly modelHash: string;
  readonly model: ModelConfig;
  readonly contexts: ContextSpec;
  /** rows in the job */
  readonly count: number;
  readonly gibbsSteps: number;
  readonly seed: number;
  readonly denoise: boolean;
  /** rows per model evaluation (see plan.ts) */
  readonly blockSize: number;
  /** the concrete tfjs backend the rows are drawn on */
  readonly backend: string;
}

/** What the user asked for: any field may be absent (defaults, or on resume the recorded value). */
export interface SampleSpec {
  /** a checkpoint file, or a run directory meaning its latest checkpoint */
  readonly checkpoint?: string;
  /** class list such as `0-9` or `1,3,5` (one-hot contexts); exclusive with `contexts` */
  readonly classes?: string;
  /** rows per class with `classes` (default 1000) */
  readonly perClass?: number;
  /** an .npy file of contexts (rows, nx); exclusive with `classes` */
  readonly contexts?: string;
  /** Gibbs steps k (default: the k the model was trained with, else 32) */
  readonly gibbsSteps?: number;
  /** default 1 */
  readonly seed?: number;
  readonly denoise?: boolean;
  /** default {@link DEFAULT_BLOCK_SIZE} */
  readonly blockSize?: number;
  /** default auto */
  readonly backend?: SampleBackendRequest;
}

export const DEFAULT_BLOCK_SIZE = 50;
export const DEFAULT_CHUNK = 1000;
export const DEFAULT_PER_CLASS = 1000;
export const DEFAULT_SEED = 1;

/** Checks the numbers of a request; throws SampleError naming the flag. */
export function checkDrawSettings(s: { gibbsSteps: number; seed: number; blockSize: number }): void {
  if (!Number.isSafeInteger(s.gibbsSteps) || s.gibbsSteps < 1) throw new SampleError(`--gibbs-steps must be a positive integer, got ${s.gibbsSteps}`);
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) throw new SampleError(`--seed must be an integer in [0, 2^53), got ${s.seed}`);
  if (!Number.isSafeInteger(s.blockSize) || s.blockSize < 1) throw new SampleError(`--block-size must be a positive integer, got ${s.blockSize}`);
}

/**
 * On `--resume`, the flags given again must agree with the recorded request (they are optional: the record
 * has them all). `resolved` holds the given flags resolved the way the request was (checkpoint → file,
 * contexts → spec), for the ones that were given.
 * @throws SampleError naming every flag that disagrees, and what the interrupted job used
 */
export function checkResumeAgrees(recorded: SampleRequest, given: SampleSpec, resolved: { checkpoint?: string; contexts?: ContextSpec }, dir: string): void {
  const clashes: string[] = [];
  const differ = (flag: string, now: unknown, then: unknown) => clashes.push(`${flag} ${String(now)} (the job was started with ${String(then)})`);
  if (resolved.checkpoint !== undefined && resolved.checkpoint !== recorded.checkpoint) differ('--checkpoint', resolved.checkpoint, recorded.checkpoint);
  if (resolved.contexts !== undefined && JSON.stringify(resolved.contexts) !== JSON.stringify(recorded.contexts)) {
    differ(recorded.contexts.kind === 'classes' ? '--classes/--per-class' : '--contexts', describeContexts(resolved.contexts), describeContexts(recorded.contexts));
  }
  if (given.gibbsSteps !== undefined && given.gibbsSteps !== recorded.gibbsSteps) differ('--gibbs-steps', given.gibbsSteps, recorded.gibbsSteps);
  if (given.seed !== undefined && given.seed !== recorded.seed) differ('--seed', given.seed, recorded.seed);
  if (given.denoise !== undefined && given.denoise !== recorded.denoise) differ('--denoise', given.denoise, recorded.denoise);
  if (given.blockSize !== undefined && given.blockSize !== recorded.blockSize) differ('--block-size', given.blockSize, recorded.blockSize);
  if (given.backend !== undefined && given.backend !== 'auto' && given.backend !== recorded.backend) differ('--backend', given.backend, recorded.backend);
  if (clashes.length > 0) {
    throw new SampleError(`--resume ${dir}: ${clashes.join('; ')}. A resume finishes the job as it was started: drop these flags, or start a new job in another --out`);
  }
}
