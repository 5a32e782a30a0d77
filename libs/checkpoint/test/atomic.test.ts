import { expect } from 'chai';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, atomicWriteFileSync, atomicWriteWith, isAtomicTempName } from '@nbm/checkpoint';
import { tempDir } from './helpers.ts';

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

describe('atomic file writes', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('creates a file, then replaces it, leaving nothing else in the directory', async () => {
    const path = join(dir, 'config.json');
    await atomicWriteFile(path, '{"a":1}');
    expect(readFileSync(path, 'utf8')).to.equal('{"a":1}');
    await atomicWriteFile(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).to.deep.equal([1, 2, 3]);
    expect(readdirSync(dir)).to.deep.equal(['config.json']);
  });

  it('the synchronous form does the same', () => {
    const path = join(dir, 'metrics.csv');
    atomicWriteFileSync(path, 'a,b\n');
    atomicWriteFileSync(path, 'a,b\n1,2\n');
    expect(readFileSync(path, 'utf8')).to.equal('a,b\n1,2\n');
    expect(readdirSync(dir)).to.deep.equal(['metrics.csv']);
  });

  it('when the content cannot be completed, the old file is intact and no temporary file is left', async () => {
    const path = join(dir, 'epoch-001.safetensors');
    writeFileSync(path, 'old content');
    const err = await rejection(
      atomicWriteWith(path, async (file) => {
        await file.write(new Uint8Array(1000).fill(7)); // half written...
        throw new Error('disk full'); // ...then the writer fails
      }),
    );
    expect(err.message).to.equal(`cannot write ${path}: disk full`);
    expect(readFileSync(path, 'utf8')).to.equal('old content');
    expect(readdirSync(dir)).to.deep.equal(['epoch-001.safetensors']);
  });

  it('when the rename fails, the target is untouched and no temporary file is left (async and sync)', async () => {
    const path = join(dir, 'target');
    mkdirSync(path); // renaming a file over a non-empty directory fails
    writeFileSync(join(path, 'keep'), 'x');
    const err = await rejection(atomicWriteFile(path, 'new'));
    expect(err.message).to.match(new RegExp(`^cannot write ${path}: E(ISDIR|NOTEMPTY|EXIST)`));
    expect(() => atomicWriteFileSync(path, 'new')).to.throw(`cannot write ${path}: `);
    expect(readdirSync(dir)).to.deep.equal(['target']);
    expect(readdirSync(path)).to.deep.equal(['keep']);
  });

  it('a missing directory gives an error naming the target', async () => {
    const path = join(dir, 'no-such-dir', 'x.json');
    const err = await rejection(atomicWriteFile(path, '{}'));
    expect(err.message).to.match(new RegExp(`^cannot write ${path}: ENOENT`));
    expect(() => atomicWriteFileSync(path, '{}')).to.throw(`cannot write ${path}: ENOENT`);
  });

  it('concurrent writers of one file each leave a complete file (last rename wins)', async () => {
    const path = join(dir, 'shared.txt');
    const contents = Array.from({ length: 20 }, (_, i) => `writer ${i} `.repeat(5000));
    await Promise.all(contents.map((c) => atomicWriteFile(path, c)));
    expect(contents).to.include(readFileSync(path, 'utf8'));
    expect(readdirSync(dir)).to.deep.equal(['shared.txt']);
  });

  it('recognises its own temporary file names', () => {
    expect(isAtomicTempName('.epoch-001.safetensors.1234.0123456789ab.tmp')).to.equal(true);
    expect(isAtomicTempName('epoch-001.safetensors')).to.equal(false);
  });
});
