import { expect } from 'chai';
import { selectBackend, tf } from '../src/index.ts';

describe('backend selection', () => {
  it('auto falls back to a pure backend, says why, and records the probe', async () => {
    const choice = await selectBackend('auto');
    if (choice.name === 'tensorflow') {
      expect(choice.package).to.match(/tfjs-node/);
      return;
    }
    expect(['wasm', 'cpu']).to.include(choice.name);
    expect(tf.getBackend()).to.equal(choice.name);
    expect(choice.reason).to.match(/tensorflow unavailable/);
    const faster = choice.probeMs!.wasm <= choice.probeMs!.cpu ? 'wasm' : 'cpu';
    expect(choice.name).to.equal(faster);
  });

  it('an explicit pure backend is activated', async () => {
    for (const name of ['cpu', 'wasm'] as const) {
      const choice = await selectBackend(name);
      expect(tf.getBackend()).to.equal(name);
      expect(choice.reason).to.contain(`--backend ${name}`);
    }
  });

  it('tensorflow without bindings is a clear error', async () => {
    process.env.NBM_DISABLE_TFJS_NODE = '1';
    try {
      await selectBackend('tensorflow').then(
        () => expect.fail('should have thrown'),
        (e: Error) => expect(e.message).to.match(/libtensorflow bindings are not available/),
      );
    } finally {
      delete process.env.NBM_DISABLE_TFJS_NODE;
    }
  });

  it('an unknown backend is refused by name', async () => {
    await selectBackend('gpu' as never).then(
      () => expect.fail('should have thrown'),
      (e: Error) => expect(e.message).to.match(/unknown backend 'gpu'/),
    );
  });
});
