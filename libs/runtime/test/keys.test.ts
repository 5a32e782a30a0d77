import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { KeyFileError, generateKeys, loadKeys } from '../src/index.ts';
import { publicKeyOf } from '../src/curve.ts';

describe('CURVE key files', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'nbm-keys-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const thrown = (fn: () => unknown): KeyFileError => {
    try {
      fn();
    } catch (err) {
      expect(err).to.be.instanceOf(KeyFileError);
      return err as KeyFileError;
    }
    throw new Error('expected a KeyFileError, nothing was thrown');
  };

  it('writes two key pairs: secrets 0600, publics 0644, each loadable by the role that needs it', () => {
    const dir = join(root, 'keys'); // created by generateKeys
    const keys = generateKeys(dir);
    expect(statSync(dir).mode & 0o777).to.equal(0o700);
    for (const [file, mode] of [['coordinator.key', 0o600], ['worker.key', 0o600], ['coordinator.pub', 0o644], ['worker.pub', 0o644]] as const) {
      expect(statSync(join(dir, file)).mode & 0o777, file).to.equal(mode);
    }
    expect(readFileSync(join(dir, 'coordinator.key'), 'utf8')).to.contain(keys.coordinator.secretKey);
    expect(publicKeyOf(keys.coordinator.secretKey)).to.equal(keys.coordinator.publicKey);
    expect(publicKeyOf(keys.worker.secretKey)).to.equal(keys.worker.publicKey);
    expect(keys.worker.publicKey).to.not.equal(keys.coordinator.publicKey);

    expect(loadKeys(dir, 'coordinator')).to.deep.equal({ ...keys.coordinator, allowedClients: [keys.worker.publicKey] });
    expect(loadKeys(dir, 'worker')).to.deep.equal({ ...keys.worker, serverKey: keys.coordinator.publicKey });
  });

  it('derives the public key zeromq pairs with a secret key', () => {
    for (let i = 0; i < 5; i++) {
      const kp = curveKeyPair();
      expect(publicKeyOf(kp.secretKey)).to.equal(kp.publicKey);
    }
  });

  it('refuses to overwrite existing keys, naming them, and writes nothing', () => {
    const dir = join(root, 'k');
    generateKeys(dir);
    const before = readFileSync(join(dir, 'worker.key'), 'utf8');
    const err = thrown(() => generateKeys(dir));
    expect(err.message).to.match(/refusing to overwrite existing keys \(coordinator\.key, coordinator\.pub, worker\.key, worker\.pub\)/);
    expect(readFileSync(join(dir, 'worker.key'), 'utf8')).to.equal(before);

    const partial = join(root, 'partial');
    generateKeys(partial);
    for (const f of ['coordinator.key', 'coordinator.pub', 'worker.key']) unlinkSync(join(partial, f));
    expect(thrown(() => generateKeys(partial)).message).to.match(/\(worker\.pub\)/);
    expect(existsSync(join(partial, 'coordinator.key'))).to.equal(false);
  });

  it('each role needs only its own secret', () => {
    const dir = join(root, 'k');
    const keys = generateKeys(dir);
    unlinkSync(join(dir, 'coordinator.key'));
    expect(loadKeys(dir, 'worker').serverKey).to.equal(keys.coordinator.publicKey);
    expect(thrown(() => loadKeys(dir, 'coordinator')).message).to.match(/coordinator\.key: missing \(make keys with `nbm keygen DIR`\)/);
  });

  it('explains missing and malformed files', () => {
    expect(thrown(() => loadKeys(join(root, 'nowhere'), 'worker')).message).to.match(/nowhere\/worker\.key: missing.*nbm keygen/);
    const dir = join(root, 'k');
    const keys = generateKeys(dir);
    const cases: Array<[string, string, RegExp]> = [
      ['worker.key', `${keys.worker.secretKey.slice(0, 39)}\n`, /worker\.key: expected a 40-character Z85 key, got 39 characters/],
      ['worker.key', `${keys.worker.secretKey.slice(0, 39)}"\n`, /worker\.key: not a Z85 key: .* at position 39/],
      ['worker.key', `${keys.worker.secretKey}\n${keys.worker.secretKey}\n`, /worker\.key: expected exactly one key line, found 2/],
      ['worker.key', '# only a comment\n\n', /worker\.key: expected exactly one key line, found 0/],
      ['worker.pub', `${curveKeyPair().publicKey}\n`, /worker\.pub: does not belong to worker\.key/],
      ['coordinator.pub', 'x\n', /coordinator\.pub: expected a 40-character Z85 key/],
    ];
    for (const [file, text, pattern] of cases) {
      const original = readFileSync(join(dir, file), 'utf8');
      writeFileSync(join(dir, file), text);
      expect(thrown(() => loadKeys(dir, 'worker')).message, file).to.match(pattern);
      writeFileSync(join(dir, file), original);
    }
    expect(() => loadKeys(dir, 'worker')).to.not.throw();
  });
});
