import { expect } from 'chai';
import { activateSampleBackend } from '../src/index.ts';

describe('activateSampleBackend', () => {
  it('resolves auto the same way every time (no timing probe): tensorflow if installed, else wasm', async () => {
    const a = await activateSampleBackend('auto');
    const b = await activateSampleBackend('auto');
    expect(a.name).to.equal(b.name);
    expect(['tensorflow', 'wasm']).to.include(a.name);
    if (a.name === 'wasm') expect(a.reason).to.match(/tensorflow is not available .*without a timing probe/);
  });

  it('takes a named backend as it is', async () => {
    expect((await activateSampleBackend('cpu')).name).to.equal('cpu');
    expect((await activateSampleBackend('wasm')).name).to.equal('wasm');
  });
});
