import { expect } from 'chai';
import { makeConditional, type Conditional } from '../src/conditional.ts';
import { maxCouplingEigenvalue, minEigenvalue, symmetricEigen } from '../src/eigen.ts';
import { randomConditional } from './models.ts';

/** P − WWᵀ as a dense (ny, ny) matrix. */
function dense(k: Conditional): Float64Array {
  const { ny, nh, weights: W } = k;
  const A = new Float64Array(ny * ny);
  for (let i = 0; i < ny; i++) {
    for (let j = 0; j < ny; j++) {
      let s = 0;
      for (let a = 0; a < nh; a++) s += W[i * nh + a] * W[j * nh + a];
      A[i * ny + j] = (i === j ? k.precision[i] : 0) - s;
    }
  }
  return A;
}

/** Whether A − shift·I has a Cholesky factorisation (is positive definite): an eigen-solver-free test. */
function positiveDefinite(A: Float64Array, n: number, shift: number): boolean {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j] - (i === j ? shift : 0);
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) return false;
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  return true;
}

describe('eigenvalues', () => {
  it('symmetricEigen: A V = V Λ with orthonormal V (a random 9 × 9 matrix)', () => {
    const n = 9;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = Math.sin(3 * i + 5 * j + 1);
    const { values, vectors: V } = symmetricEigen(A, n);
    for (let c = 1; c < n; c++) expect(values[c]).to.be.at.least(values[c - 1]);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += A[r * n + k] * V[k * n + c];
        expect(av).to.be.closeTo(V[r * n + c] * values[c], 1e-12);
        let vv = 0;
        for (let k = 0; k < n; k++) vv += V[k * n + r] * V[k * n + c];
        expect(vv).to.be.closeTo(r === c ? 1 : 0, 1e-12);
      }
    }
  });

  it('min eig(P − WWᵀ) by the nh × nh secular problem equals the dense ny × ny reference (ny 12, nh 4)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      // strong couplings, so that P − WWᵀ is indefinite as in trained models (docs/model.md#log-likelihood)
      const k = randomConditional(seed, { ny: 12, nh: 4, visible: 'gaussian', coupling: 6, logPrecisionSpread: 2 });
      const A = dense(k);
      const lambda = minEigenvalue(k);
      expect(lambda, `seed ${seed}`).to.be.closeTo(symmetricEigen(A, 12).values[0], 1e-10);
      expect(lambda, 'indefinite').to.be.below(0);
      // and, with no eigen-solver at all: A − (λ − ε)I is positive definite, A − (λ + ε)I is not
      expect(positiveDefinite(A, 12, lambda - 1e-8), `seed ${seed}: below λ`).to.equal(true);
      expect(positiveDefinite(A, 12, lambda + 1e-8), `seed ${seed}: above λ`).to.equal(false);
    }
  });

  it('min eig for a positive definite case, a W = 0 model, and a zero row at the smallest precision', () => {
    const weak = randomConditional(7, { ny: 10, nh: 3, visible: 'gaussian', coupling: 0.05 });
    const reference = symmetricEigen(dense(weak), 10).values[0];
    expect(reference).to.be.above(0);
    expect(minEigenvalue(weak)).to.be.closeTo(reference, 1e-10);

    const zero = randomConditional(7, { ny: 10, nh: 3, visible: 'gaussian', coupling: 0 });
    expect(minEigenvalue(zero)).to.equal(Math.min(...zero.precision));

    // P = (0.5, 2, 3), W's first row 0: eigenvalue 0.5 stays, the others are at least 2 − ‖w‖² > 0.5
    const k = makeConditional([0, 0, 0], [0.5, 2, 3], [0, 0, 0.3, 0.1, -0.2, 0.4], 2);
    expect(minEigenvalue(k)).to.be.closeTo(symmetricEigen(dense(k), 3).values[0], 1e-12);
    expect(minEigenvalue(k)).to.equal(0.5);
  });

  it('max eig(J) equals power iteration on a dense Wᵀ P⁻¹ W written out here', () => {
    const k = makeConditional([0, 0, 0, 0], [1, 2, 0.5, 4], [0.3, -0.2, 0.5, 0.1, 0.4, -0.6, 0.2, 0.2, 0.7, -0.1, 0.3, 0.5], 3);
    const J = [0, 1, 2].map((a) => [0, 1, 2].map((b) => [0, 1, 2, 3].reduce((s, i) => s + (k.weights[i * 3 + a] * k.weights[i * 3 + b]) / k.precision[i], 0)));
    let v = [1, 1, 1];
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = J.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
      lambda = Math.hypot(...w) / Math.hypot(...v);
      v = w.map((x) => x / Math.hypot(...w));
    }
    expect(maxCouplingEigenvalue(k)).to.be.closeTo(lambda, 1e-12);
  });
});
