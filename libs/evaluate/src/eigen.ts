import { couplings, type Conditional } from './conditional.ts';

/** Eigen-decomposition of a symmetric matrix: A = V diag(values) Vᵀ. */
export interface SymmetricEigen {
  /** eigenvalues, ascending: (n) */
  readonly values: Float64Array;
  /** orthonormal eigenvectors as columns, row-major: V[r·n + c] is entry r of the eigenvector of values[c]: (n, n) */
  readonly vectors: Float64Array;
}

/**
 * The cyclic Jacobi eigenvalue method for a small dense symmetric matrix (used on nh × nh problems, nh ≲ 256):
 * rotations zero each off-diagonal entry in turn until the off-diagonal mass is below 1e-30 of the total
 * (at most 100 sweeps; it converges quadratically, typically in 6–10). Accurate to a few ulps of ‖A‖.
 * @param a (n, n) row-major; only the values are read (it is copied)
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new RangeError(`symmetricEigen: matrix has ${a.length} entries, expected ${n} × ${n}`);
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += A[i] * A[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * A[p * n + q] ** 2;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        // the rotation that zeroes A[p][q] (Golub & Van Loan, Algorithm 8.5.1, sym.schur2)
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // rows p and q
          const apk = A[p * n + k];
          const aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[i * n + i] - A[j * n + j]);
  const values = Float64Array.from(order, (i) => A[i * n + i]);
  const vectors = new Float64Array(n * n);
  for (let c = 0; c < n; c++) for (let r = 0; r < n; r++) vectors[r * n + c] = V[r * n + order[c]];
  return { values, vectors };
}

/** The largest eigenvalue of J = Wᵀ P⁻¹ W (nh × nh): how strongly the hidden units are coupled. */
export function maxCouplingEigenvalue(k: Conditional): number {
  const e = symmetricEigen(couplings(k), k.nh);
  return e.values[k.nh - 1];
}

/** M(λ) = Wᵀ (P − λ)⁻¹ W, (nh, nh), for λ < min P; and the largest eigenvalue of it with its eigenvector. */
function secularMatrix(k: Conditional, lambda: number): { top: number; vector: Float64Array } {
  const { ny, nh, weights: W, precision: P } = k;
  const M = new Float64Array(nh * nh);
  for (let i = 0; i < ny; i++) {
    const inv = 1 / (P[i] - lambda);
    const row = i * nh;
    for (let a = 0; a < nh; a++) {
      const wa = W[row + a] * inv;
      if (wa === 0) continue;
      for (let b = a; b < nh; b++) M[a * nh + b] += wa * W[row + b];
    }
  }
  for (let a = 0; a < nh; a++) for (let b = 0; b < a; b++) M[a * nh + b] = M[b * nh + a];
  const e = symmetricEigen(M, nh);
  return { top: e.values[nh - 1], vector: Float64Array.from({ length: nh }, (_, r) => e.vectors[r * nh + nh - 1]) };
}

/**
 * The smallest eigenvalue of P(x) − W(x)W(x)ᵀ (ny × ny), from an nh × nh problem, without forming the ny × ny matrix.
 *
 * For λ < p = min_i P_i, D_λ = diag(P) − λI is positive definite and
 * `P − WWᵀ − λI ⪰ 0 ⇔ I − D_λ^{−½} W Wᵀ D_λ^{−½} ⪰ 0 ⇔ λ_max(M(λ)) ≤ 1`, M(λ) = Wᵀ D_λ⁻¹ W (nh × nh; the same
 * non-zero eigenvalues as D_λ^{−½}WWᵀD_λ^{−½}). M(λ) grows (in the Loewner order) with λ, so f(λ) = λ_max(M(λ)) − 1 is
 * increasing (and convex), and the smallest eigenvalue is its root in [p − ‖W‖_F², p) (Weyl: it is at least
 * p − ‖W‖₂²), or p itself when f stays below 0 up to p (then no eigenvalue lies below p, and by interlacing one
 * is at most p). The root is found by Newton's method safeguarded by bisection, with
 * f′(λ) = Σ_i (W_i·v)² / (P_i − λ)² for the top eigenvector v of M(λ). Each step costs O(ny·nh²) plus a Jacobi
 * solve of size nh, against O(ny³) for a dense ny × ny eigen-solver.
 */
export function minEigenvalue(k: Conditional): number {
  const { ny, nh, weights: W, precision: P } = k;
  let p = Infinity;
  for (let i = 0; i < ny; i++) p = Math.min(p, P[i]);
  let frob = 0;
  for (let i = 0; i < W.length; i++) frob += W[i] * W[i];
  if (frob === 0) return p;
  let lo = p - frob; // f(lo) ≤ 0
  let hi = p; // f → +∞ as λ → p unless the rows at min P are zero
  let lambda = p - 0.5 * frob;
  const tol = 1e-13 * Math.max(1, Math.abs(p), frob);
  for (let iter = 0; iter < 200 && hi - lo > tol; iter++) {
    const { top, vector } = secularMatrix(k, lambda);
    const f = top - 1;
    if (f === 0) return lambda;
    if (f < 0) lo = lambda;
    else hi = lambda;
    let slope = 0;
    for (let i = 0; i < ny; i++) {
      let wv = 0;
      for (let j = 0; j < nh; j++) wv += W[i * nh + j] * vector[j];
      slope += (wv * wv) / (P[i] - lambda) ** 2;
    }
    const newton = lambda - f / slope;
    if (slope > 0 && Math.abs(newton - lambda) <= tol) return newton;
    lambda = slope > 0 && newton > lo && newton < hi ? newton : 0.5 * (lo + hi);
  }
  return hi === p ? p : 0.5 * (lo + hi);
}
