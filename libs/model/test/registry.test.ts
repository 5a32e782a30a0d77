import { expect } from 'chai';
import { EngineUnavailableError, registerEngine, resolveEngine, type EngineEntry, type EngineProbe } from '../src/index.ts';
import { enginesFor, unregisterEngine } from '../src/registry.ts';

/** A stand-in engine with a fixed probe answer. */
const engine = (name: string, priority: number, probe: EngineProbe, tasks: EngineEntry['tasks'] = ['train', 'sample']): EngineEntry => ({
  name, title: `the ${name} engine`, tasks, priority, probe: async () => probe,
});

describe('engine registry: the one rule', () => {
  const stand = ['gpu-hw', 'gpu-sw', 'cpu-fast', 'sampler'];
  after(() => stand.forEach(unregisterEngine));

  // priorities above the real engines' (native 10, tfjs 0), so that `auto` meets these first
  const cases: Array<[string, EngineEntry[], string, 'train' | 'sample', string | RegExp]> = [
    ['auto takes the highest-priority available engine', [engine('gpu-hw', 30, { available: true, detail: 'NVIDIA H200' }), engine('cpu-fast', 20, { available: true, detail: 'avx512' })], 'auto', 'train', 'gpu-hw'],
    ['auto passes over an unavailable engine and says why', [engine('gpu-hw', 30, { available: false, reason: 'no Vulkan ICD' }), engine('cpu-fast', 20, { available: true, detail: 'avx512' })], 'auto', 'train', 'cpu-fast'],
    ['auto never takes an engine that is for explicit requests only', [engine('gpu-sw', 30, { available: true, detail: 'SwiftShader', auto: false, autoRefusal: 'a software adapter' }), engine('cpu-fast', 20, { available: true, detail: 'avx512' })], 'auto', 'train', 'cpu-fast'],
    ['an explicit request takes such an engine', [engine('gpu-sw', 30, { available: true, detail: 'SwiftShader', auto: false })], 'gpu-sw', 'train', 'gpu-sw'],
    ['auto skips an engine that cannot do the task', [engine('sampler', 40, { available: true, detail: 'x' }, ['sample']), engine('cpu-fast', 20, { available: true, detail: 'avx512' })], 'auto', 'train', 'cpu-fast'],
    ['an explicit unavailable engine is an error naming why', [engine('gpu-hw', 30, { available: false, reason: 'no Vulkan ICD' })], 'gpu-hw', 'train', /^--engine gpu-hw: the gpu-hw engine is not available: no Vulkan ICD$/],
    ['an explicit engine that cannot do the task is an error', [engine('sampler', 40, { available: true, detail: 'x' }, ['sample'])], 'sampler', 'train', /^--engine sampler: the sampler engine cannot train/],
    ['an unknown engine is an error listing the known ones', [], 'bogus', 'train', /^--engine bogus: no such engine \(engines: auto, .*tfjs/],
  ];
  for (const [what, entries, request, task, expected] of cases) {
    it(what, async () => {
      stand.forEach(unregisterEngine);
      entries.forEach(registerEngine);
      if (typeof expected === 'string') {
        const d = await resolveEngine(request, task, '--engine');
        expect(d.name).to.equal(expected);
        if (request === 'auto') expect(d.reason).to.match(/^auto: /);
        for (const p of d.passedOver) expect(d.reason).to.contain(`${p.name} (${p.reason})`);
      } else {
        const e = await resolveEngine(request, task, '--engine').then(() => undefined, (x: unknown) => x);
        expect(e).to.be.instanceOf(EngineUnavailableError);
        expect((e as Error).message).to.match(expected);
      }
    });
  }

  it('lists engines in the order auto tries them; tfjs is always there', () => {
    stand.forEach(unregisterEngine);
    const names = enginesFor('train').map((e) => e.name);
    expect(names.at(-1)).to.equal('tfjs');
  });
});
