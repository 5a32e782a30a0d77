import type * as Webgpu from 'webgpu'; // brings the WebGPU types (GPUDevice, GPUAdapter, …) into scope
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

type DawnModule = typeof Webgpu;

/** Why {@link openGpu} found no usable adapter. */
export type GpuUnavailableReason =
  /** Dawn's Node bindings could not be loaded at all */
  | 'no-bindings'
  /** Dawn found no adapter on the backend */
  | 'no-adapter'
  /** the adapter found is a software one and `allowSoftware` is false */
  | 'software-refused'
  /** `device` is past the adapters Dawn lists */
  | 'no-such-device'
  /** `device` names an adapter that Dawn cannot tell apart from an earlier one (identical GPUs) */
  | 'ambiguous-device'
  /** the adapter was found but `requestDevice` failed */
  | 'device-failed';

/**
 * No usable WebGPU adapter. `message` is one line: what was looked for (the Vulkan loader and driver manifests,
 * what Dawn said) and what to do; `reason` is the machine-readable cause.
 */
export class GpuUnavailableError extends Error {
  override readonly name = 'GpuUnavailableError';
  constructor(
    readonly reason: GpuUnavailableReason,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link openGpu}. */
export interface OpenGpuOptions {
  /**
   * Index of the adapter in Dawn's enumeration for the backend (the Vulkan loader's order on Linux: discrete GPUs
   * first, then by PCI bus address). Default 0. An index > 0 is reached through Dawn's `adapter=<name>` filter,
   * so it must name a GPU whose name differs from the earlier ones (see README: identical GPUs).
   */
  readonly device?: number;
  /** accept a software adapter (SwiftShader, llvmpipe/lavapipe, a CPU adapter); default true */
  readonly allowSoftware?: boolean;
  /** Dawn backend (`vulkan`, `metal`, `d3d12`, …); default `vulkan` on Linux, else Dawn's choice */
  readonly backend?: string;
}

/** What is known of the adapter a {@link GpuHandle} runs on. */
export interface GpuAdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  /** Dawn's device string (lower-case, e.g. `swiftshader-device-subzero-`) */
  readonly deviceName: string;
  readonly description: string;
  /** the index asked for ({@link OpenGpuOptions.device}) */
  readonly index: number;
  /** a software rasteriser / CPU adapter (SwiftShader, llvmpipe, lavapipe; or Dawn's fallback adapter) */
  readonly software: boolean;
}

/** The limits {@link openGpu} requests: the adapter's own maxima for these (the WebGPU defaults are lower). */
export interface RequestedLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

/** An open WebGPU device. Call {@link GpuHandle.close} when done, or Node will not exit. */
export interface GpuHandle {
  readonly device: GPUDevice;
  readonly adapter: GpuAdapterDescription;
  readonly limits: RequestedLimits;
  /** true once {@link GpuHandle.close} ran */
  readonly closed: boolean;
  /** Destroys the device (its buffers with it) and drops every reference to Dawn so that Node can exit. Idempotent. */
  close(): void;
}

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|\bcpu\b/i;

/** True for an adapter that computes on the CPU: Dawn's fallback adapter or a known software driver. */
export function isSoftwareAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter === true) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => typeof s === 'string' && SOFTWARE_NAMES.test(s));
}

let dawn: Promise<DawnModule> | null = null;

async function loadDawn(): Promise<DawnModule> {
  dawn ??= import('webgpu');
  try {
    const mod = await dawn;
    // GPUBufferUsage, GPUMapMode, GPUShaderStage, …: install the ones the host lacks (never overwrite).
    const globals = mod.globals as Record<string, unknown>;
    for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    return mod;
  } catch (e) {
    dawn = null;
    throw new GpuUnavailableError('no-bindings', `no WebGPU: Dawn's Node bindings (npm package webgpu) do not load: ${oneLine((e as Error).message)}; reinstall with npm ci`);
  }
}

function oneLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
}

function defaultBackend(): string | undefined {
  return process.platform === 'linux' ? 'vulkan' : undefined;
}

/** One adapter of Dawn's list for a backend, as its "no adapter with name" error reports it. */
export interface ListedAdapter {
  readonly backend: string;
  /** the driver's device name (e.g. `NVIDIA H100 80GB HBM3`, `SwiftShader Device (Subzero)`) */
  readonly name: string;
}

/**
 * The adapters Dawn enumerates for the backend, in its order (the order {@link OpenGpuOptions.device} indexes).
 * Dawn's Node bindings have no listing call: this asks for an adapter by a name nothing has and reads the list
 * that the refusal carries. Empty when Dawn finds none.
 */
export async function listAdapters(options: { backend?: string } = {}): Promise<ListedAdapter[]> {
  const mod = await loadDawn();
  const backend = options.backend ?? defaultBackend();
  let gpu: GPU | null = mod.create([...(backend ? [`backend=${backend}`] : []), 'adapter=\u0001nbm-list-adapters']);
  try {
    const a = await gpu.requestAdapter();
    if (a === null) return [];
    throw new Error('Dawn matched the listing probe: cannot list adapters');
  } catch (e) {
    const out: ListedAdapter[] = [];
    for (const line of String((e as Error).message).split('\n')) {
      const m = /^\s*\*\s*backend:\s*'([^']*)',\s*name:\s*'(.*)'\s*$/.exec(line);
      if (m) out.push({ backend: m[1], name: m[2] });
    }
    return out;
  } finally {
    gpu = null;
  }
}

/** A device name reduced to its lower-case letters and digits: Dawn's GPUAdapterInfo.device respells the driver's name (`A B (C)` → `a-b-c-`). */
function nameKey(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

/** The Vulkan setup as the loader would see it: the loader library and the driver manifests (ICD files). */
export interface VulkanSetup {
  /** where libvulkan.so.1 (the Khronos Vulkan loader) is, or null when none of the usual places has it */
  readonly loader: string | null;
  /** the manifest list named by VK_DRIVER_FILES / VK_ICD_FILENAMES (which replaces the search), if set */
  readonly override: { readonly variable: string; readonly files: ReadonlyArray<{ readonly path: string; readonly exists: boolean }> } | null;
  /** manifests found in the standard directories (ignored by the loader while an override is set) */
  readonly searched: ReadonlyArray<{ readonly dir: string; readonly files: readonly string[] }>;
  /** VK_ADD_DRIVER_FILES entries (added to either), if set */
  readonly added: readonly string[];
}

function listJson(dir: string): string[] | null {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return null;
  }
}

/** Reads the Vulkan loader's inputs from the environment and the file system (Linux; elsewhere mostly empty). */
export function vulkanSetup(env: NodeJS.ProcessEnv = process.env): VulkanSetup {
  const multiarch = process.arch === 'x64' ? 'x86_64-linux-gnu' : process.arch === 'arm64' ? 'aarch64-linux-gnu' : '';
  const libDirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...(multiarch ? [`/lib/${multiarch}`, `/usr/lib/${multiarch}`] : []),
    '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib',
  ];
  const loader = libDirs.map((d) => join(d, 'libvulkan.so.1')).find((p) => existsSync(p)) ?? null;
  let override: VulkanSetup['override'] = null;
  for (const variable of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES']) {
    const v = env[variable];
    if (v) {
      override = { variable, files: v.split(delimiter).filter(Boolean).map((path) => ({ path, exists: existsSync(path) })) };
      break;
    }
  }
  const dataDirs = [
    env.XDG_CONFIG_HOME ?? join(homedir(), '.config'),
    ...(env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':'),
    '/etc',
    env.XDG_DATA_HOME ?? join(homedir(), '.local/share'),
    ...(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':'),
  ].filter(Boolean);
  const searched: Array<{ dir: string; files: string[] }> = [];
  for (const base of [...new Set(dataDirs)]) {
    const dir = join(base, 'vulkan/icd.d');
    const files = listJson(dir);
    if (files) searched.push({ dir, files });
  }
  const added = (env.VK_ADD_DRIVER_FILES ?? '').split(delimiter).filter(Boolean);
  return { loader, override, searched, added };
}

/** One phrase: what the Vulkan loader would look at. */
export function describeVulkanSetup(setup: VulkanSetup = vulkanSetup()): string {
  const parts: string[] = [];
  parts.push(setup.loader ? `loader ${setup.loader}` : 'no libvulkan.so.1 (Vulkan loader) in LD_LIBRARY_PATH or the system library directories');
  const found = setup.searched.flatMap((s) => s.files.map((f) => join(s.dir, f)));
  const standard = found.length ? `driver manifests ${found.join(', ')}` : 'no driver manifests in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d or the XDG directories';
  if (setup.override) {
    const files = setup.override.files.map((f) => `${f.path}${f.exists ? '' : ' (missing)'}`).join(', ');
    parts.push(`${setup.override.variable}=${files || '(empty)'} (replacing the search: ${standard})`);
  } else {
    parts.push(`${standard}, VK_ICD_FILENAMES/VK_DRIVER_FILES unset`);
  }
  if (setup.added.length) parts.push(`VK_ADD_DRIVER_FILES=${setup.added.join(', ')}`);
  return parts.join('; ');
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function whatToDo(setup: VulkanSetup): string {
  const steps: string[] = [];
  if (!setup.loader) steps.push('install the Vulkan loader (apt-get install libvulkan1)');
  steps.push("install the GPU's Vulkan driver (NVIDIA: the driver's Vulkan ICD, nvidia_icd.json)");
  steps.push(
    existsSync(SWIFTSHADER_ICD)
      ? `or, for a software GPU, set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`
      : `or, for a software GPU, apt-get install chromium and set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`,
  );
  return steps.join(', ');
}

/**
 * Opens a WebGPU device through Dawn (npm `webgpu`), requesting the adapter's own maxima for storage-buffer
 * binding size, buffer size and workgroup storage.
 *
 * Throws {@link GpuUnavailableError} (one-line message) when there is no adapter, when the adapter is software and
 * `allowSoftware` is false, or when `device` cannot be reached. Environment read by Dawn and the Vulkan loader at
 * this call: VK_ICD_FILENAMES / VK_DRIVER_FILES, VK_LOADER_DEVICE_SELECT, DAWNNODE_BACKEND (see README).
 */
export async function openGpu(options: OpenGpuOptions = {}): Promise<GpuHandle> {
  const index = options.device ?? 0;
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`device must be a non-negative integer, got ${index}`);
  const allowSoftware = options.allowSoftware ?? true;
  const backend = options.backend ?? defaultBackend();
  const mod = await loadDawn();
  const flags = backend ? [`backend=${backend}`] : [];
  const where = backend ? `Dawn (backend ${backend})` : 'Dawn';

  let nameFilter: string | null = null;
  if (index > 0) {
    const listed = await listAdapters({ backend });
    if (listed.length === 0) {
      const setup = vulkanSetup();
      throw new GpuUnavailableError('no-adapter', `no WebGPU adapter (asked for device ${index}): ${where} found none; looked at: ${describeVulkanSetup(setup)}; to do: ${whatToDo(setup)}`);
    }
    if (index >= listed.length) {
      const have = listed.map((a, i) => `${i}: ${a.name}`).join(', ');
      throw new GpuUnavailableError('no-such-device', `no WebGPU device ${index}: ${where} lists ${listed.length} adapter(s) (${have}); ask for one of those`);
    }
    const name = listed[index].name;
    const twin = listed.findIndex((a, i) => i < index && a.name.includes(name));
    if (twin >= 0) {
      throw new GpuUnavailableError(
        'ambiguous-device',
        `WebGPU device ${index} ('${name}') cannot be told from device ${twin} ('${listed[twin].name}'): Dawn's Node bindings select adapters only by name (first match), so identical GPUs are not reachable in one process; give each process one GPU (NVIDIA_VISIBLE_DEVICES in a container, SLURM ConstrainDevices, or DRI_PRIME=pci-DDDD_BB_DD_F! with Mesa's device-select layer) and use device 0`,
      );
    }
    nameFilter = name;
    flags.push(`adapter=${name}`);
  }

  let gpu: GPU | null = mod.create(flags);
  let adapter: GPUAdapter | null = null;
  try {
    try {
      adapter = await gpu.requestAdapter();
    } catch (e) {
      throw new GpuUnavailableError('no-adapter', `no WebGPU adapter: ${where} said: ${oneLine((e as Error).message)}; looked at: ${describeVulkanSetup()}; to do: ${whatToDo(vulkanSetup())}`);
    }
    if (!adapter) {
      const setup = vulkanSetup();
      throw new GpuUnavailableError(
        'no-adapter',
        `no WebGPU adapter: ${where} found none (its warnings, if any, are on stderr); looked at: ${describeVulkanSetup(setup)}; to do: ${whatToDo(setup)}`,
      );
    }
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    if (nameFilter !== null && info.device && nameKey(nameFilter) !== nameKey(info.device)) {
      throw new GpuUnavailableError('ambiguous-device', `WebGPU device ${index}: asked Dawn for '${nameFilter}' and got '${info.device}'`);
    }
    const software = isSoftwareAdapter({
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
    });
    const description: GpuAdapterDescription = {
      vendor: info.vendor,
      architecture: info.architecture,
      deviceName: info.device,
      description: info.description,
      index,
      software,
    };
    if (software && !allowSoftware) {
      throw new GpuUnavailableError(
        'software-refused',
        `WebGPU adapter ${index} is software (${info.vendor} ${info.architecture}, "${info.description}") and allowSoftware is false: install the GPU's Vulkan driver (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}), or allow software adapters`,
      );
    }
    const limits: RequestedLimits = {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    };
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredLimits: { ...limits } });
    } catch (e) {
      throw new GpuUnavailableError('device-failed', `WebGPU adapter ${index} (${info.description}) refused a device: ${oneLine((e as Error).message)}`);
    }
    adapter = null;
    let closed = false;
    return {
      device,
      adapter: description,
      limits,
      get closed() {
        return closed;
      },
      close() {
        if (closed) return;
        closed = true;
        device.destroy();
        gpu = null;
      },
    };
  } catch (e) {
    adapter = null;
    gpu = null;
    throw e;
  }
}
