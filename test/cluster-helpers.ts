/** Helpers shared by the cluster-launch tests (SLURM, Kubernetes, local GPUs). */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '@nbm/checkpoint';
import { csvRows } from './helpers.ts';

/** Tiny training, quick on two CPU workers: 400 examples in 40-example minibatches (10 steps an epoch). */
export const TINY = [
  '--train-examples', '400', '--val-examples', '40', '--batch-size', '40', '--block-size', '8', '--hidden', '8',
  '--gibbs-steps', '3', '--log-every', '1', '--backend', 'cpu', '--kernel', 'tfjs', '--no-pictures', '--quiet',
];

export type Checkpoint = Awaited<ReturnType<typeof loadCheckpoint>>;

/** The checkpoint that checkpoints/latest.json of a run names. */
export async function latestCheckpoint(runDir: string): Promise<Checkpoint> {
  const latest = join(runDir, 'checkpoints', 'latest.json');
  if (!existsSync(latest)) throw new Error(`${runDir} has no checkpoints/latest.json`);
  const { file } = JSON.parse(readFileSync(latest, 'utf8')) as { file: string };
  return loadCheckpoint(join(runDir, 'checkpoints', file));
}

/** The step of a run's latest checkpoint, or 0 when it has none yet. */
export async function latestCheckpointStep(runDir: string): Promise<number> {
  if (!existsSync(join(runDir, 'checkpoints', 'latest.json'))) return 0;
  return (await latestCheckpoint(runDir)).rng.globalStep;
}

/** Parameters, AdamW moments and step counters equal bit for bit. */
export function expectBitwiseEqual(a: Checkpoint, b: Checkpoint, what: string): void {
  expect(a.rng.globalStep, `${what}: step`).to.equal(b.rng.globalStep);
  expect(a.optimizer.step, `${what}: optimiser step`).to.equal(b.optimizer.step);
  const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  expect(a.params.map((p) => p.name), `${what}: tensor names`).to.deep.equal(b.params.map((p) => p.name));
  a.params.forEach((p, i) => {
    expect(bytes(p.data).equals(bytes(b.params[i].data)), `${what}: ${p.name}`).to.equal(true);
    expect(bytes(a.optimizer.m[i]).equals(bytes(b.optimizer.m[i])), `${what}: exp_avg of ${p.name}`).to.equal(true);
    expect(bytes(a.optimizer.v[i]).equals(bytes(b.optimizer.v[i])), `${what}: exp_avg_sq of ${p.name}`).to.equal(true);
  });
}

/** metrics.csv rows as objects keyed by the header. */
export function metricRows(runDir: string): Array<Record<string, string>> {
  const file = join(runDir, 'metrics.csv');
  return existsSync(file) ? csvRows(file) : [];
}

/** The last logged training step (0 before the first). */
export function loggedStep(runDir: string): number {
  const last = metricRows(runDir).filter((r) => r.kind === 'train').at(-1);
  return last ? Number(last.step) : 0;
}

/** Polls `probe` every `everyMs` until it returns something truthy; throws `what` (and `context()`) at the deadline. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | null, timeoutMs: number, context: () => string = () => '', everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
