export {
  openGpu,
  listAdapters,
  isSoftwareAdapter,
  vulkanSetup,
  describeVulkanSetup,
  GpuUnavailableError,
  type GpuUnavailableReason,
  type OpenGpuOptions,
  type GpuHandle,
  type GpuAdapterDescription,
  type RequestedLimits,
  type ListedAdapter,
  type VulkanSetup,
} from './device.ts';
export {
  Usage,
  STORAGE_USAGE,
  bufferFrom,
  emptyBuffer,
  computePipeline,
  grid1d,
  encodeCompute,
  runCompute,
  runAndRead,
  readBuffer,
  destroyAll,
  type ComputePass,
} from './compute.ts';
export { philoxBlocks, keyedDraws, type StreamKey, type KeyedTransform } from './philox.ts';
export { PHILOX_WGSL, PHILOX_TABLE_WGSL, PHILOX_KEYED_WGSL, PHILOX_WORKGROUP } from './philox.wgsl.ts';
export { createWebgpuEngine, fromInt64Pairs, GpuLimitError, GpuDeviceLostError, type WebgpuEngine, type WebgpuEngineOptions, type DeviceCounters } from './nbm/engine.ts';
export { WEBGPU_ENGINE } from './nbm/registration.ts';
