import { expect } from 'chai';
import { Stream, fillUniform } from '@nbm/random';
import { Usage, bufferFrom, computePipeline, destroyAll, emptyBuffer, grid1d, readBuffer, runAndRead, runCompute } from '../src/compute.ts';
import { keyedDraws, philoxBlocks } from '../src/philox.ts';
import { suiteGpu } from './gpu.ts';

/** Counts the buffers `device` creates and how many of them are destroyed (a buffer destroyed twice counts once). */
function countBuffers(device: GPUDevice): { created: () => number; destroyed: () => number; restore: () => void } {
  const original = device.createBuffer;
  let created = 0;
  let destroyed = 0;
  device.createBuffer = function (descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = original.call(this, descriptor);
    created++;
    const destroy = buffer.destroy;
    let done = false;
    buffer.destroy = function () {
      if (!done) destroyed++;
      done = true;
      return destroy.call(this);
    };
    return buffer;
  };
  return {
    created: () => created,
    destroyed: () => destroyed,
    restore: () => {
      device.createBuffer = original;
    },
  };
}

const DOUBLE = `
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&data)) { data[id.x] = 2.0 * data[id.x]; }
}`;

describe('webgpu compute helpers', () => {
  const gpu = suiteGpu();

  it('runs a pass and reads the buffer back, or a part of it', async () => {
    const device = gpu.device;
    const pipeline = await computePipeline(device, DOUBLE, 'main');
    const data = bufferFrom(device, Float32Array.from({ length: 100 }, (_, i) => i));
    try {
      await runCompute(device, [{ pipeline, buffers: [data], workgroups: [2] }]);
      const all = new Float32Array(await readBuffer(device, data));
      expect(Array.from(all)).to.deep.equal(Array.from({ length: 100 }, (_, i) => 2 * i));
      const part = new Float32Array(await readBuffer(device, data, 40, 12));
      expect(Array.from(part)).to.deep.equal([20, 22, 24]);
      const twice = new Float32Array(await runAndRead(device, [{ pipeline, buffers: [data], workgroups: [2] }], data, 0, 8));
      expect(Array.from(twice)).to.deep.equal([0, 4]);
    } finally {
      data.destroy();
    }
  });

  it('creates no GPU memory that it does not destroy: 100 draws, table runs and reads leave created = destroyed', async () => {
    const device = gpu.device;
    const pipeline = await computePipeline(device, DOUBLE, 'main');
    await keyedDraws(device, { seed: 1, stream: Stream.hidden }, new Uint32Array([0, 0, 0]), 8, 'uniform'); // compile outside the count
    await philoxBlocks(device, new Uint32Array(4), new Uint32Array(2));
    const count = countBuffers(device);
    try {
      const want = new Float32Array(10);
      fillUniform(want, { seed: 1, stream: Stream.hidden }, 3, 4, 5);
      for (let run = 0; run < 100; run++) {
        const u = await keyedDraws(device, { seed: 1, stream: Stream.hidden }, new Uint32Array([3, 4, 5]), 10, 'uniform');
        expect(Array.from(u)).to.deep.equal(Array.from(want));
        await philoxBlocks(device, new Uint32Array([run, 0, 0, 0]), new Uint32Array([0, run]));
        const data = bufferFrom(device, new Float32Array([run]));
        try {
          const [x] = new Float32Array(await runAndRead(device, [{ pipeline, buffers: [data], workgroups: [1] }], data));
          expect(x).to.equal(2 * run);
        } finally {
          data.destroy();
        }
        expect(count.destroyed(), `after run ${run}`).to.equal(count.created());
      }
      // each run: keyed draws (params, rows, output, staging) + table (counters, keys, blocks, staging) + data + staging
      expect(count.created()).to.equal(100 * 10);
    } finally {
      count.restore();
    }
  });

  it('destroys its buffers when a pass fails, and rejects with the validation error', async () => {
    const device = gpu.device;
    const pipeline = await computePipeline(device, DOUBLE, 'main');
    const count = countBuffers(device);
    const uniform = emptyBuffer(device, 16, Usage.UNIFORM | Usage.COPY_SRC); // wrong usage for a storage binding
    try {
      const e = await runAndRead(device, [{ pipeline, buffers: [uniform], workgroups: [1] }], uniform).catch((err: unknown) => err);
      expect(e).to.be.instanceOf(Error);
      expect((e as Error).message).to.match(/^WebGPU validation error/);
    } finally {
      destroyAll(uniform);
      count.restore();
    }
    expect(count.destroyed()).to.equal(count.created());
  });

  it('rejects WGSL that does not compile with the compiler message', async () => {
    const e = await computePipeline(gpu.device, 'fn main( {', 'main').catch((err: unknown) => err);
    expect(e).to.be.instanceOf(Error);
    expect((e as Error).message).to.match(/compute pipeline 'main' failed: .*expected '\)'/);
    expect((e as Error).message).to.not.include('\n');
  });

  it('spreads a 1-D workgroup count over x and y within maxComputeWorkgroupsPerDimension', () => {
    const max = gpu.device.limits.maxComputeWorkgroupsPerDimension;
    expect(grid1d(gpu.device, 0)).to.deep.equal([1, 1]);
    expect(grid1d(gpu.device, max)).to.deep.equal([max, 1]);
    const [x, y] = grid1d(gpu.device, max + 1);
    expect(x).to.be.at.most(max);
    expect(x * y).to.be.at.least(max + 1);
    expect(() => grid1d(gpu.device, max * max + 1)).to.throw(RangeError);
  });
});
