import { Stream, assertSeed, type RandomKey } from '@nbm/random';
import type { Conditional } from './conditional.ts';
import type { VisibleType } from '@nbm/model';
import { baseLogZ } from './exact.ts';
import { annealHidden } from './ais-hidden.ts';
import { annealJoint } from './ais-joint.ts';

/** How an AIS run is set up. */
export interface AisOptions {
  /** independent annealing chains (importance samples); at least 2, for a standard error */
  readonly chains: number;
  /** intermediate distributions K (β_1 … β_K = 1), one weight update and one Gibbs transition each */
  readonly steps: number;
  /** the key's seed: draws come from {seed, Stream.ais} */
  readonly seed: number;
  /** which context this is (counter a), so that each context's chains draw their own numbers */
  readonly contextId: number;
}

/** An AIS estimate of ln Z(x). */
export interface AisResult {
  /** ln Ẑ = ln Z_0 + ln mean_c w_c */
  readonly logZ: number;
  /** standard error of ln Ẑ (delta method, see `aisLogZ`) */
  readonly se: number;
  /** effective sample size of the final weights, (Σw)² / Σw², in [1, chains] */
  readonly ess: number;
  /** ln w_c per chain: (chains) */
  readonly logWeights: Float64Array;
}

/** Where one chain's numbers come from: key {seed, Stream.ais}, counter (contextId, chain, c, ·). */
export interface ChainDraws {
  readonly key: RandomKey;
  readonly contextId: number;
}

/** β_k² = k/K, k = 0 … K: the annealing path is uniform in β² (see `aisLogZ`). */
export function aisSchedule(steps: number): Float64Array {
  return Float64Array.from({ length: steps + 1 }, (_, k) => k / steps);
}

function checkOptions(o: AisOptions): void {
  if (!Number.isInteger(o.chains) || o.chains < 2) throw new RangeError(`AIS needs at least 2 chains (for a standard error), got ${o.chains}`);
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new RangeError(`AIS steps must be a positive integer, got ${o.steps}`);
  if (2 * o.steps + 1 > 0xffffffff) throw new RangeError(`AIS steps ${o.steps} is too many for the draw counter`);
  assertSeed(o.seed);
  if (!Number.isInteger(o.contextId) || o.contextId < 0 || o.contextId > 0xffffffff) throw new RangeError(`contextId must be a u32, got ${o.contextId}`);
}

/**
 * Annealed importance sampling (Neal 2001; for RBMs Salakhutdinov & Murray 2008) of ln Z(x).
 *
 * Path: the model with W scaled by β, `U_β(y,h) = ½ dᵀPd − β dᵀWh`, d = y − μ, from β = 0 (y and h independent;
 * Z_0 = `baseLogZ`, exact) to β = 1 (the model), with β_k² = t_k = k/K. Each chain starts with an exact draw at
 * β = 0, and at each t_k adds ln f_{t_k}(s) − ln f_{t_{k−1}}(s) for its state s (an unnormalised marginal f, see
 * below) to its log-weight, then moves by a Gibbs transition that leaves the distribution at t_k invariant.
 * Then Ẑ = Z_0 · mean_c w_c is unbiased for Z.
 *
 * - Gaussian units: y is integrated out exactly, leaving an Ising model over h, f_t(h) = exp(t · ½ hᵀJh) with
 *   J = Wᵀ P⁻¹ W (so β² is its inverse temperature: the schedule is uniform in it). State h; transition one
 *   systematic single-site Gibbs sweep, P(h_j = +1 | h_−j) = σ(2t Σ_{k≠j} J_jk h_k), O(nh²) a step instead of the
 *   O(ny·nh) of a pass through y (25× less for MNIST's 784 × 64). See `annealHidden`.
 * - Ising units: no such closed form over h alone is cheaper than y, so the state is (y, h) with block Gibbs at β
 *   and the weights use the y-marginal f_β(y) = exp(−½dᵀPd) Π_j 2cosh(β (Wᵀd)_j) (h summed exactly, which
 *   lowers their variance). See `annealJoint`.
 *
 * Draws: key {seed, Stream.ais}, counter (contextId, chain, c): c = 1 for the base draw, c = 2k (and 2k + 1) for the
 * transition of step k, so an estimate is a pure function of (seed, context, chain, step), whatever else is
 * evaluated, and chain c draws the same numbers in a run of any number of chains.
 *
 * Standard error: with r_c = w_c / max w, ln Ẑ − ln Z_0 = ln mean(w), and by the delta method
 * SE(ln Ẑ) ≈ SE(mean w) / mean w = sd(r) / (√C · mean r) (sd with C − 1). Ẑ is unbiased, so ln Ẑ is biased low
 * by about ½ SE² (Jensen). The SE only sees what the chains found: a mode that no chain reached is missing from
 * both the estimate and its SE (Gaussian units: f(h) = f(−h), so mirror-image modes are always covered).
 */
export function aisLogZ(k: Conditional, visible: VisibleType, options: AisOptions): AisResult {
  checkOptions(options);
  const draws: ChainDraws = { key: { seed: options.seed, stream: Stream.ais }, contextId: options.contextId };
  const t = aisSchedule(options.steps);
  const logWeights = new Float64Array(options.chains);
  for (let c = 0; c < options.chains; c++) logWeights[c] = visible === 'gaussian' ? annealHidden(k, t, draws, c) : annealJoint(k, t, draws, c);
  const { logMeanW, se, ess } = summarise(logWeights);
  return { logZ: baseLogZ(k, visible) + logMeanW, se, ess, logWeights };
}

/** ln mean(w), its delta-method SE and the ESS, from ln w: (C), C ≥ 2. */
export function summarise(logWeights: Float64Array): { logMeanW: number; se: number; ess: number } {
  const n = logWeights.length;
  let max = -Infinity;
  for (const v of logWeights) if (v > max) max = v;
  const r = Float64Array.from(logWeights, (v) => Math.exp(v - max)); // in (0, 1], the largest is 1
  let sum = 0;
  let sum2 = 0;
  for (const v of r) {
    sum += v;
    sum2 += v * v;
  }
  const mean = sum / n;
  let ss = 0;
  for (const v of r) ss += (v - mean) ** 2;
  return { logMeanW: max + Math.log(mean), se: Math.sqrt(ss / (n - 1) / n) / mean, ess: (sum * sum) / sum2 };
}
