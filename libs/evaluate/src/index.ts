/**
 * @nbm/evaluate: the held-out log-likelihood of trained NBMs, and diagnostics.
 * - log Z(x): exact by Gray-code enumeration over h (nh ≤ 20), or annealed importance sampling with a standard error
 * - log p(y|x) = −F(y|x) + nh·ln 2 − log Z(x), Gaussian (a density) and Ising (a probability) visible units
 * - baselines (diagonal Gaussian / independent Bernoullis per class), MSE_bias / MSE_var, min eig(P − WWᵀ)
 * - `evaluate`: a checkpoint and a split in, an `EvalReport` (eval.json) out
 */
export { EvalError } from './errors.ts';
export { MAX_EXACT_HIDDEN } from './exact.ts';
export { type EvaluateOptions, evaluate } from './evaluate.ts';
export { type EvalPoolOptions, evalWorker } from './distributed.ts';
export { type EvalReport, type ClassReport, formatReport, writeEvalJson } from './report.ts';
