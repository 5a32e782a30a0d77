import { resolve } from 'node:path';
import { RunDirError } from '@nbm/run';
import type { SampleBackendRequest } from '@nbm/sample';
import { DEFAULT_BLOCK_SIZE, DEFAULT_CHUNK, DEFAULT_PER_CLASS, DEFAULT_SEED, SampleError, runSampleJob, type SampleSpec } from '@nbm/sample';
import { resolveClusterOptions } from '../cluster-options.ts';
import { UsageError } from '../errors.ts';
import { intFlag, parseFlags } from '../options.ts';

export const SAMPLE_HELP = `nbm sample --checkpoint RUN[/checkpoints/FILE] (--classes 0-9 [--per-class N] | --contexts x.npy) --out DIR [options]
draws samples y ~ p(y|x) from a trained NBM into DIR: samples.npy float32 (count, ny), contexts.npy float32
(count, nx), sample.json, and for image data with --classes grid.png and components.png.
The same request gives byte-identical files whatever --workers and --chunk are, and after any interruption
(files stay *.partial until complete; finish them with --resume).
  --checkpoint PATH      a run directory (its latest checkpoint) or a checkpoint file
  --classes LIST         one-hot class contexts, e.g. 0-9 or 1,3,5 (rows class by class, in this order)
  --per-class N          samples per class with --classes (default ${DEFAULT_PER_CLASS})
  --contexts FILE        an .npy of contexts (rows, nx): one sample per row
  --gibbs-steps K        Gibbs steps per chain, started at y = mu(x) (default: the k the model was trained with)
  --seed S               integer seed in [0, 2^53) (default ${DEFAULT_SEED})
  --denoise              return the noise-free last visible state (as the paper's pictures)
  --out DIR              the job's directory (must be new or empty, unless --resume)
  --resume               finish the interrupted job in --out DIR (other request flags are optional and must agree)
  --workers N            spawn N local worker processes and share the chunks among them
  --listen ENDPOINT      coordinator address for remote workers (nbm worker --connect …), e.g. tcp://0.0.0.0:5555
                         or tcp://127.0.0.1:* (any free port; the address is printed); needs --keys off loopback
  --expect N             workers to wait for, spawned ones included (default: --workers)
  --keys DIR             CURVE key directory from nbm keygen (pass the same DIR to each nbm worker)
  --start-timeout-ms N   how long to wait for the expected workers (default 300000)
  --chunk N              rows per unit of work and of writing (default ${DEFAULT_CHUNK}; a multiple of --block-size)
  --block-size N         rows per model evaluation; part of the request (default ${DEFAULT_BLOCK_SIZE})
  --engine NAME          auto | native | webgpu | tfjs: what runs the chains; part of the request, since it decides the
                         bits (default auto: WebGPU on a hardware GPU, else the native CPU kernel where it built,
                         else tfjs on tensorflow if installed, else on wasm, chosen without a timing probe)
  --backend NAME         auto | tensorflow | wasm | cpu: the tfjs backend of --engine tfjs (default wasm); without
                         --engine it may also name an engine (native, webgpu), as before --engine existed
  --no-pictures          skip grid.png and components.png
  --heartbeat-ms N       worker heartbeat interval (default 1000)
  --timeout-ms N         a worker silent this long is lost and its chunk reassigned (default 10000)
  --quiet                no progress output`;

const BACKENDS = ['auto', 'native', 'webgpu', 'tensorflow', 'wasm', 'cpu'];
const ENGINES = ['auto', 'native', 'webgpu', 'tfjs'];

/**
 * The one request the sampler takes (recorded in sample.json) from --engine and --backend: an engine that is not
 * tfjs is the request itself; --engine tfjs takes --backend's tfjs backend (default auto among them).
 */
function sampleBackendRequest(engine: string | undefined, backend: string | undefined): string | undefined {
  if (engine !== undefined && !ENGINES.includes(engine)) throw new UsageError(`--engine must be auto, native, webgpu or tfjs, got '${engine}'`);
  if (backend !== undefined && !BACKENDS.includes(backend)) throw new UsageError(`--backend must be auto, tensorflow, wasm or cpu (or an engine: native, webgpu), got '${backend}'`);
  if (engine === undefined || engine === 'auto') return engine === 'auto' && backend === undefined ? 'auto' : backend;
  if (engine === 'tfjs') {
    if (backend === 'native' || backend === 'webgpu') throw new UsageError(`--engine tfjs --backend ${backend}: ${backend} is an engine, not a tfjs backend (tensorflow, wasm or cpu)`);
    return backend === undefined || backend === 'auto' ? 'wasm' : backend;
  }
  if (backend !== undefined && backend !== engine && backend !== 'auto') throw new UsageError(`--engine ${engine} --backend ${backend}: --backend picks the tfjs backend of --engine tfjs only`);
  return engine;
}

/** `nbm sample`: returns the exit code (bad input is a UsageError: exit 2, one line, nothing complete on disk). */
export async function sampleCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      checkpoint: { type: 'string' },
      classes: { type: 'string' },
      'per-class': { type: 'string' },
      contexts: { type: 'string' },
      'gibbs-steps': { type: 'string' },
      seed: { type: 'string' },
      denoise: { type: 'boolean' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
      workers: { type: 'string' },
      listen: { type: 'string' },
      expect: { type: 'string' },
      keys: { type: 'string' },
      'start-timeout-ms': { type: 'string' },
      chunk: { type: 'string' },
      'block-size': { type: 'string' },
      backend: { type: 'string' },
      engine: { type: 'string' },
      'no-pictures': { type: 'boolean' },
      'heartbeat-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
      quiet: { type: 'boolean' },
    },
    'sample',
  );
  if (values.help) {
    console.log(SAMPLE_HELP);
    return 0;
  }
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--out DIR is required: where samples.npy and the rest go');
  const backend = sampleBackendRequest(values.engine as string | undefined, values.backend as string | undefined);
  const spec: SampleSpec = {
    checkpoint: values.checkpoint as string | undefined,
    classes: values.classes as string | undefined,
    perClass: intFlag(values, 'per-class'),
    contexts: values.contexts as string | undefined,
    gibbsSteps: intFlag(values, 'gibbs-steps'),
    seed: intFlag(values, 'seed'),
    denoise: values.denoise ? true : undefined,
    blockSize: intFlag(values, 'block-size'),
    backend: backend as SampleBackendRequest | undefined,
  };
  // the same --workers/--listen/--expect/--keys rules (and refusals) as nbm train's
  const cluster = resolveClusterOptions(values);
  try {
    const result = await runSampleJob(spec, {
      out: resolve(out),
      resume: Boolean(values.resume),
      chunk: intFlag(values, 'chunk'),
      workers: cluster?.spawn,
      workerCommand: cluster?.workerCommand,
      listen: cluster?.listen,
      expect: cluster?.expect,
      curve: cluster?.curve,
      startTimeoutMs: cluster?.startTimeoutMs,
      heartbeatMs: intFlag(values, 'heartbeat-ms'),
      timeoutMs: intFlag(values, 'timeout-ms'),
      pictures: !values['no-pictures'],
      quiet: Boolean(values.quiet),
    });
    if (result.status === 'already-complete') {
      console.log(`done: ${out} already holds the finished job (sample.json); nothing to resume`);
      return 0;
    }
    const m = result.manifest;
    console.log(
      `done: ${m.shapes.samples[0]} samples of ${m.shapes.samples[1]} values in ${out} | ` +
        `${m.drawnThisSession} drawn in ${m.seconds.toFixed(1)} s (${m.samplesPerSecond.toFixed(1)} samples/s on ${m.workers} worker(s), ${m.request.backend})`,
    );
    return 0;
  } catch (e) {
    if (e instanceof SampleError || e instanceof RunDirError) throw new UsageError(e.message);
    throw e;
  }
}
