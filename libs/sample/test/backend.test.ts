import { expect } from 'chai';
import { activateSampleBackend } from '../src/backend.ts';

describe('activateSampleBackend', () => {
  it('resolves auto the same way every time (no timing probe): native if built, else tensorflow if installed, else wasm', async () => {
    const a = await activateSampleBackend('auto');
    const b = await activateSampleBackend('auto');
    expect(a.name).to.equal(b.name);
    expect(['native', 'tensorflow', 'wasm']).to.include(a.name);
    if (a.name === 'native') expect(a.chains).to.not.equal(undefined);
    if (a.name === 'wasm') expect(a.reason).to.match(/tensorflow is not available .*without a timing probe/);
  });

  it('without the native kernel, auto falls back to tensorflow or wasm and says why', async () => {
    process.env.NBM_NATIVE_DISABLE = '1';
    try {
      const a = await activateSampleBackend('auto');
      expect(['tensorflow', 'wasm']).to.include(a.name);
      await activateSampleBackend('native').then(
        () => expect.fail('native must be refused when the kernel is unavailable'),
        (e: Error) => expect(e.message).to.match(/--backend native: the native CPU kernel is not available: disabled by NBM_NATIVE_DISABLE=1/),
      );
    } finally {
      delete process.env.NBM_NATIVE_DISABLE;
    }
  });

  it('takes a named backend as it is', async () => {
    expect((await activateSampleBackend('cpu')).name).to.equal('cpu');
    expect((await activateSampleBackend('wasm')).name).to.equal('wasm');
  });
});
