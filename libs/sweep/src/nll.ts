/**
 * `val_nll`: the negative held-out log-likelihood of an epoch's checkpoint on the run's validation rows (the
 * same first `--val-examples` rows training validates on), −mean ln p(y|x) in nats per example, from
 * `@nbm/evaluate` (exact enumeration for nh ≤ 20, annealed importance sampling above).
 *
 * A sweep evaluates every epoch of every trial, so it uses a lighter AIS than `nbm eval` (NLL_AIS: 50 chains ×
 * 200 steps instead of 100 × 1000) and fits no baseline. Measured on a Gaussian MNIST model (nh 64, 9 epochs,
 * 5,000 validation images): 585.39 against `nbm eval`'s 585.18 nats/image, the ln Z part of the standard error
 * 0.064 against 0.020 nats (the examples' part is 5.3 nats, and the same rows serve every trial, so
 * differences between trials are far better known), in 7.5 s against 18.4 s. Report a chosen model's numbers
 * with `nbm eval`.
 *
 * The evaluation runs in a child process (nll-child.ts): it is synchronous and, by AIS, can take minutes, and
 * the worker's event loop must stay free for heartbeats. (A worker thread would do, but Node 20 does not give
 * threads the TypeScript loader.) An aborted call kills the child.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { epochCheckpointName, runPaths } from '@nbm/run';

const CHILD = fileURLToPath(new URL('./nll-child.ts', import.meta.url));
let tsxLoader: string | undefined;
const loader = () => (tsxLoader ??= pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href);

/** The AIS a sweep's val_nll uses (see the module's comment). */
export const NLL_AIS = { chains: 50, steps: 200 } as const;

/** An epoch's checkpoint file in run directory `dir`. */
export const epochCheckpoint = (dir: string, epoch: number) => join(runPaths(dir).checkpoints, epochCheckpointName(epoch));

/**
 * `val_nll` of run directory `dir` at the end of `epoch`.
 * @throws the evaluation's error (named), or the signal's reason when it aborts
 */
export function validationNll(dir: string, epoch: number, valExamples: number, signal?: AbortSignal): Promise<number> {
  signal?.throwIfAborted();
  const file = epochCheckpoint(dir, epoch);
  const args = ['--import', loader(), CHILD, file, ...(valExamples > 0 ? [String(valExamples)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise<number>((resolve, reject) => {
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => reject(new Error(`val_nll of ${file}: cannot start the evaluation (${e.message})`)));
    child.once('close', (code, killedBy) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(signal.reason);
      const last = out.trim().split('\n').pop() ?? '';
      let answer: { nll?: number; error?: string } = {};
      try {
        answer = JSON.parse(last);
      } catch {
        // no answer: reported below
      }
      if (typeof answer.nll === 'number') resolve(answer.nll);
      else reject(new Error(`val_nll of ${file}: ${answer.error ?? `the evaluation ended (${killedBy ?? `code ${code}`}) without an answer: ${err.trim().split('\n').slice(-3).join(' ')}`}`));
    });
  });
}
