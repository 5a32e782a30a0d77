import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuUnavailableError, openGpu } from '../src/index.ts';
import { describeVulkanSetup, isSoftwareAdapter, vulkanSetup } from '../src/device.ts';
import { REQUIRE_GPU, SWIFTSHADER_ICD, requireSwiftShader, runChild, suiteGpu } from './gpu.ts';

describe('webgpu device', () => {
  describe('on the adapter the tests use (SwiftShader unless VK_ICD_FILENAMES says otherwise)', () => {
    const gpu = suiteGpu();

    it('describes the adapter and requests its own buffer and workgroup-storage maxima', () => {
      const { adapter, limits, device } = gpu.handle;
      expect(adapter.index).to.equal(0);
      expect(adapter.vendor).to.be.a('string');
      expect(adapter.description).to.be.a('string');
      if (/swiftshader/i.test(adapter.architecture)) expect(adapter.software).to.equal(true);
      // at least the WebGPU defaults, and granted as asked
      expect(limits.maxStorageBufferBindingSize).to.be.at.least(128 * 2 ** 20);
      expect(limits.maxBufferSize).to.be.at.least(256 * 2 ** 20);
      expect(limits.maxComputeWorkgroupStorageSize).to.be.at.least(16 * 2 ** 10);
      expect(device.limits.maxStorageBufferBindingSize).to.equal(limits.maxStorageBufferBindingSize);
      expect(device.limits.maxBufferSize).to.equal(limits.maxBufferSize);
      expect(device.limits.maxComputeWorkgroupStorageSize).to.equal(limits.maxComputeWorkgroupStorageSize);
    });

    it('allowSoftware: false refuses a software adapter with a one-line GpuUnavailableError', async function () {
      if (!gpu.handle.adapter.software) this.skip();
      const e = await openGpu({ allowSoftware: false }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).to.be.instanceOf(GpuUnavailableError);
      const err = e as GpuUnavailableError;
      expect(err.reason).to.equal('software-refused');
      expect(err.message).to.not.include('\n');
      expect(err.message).to.match(/is software \(google swiftshader/);
      expect(err.message).to.include('allowSoftware is false');
    });

    it('rejects a device index that is not an integer', async () => {
      const e = await openGpu({ device: -1 }).catch((err: unknown) => err);
      expect(e).to.be.instanceOf(RangeError);
    });
  });

  describe('in a child process (the environment set before Dawn loads)', () => {
    it('with VK_ICD_FILENAMES naming a missing file: one-line GpuUnavailableError saying what was looked for', () => {
      const missing = '/nonexistent/nbm-no-such-icd.json';
      const r = runChild({ VK_ICD_FILENAMES: missing }, {});
      expect(r.signal, 'the child must exit by itself').to.equal(null);
      expect(r.status, r.stderr).to.equal(0);
      const res = r.result as Record<string, string | boolean>;
      expect(res.ok).to.equal(false);
      expect(res.typed).to.equal(true);
      expect(res.name).to.equal('GpuUnavailableError');
      expect(res.reason).to.equal('no-adapter');
      const message = res.message as string;
      expect(message).to.not.include('\n');
      expect(message).to.include(`VK_ICD_FILENAMES=${missing} (missing)`);
      expect(message).to.match(/Dawn \(backend vulkan\) found none/);
      expect(message).to.match(/to do: .*Vulkan driver/);
    });

    it('with SwiftShader: an adapter flagged software; after close() Node exits without process.exit', function () {
      requireSwiftShader(this);
      const r = runChild({ VK_ICD_FILENAMES: SWIFTSHADER_ICD }, { run: true });
      expect(r.signal, 'Node did not exit after close()').to.equal(null);
      expect(r.status, r.stderr).to.equal(0);
      const res = r.result as { ok: boolean; adapter: Record<string, unknown>; closed: boolean; draws: number[] };
      expect(res.ok, JSON.stringify(res)).to.equal(true);
      expect(res.adapter).to.include({ vendor: 'google', architecture: 'swiftshader', software: true, index: 0 });
      expect(res.adapter.description).to.match(/SwiftShader/);
      expect(res.closed).to.equal(true);
      expect(res.draws).to.have.length(4);
    });

    describe('several adapters (SwiftShader loaded twice through two driver manifests)', () => {
      let dir = '';
      before(function () {
        requireSwiftShader(this);
        dir = mkdtempSync(join(tmpdir(), 'nbm-webgpu-icd-'));
        const manifest = JSON.parse(readFileSync(SWIFTSHADER_ICD, 'utf8')) as { ICD: { library_path: string } };
        const lib = readFileSync(join(SWIFTSHADER_ICD, '..', manifest.ICD.library_path));
        // an identical second GPU: the same driver from another path (the loader loads it as a second driver)
        writeFileSync(join(dir, 'twin.so'), lib);
        writeFileSync(join(dir, 'twin.json'), JSON.stringify({ ...manifest, ICD: { ...manifest.ICD, library_path: join(dir, 'twin.so') } }));
        // a second GPU with another name: the device-name string patched (same length) in a copy
        const at = lib.indexOf(Buffer.from('SwiftShader Device\0', 'latin1'));
        if (at < 0) {
          if (REQUIRE_GPU) throw new Error('this SwiftShader build has no "SwiftShader Device" name string to patch');
          console.log('      skipped: this SwiftShader build has no "SwiftShader Device" name string to patch');
          this.skip();
        }
        const other = Buffer.from(lib);
        other.write('SwiftShader Devic2', at, 'latin1');
        writeFileSync(join(dir, 'other.so'), other);
        writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...manifest, ICD: { ...manifest.ICD, library_path: join(dir, 'other.so') } }));
      });
      after(() => {
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('device 1 of two differently named GPUs is reached through Dawn’s adapter-name filter', () => {
        const icds = `${SWIFTSHADER_ICD}:${join(dir, 'other.json')}`;
        const names = new Set<string>();
        for (const device of [0, 1]) {
          const r = runChild({ VK_ICD_FILENAMES: icds }, { device });
          const res = r.result as { ok: boolean; adapter: { deviceName: string; index: number } };
          expect(res.ok, `${JSON.stringify(res)} ${r.stderr}`).to.equal(true);
          expect(res.adapter.index).to.equal(device);
          names.add(res.adapter.deviceName);
        }
        expect([...names].sort()).to.deep.equal(['swiftshader-devic2-subzero-', 'swiftshader-device-subzero-']);
      });

      it('device 1 of two identical GPUs: ambiguous-device, saying why and what to do', () => {
        const r = runChild({ VK_ICD_FILENAMES: `${SWIFTSHADER_ICD}:${join(dir, 'twin.json')}` }, { device: 1 });
        const res = r.result as Record<string, string>;
        expect(res.reason).to.equal('ambiguous-device');
        expect(res.message).to.not.include('\n');
        expect(res.message).to.match(/identical GPUs/);
        expect(res.message).to.match(/use device 0/);
      });

      it('a device past the list: no-such-device, listing what there is', () => {
        const r = runChild({ VK_ICD_FILENAMES: SWIFTSHADER_ICD }, { device: 2 });
        const res = r.result as Record<string, string>;
        expect(res.reason).to.equal('no-such-device');
        expect(res.message).to.include('0: SwiftShader Device (Subzero)');
      });
    });
  });

  describe('without a GPU', () => {
    it('flags software adapters by Dawn’s fallback flag or the driver’s name', () => {
      expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: false })).to.equal(true);
      expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).to.equal(true);
      expect(isSoftwareAdapter({ vendor: 'mesa', device: 'lavapipe' })).to.equal(true);
      expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', isFallbackAdapter: true })).to.equal(true);
      expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', isFallbackAdapter: false })).to.equal(false);
    });

    it('describes the Vulkan loader’s inputs: the override list (missing files marked) and the manifest directories', () => {
      const dir = mkdtempSync(join(tmpdir(), 'nbm-webgpu-xdg-'));
      try {
        mkdirSync(join(dir, 'vulkan/icd.d'), { recursive: true });
        writeFileSync(join(dir, 'vulkan/icd.d/fake_icd.json'), '{}');
        const none = join(dir, 'none');
        const env = { XDG_DATA_DIRS: dir, XDG_DATA_HOME: none, XDG_CONFIG_HOME: none, XDG_CONFIG_DIRS: none };
        const plain = describeVulkanSetup(vulkanSetup(env));
        expect(plain).to.include(`driver manifests ${join(dir, 'vulkan/icd.d/fake_icd.json')}`);
        expect(plain).to.include('VK_ICD_FILENAMES/VK_DRIVER_FILES unset');
        // VK_DRIVER_FILES wins over VK_ICD_FILENAMES, as in the loader
        const overridden = vulkanSetup({ ...env, VK_DRIVER_FILES: `/a.json:${join(dir, 'vulkan/icd.d/fake_icd.json')}`, VK_ICD_FILENAMES: '/ignored.json' });
        expect(overridden.override?.variable).to.equal('VK_DRIVER_FILES');
        const text = describeVulkanSetup(overridden);
        expect(text).to.include(`VK_DRIVER_FILES=/a.json (missing), ${join(dir, 'vulkan/icd.d/fake_icd.json')} (replacing the search`);
        expect(text).to.not.include('\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
