import { expect } from 'chai';
import { aisLogZ, aisSchedule } from '../src/ais.ts';
import { baseLogZ, exactLogZ } from '../src/exact.ts';
import { randomConditional } from './models.ts';

/**
 * AIS against exact enumeration on random models small enough to enumerate: ny = 8, nh = 12…16, couplings
 * λ_max(J) = 2 (trained MNIST models reach 1.4–1.7, docs/model.md#log-likelihood), with the defaults of `nbm eval`: 100 chains × 1000
 * steps. Measured on these models: |error| ≤ 0.012 nats with SE ≤ 0.011 (Gaussian), ≤ 0.009 with SE ≤ 0.009 (Ising);
 * the errors in SE units have a root mean square of 0.81 and 0.97, and none is beyond 3 SE. So 0.05 nats is
 * more than 4 of the largest SEs, and the tolerance cannot hide a biased sampler (a wrong tempered conditional
 * gives errors of 50–3000 SE).
 */
const CHAINS = 100;
const STEPS = 1000;
const MODELS = 24;

describe('AIS estimate of log Z', function () {
  this.timeout(120_000);

  for (const visible of ['gaussian', 'ising'] as const) {
    describe(`${visible} units, ${MODELS} random models, nh 12–16, ${CHAINS} chains × ${STEPS} steps`, () => {
      const runs: Array<{ nh: number; error: number; se: number }> = [];
      before(() => {
        for (let seed = 1; seed <= MODELS; seed++) {
          const nh = 12 + (seed % 5);
          const k = randomConditional(seed, { ny: 8, nh, visible, coupling: 2 });
          const a = aisLogZ(k, visible, { chains: CHAINS, steps: STEPS, seed, contextId: 0 });
          runs.push({ nh, error: a.logZ - exactLogZ(k, visible), se: a.se });
        }
      });

      it('every estimate is within 0.05 nats of the exact value', () => {
        for (const [i, r] of runs.entries()) expect(Math.abs(r.error), `model ${i + 1} (nh ${r.nh})`).to.be.below(0.05);
      });

      it('the standard error is honest: ≥ 95% of errors within 3 SE, and not inflated (mean (error/SE)² in [0.3, 3])', () => {
        const z = runs.map((r) => r.error / r.se);
        const within = z.filter((v) => Math.abs(v) <= 3).length;
        expect(within, `errors/SE: ${z.map((v) => v.toFixed(2)).join(' ')}`).to.be.at.least(Math.ceil(0.95 * runs.length));
        // an SE 10× too large would pass the coverage check trivially; (error/SE)² averages 1 when it is right
        // (24 draws: the mean of a χ²₁ sample has sd ≈ 0.29, so [0.3, 3] is a wide band)
        const meanSquare = z.reduce((s, v) => s + v * v, 0) / z.length;
        expect(meanSquare).to.be.within(0.3, 3);
      });
    });
  }

  it('is exact, with SE 0, when W = 0 (all importance weights are 1)', () => {
    for (const visible of ['gaussian', 'ising'] as const) {
      const k = randomConditional(3, { ny: 6, nh: 5, visible, coupling: 0 });
      const a = aisLogZ(k, visible, { chains: 10, steps: 20, seed: 1, contextId: 0 });
      expect(a.logZ).to.equal(baseLogZ(k, visible));
      expect(a.logZ).to.be.closeTo(exactLogZ(k, visible), 1e-9);
      expect(a.se).to.equal(0);
      expect(a.ess).to.be.closeTo(10, 1e-9);
    }
  });

  it('is a pure function of (seed, context, chain, step): repeatable, and each key draws its own numbers', () => {
    const k = randomConditional(7, { ny: 6, nh: 10, visible: 'gaussian', coupling: 2 });
    const options = { chains: 8, steps: 50, seed: 5, contextId: 3 };
    const a = aisLogZ(k, 'gaussian', options);
    const b = aisLogZ(k, 'gaussian', options);
    expect(Array.from(b.logWeights)).to.deep.equal(Array.from(a.logWeights));
    // the first 8 chains of a 16-chain run are the same chains
    const more = aisLogZ(k, 'gaussian', { ...options, chains: 16 });
    expect(Array.from(more.logWeights.subarray(0, 8))).to.deep.equal(Array.from(a.logWeights));
    expect(aisLogZ(k, 'gaussian', { ...options, contextId: 4 }).logWeights[0]).to.not.equal(a.logWeights[0]);
    expect(aisLogZ(k, 'gaussian', { ...options, seed: 6 }).logWeights[0]).to.not.equal(a.logWeights[0]);
  });

  it('schedules β_k² = k/K from 0 to 1, and rejects fewer than 2 chains', () => {
    expect(Array.from(aisSchedule(4))).to.deep.equal([0, 0.25, 0.5, 0.75, 1]);
    const k = randomConditional(1, { ny: 2, nh: 2, visible: 'gaussian', coupling: 1 });
    expect(() => aisLogZ(k, 'gaussian', { chains: 1, steps: 10, seed: 1, contextId: 0 })).to.throw(RangeError, /at least 2 chains/);
  });
});
