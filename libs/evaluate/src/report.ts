import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFileSync } from '@nbm/checkpoint';

/** The figures for one context group (a class, for labelled data). */
export interface ClassReport {
  /** the class name, where the data set has names */
  readonly name?: string;
  readonly examples: number;
  /** mean ln p(y|x) over the group's examples, nats per example */
  readonly loglik_nats: number;
  /** √(se_examples² + log_z_se²) */
  readonly loglik_se: number;
  /** −loglik_nats / (ny ln 2) */
  readonly bits_per_dim: number;
  /** ln Z(x) of the group's context */
  readonly log_z: number;
  /** its standard error (0 when exact) */
  readonly log_z_se: number;
  /** AIS only: the effective sample size of the importance weights */
  readonly ais_ess?: number;
  /** the baseline's mean ln-likelihood on the same examples */
  readonly baseline_loglik_nats: number | null;
  /** mean (y − μ)² over the group's examples and units */
  readonly mse_bias: number;
  /** smallest eigenvalue of P(x) − W(x)W(x)ᵀ */
  readonly min_eig: number;
  /** largest eigenvalue of J = Wᵀ P⁻¹ W */
  readonly max_eig_j: number;
}

/** What `nbm eval` writes to eval.json. */
export interface EvalReport {
  /** 'test' or 'val'; 'all' for a user's npy files */
  readonly split: 'test' | 'val' | 'all';
  readonly examples: number;
  readonly method: 'exact' | 'ais';
  /** mean ln p(y|x) per example, in nats (a log density for Gaussian units) */
  readonly loglik_nats: number;
  /** standard error of loglik_nats: √(loglik_se_examples² + loglik_se_log_z²) */
  readonly loglik_se: number;
  /** the spread across examples: sd(ln p) / √examples */
  readonly loglik_se_examples: number;
  /** what the ln Z estimates contribute: √(Σ_groups (n_g/N)² se_g²); 0 when exact */
  readonly loglik_se_log_z: number;
  /** −loglik_nats / (ny ln 2) */
  readonly bits_per_dim: number;
  /** per class (labelled data) or per distinct context (at most 100 of them), keyed by class index / `context N` */
  readonly per_class: Record<string, ClassReport>;
  /** mean (y − μ(x))² over all examples and units, as training's MSE_bias */
  readonly mse_bias: number;
  /** mean(((y − ȳ)² − 1/P(x))²), ȳ the mean of all y, as training's MSE_var */
  readonly mse_var: number;
  /** the baseline's mean ln-likelihood per example, nats (null when its training data could not be read) */
  readonly baseline_loglik_nats: number | null;
  readonly baseline_bits_per_dim: number | null;
  readonly baseline: string;
  /** smallest eigenvalue of P(x) − W(x)W(x)ᵀ over all contexts */
  readonly min_eig: number;
  /** largest eigenvalue of J(x) = Wᵀ P⁻¹ W over all contexts */
  readonly max_eig_j: number;
  readonly visible: 'gaussian' | 'ising';
  /** what the numbers mean, in words */
  readonly units: string;
  readonly model: { readonly nx: number; readonly ny: number; readonly nh: number; readonly width: number };
  /** the checkpoint file evaluated */
  readonly checkpoint: string;
  /** the run directory it belongs to (eval.json's default place) */
  readonly run_dir: string;
  readonly global_step: number;
  readonly data: string;
  readonly seed: number;
  readonly ais: { readonly chains: number; readonly steps: number; readonly schedule: string } | null;
  readonly seconds: number;
}

const fixed = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? String(v) : v.toFixed(digits));


/** A plain-text table of a report: one row per class, then the totals. */
export function formatReport(r: EvalReport): string {
  const header = ['class', 'examples', 'loglik (nats)', '± se', 'bits/dim', 'log Z', '± se', 'baseline', 'MSE_bias', 'min eig'];
  const row = (label: string, c: Omit<ClassReport, 'log_z' | 'log_z_se' | 'max_eig_j'> & { log_z?: number; log_z_se?: number }) => [
    label,
    String(c.examples),
    fixed(c.loglik_nats, 2),
    fixed(c.loglik_se, 2),
    fixed(c.bits_per_dim, 4),
    c.log_z === undefined ? '' : fixed(c.log_z, 3),
    c.log_z_se === undefined ? '' : fixed(c.log_z_se, 3),
    fixed(c.baseline_loglik_nats, 2),
    fixed(c.mse_bias, 4),
    fixed(c.min_eig, 3),
  ];
  const rows = Object.entries(r.per_class).map(([k, c]) => row(c.name ? `${k} ${c.name}` : k, c));
  rows.push(row('all', { ...r, loglik_se: r.loglik_se }));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `${r.split} split, ${r.examples} examples, ${r.visible} units, nh = ${r.model.nh}, log Z by ${r.method === 'exact' ? 'exact enumeration' : `AIS (${r.ais?.chains} chains × ${r.ais?.steps} steps)`}`,
    line(header),
    ...rows.map(line),
    `mean log-likelihood ${fixed(r.loglik_nats, 3)} ± ${fixed(r.loglik_se, 3)} nats/example (${fixed(r.bits_per_dim, 5)} bits/dim); baseline ${fixed(r.baseline_loglik_nats, 3)}`,
    `MSE_bias ${fixed(r.mse_bias, 5)}  MSE_var ${fixed(r.mse_var, 5)}  min eig(P − WWᵀ) ${fixed(r.min_eig, 4)}  max eig(J) ${fixed(r.max_eig_j, 4)}`,
    r.units,
  ].join('\n');
}

/** Writes `eval.json` into `dir` (created if missing) atomically; returns its path. */
export function writeEvalJson(dir: string, report: EvalReport): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'eval.json');
  atomicWriteFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}
