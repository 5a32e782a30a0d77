/**
 * @nbm/webgpu: the WebGPU engine. {@link openGpu} finds an adapter through Dawn (and says what it looked for
 * when there is none); {@link createWebgpuEngine} runs the CD-k step in WGSL kernels with the block sums in
 * exact fixed point on the device; {@link WEBGPU_ENGINE} registers it as `webgpu`.
 */
export { openGpu, GpuUnavailableError, type GpuUnavailableReason, type OpenGpuOptions, type GpuHandle, type GpuAdapterDescription, type RequestedLimits } from './device.ts';
export { createWebgpuEngine, GpuLimitError, GpuDeviceLostError, type WebgpuEngine, type WebgpuEngineOptions, type DeviceCounters } from './nbm/engine.ts';
export { WEBGPU_ENGINE } from './nbm/registration.ts';
