import { registerEngine, type EngineEntry } from '@nbm/model';
import { GpuUnavailableError, describeVulkanSetup, openGpu, vulkanSetup } from '../device.ts';

/**
 * The WebGPU engine in the engine registry: above the native CPU kernel where a hardware GPU adapter is present.
 * `auto` never takes a software adapter (SwiftShader computes on the CPU, far slower than the native kernel); an
 * explicit `webgpu` runs on one and says so. Without any Vulkan driver manifest the probe answers without loading
 * Dawn (which would print the Vulkan loader's warnings on every run of a CPU machine).
 */
export const WEBGPU_ENGINE: EngineEntry = {
  name: 'webgpu',
  title: 'the WebGPU engine',
  tasks: ['train', 'sample'],
  priority: 20,
  async probe() {
    const setup = vulkanSetup();
    const manifests = setup.override ? setup.override.files.some((f) => f.exists) : setup.searched.some((s) => s.files.length > 0) || setup.added.length > 0;
    if (!setup.loader || !manifests) return { available: false, reason: `no Vulkan GPU driver (${describeVulkanSetup(setup)})` };
    let gpu;
    try {
      gpu = await openGpu({ allowSoftware: true });
    } catch (e) {
      if (e instanceof GpuUnavailableError) return { available: false, reason: e.message };
      throw e;
    }
    const a = gpu.adapter;
    gpu.close();
    const name = `${a.description} (${a.vendor}${a.architecture ? ` ${a.architecture}` : ''})`;
    if (a.software) return { available: true, detail: `WebGPU on ${name}, a software adapter: it computes on the CPU, slowly`, auto: false, autoRefusal: `its only adapter is a software one, ${name}` };
    return { available: true, detail: `WebGPU on ${name}` };
  },
};
registerEngine(WEBGPU_ENGINE);
