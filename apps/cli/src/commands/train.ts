import { RunDirError, readRunConfig } from '@nbm/run';
import { ClusterExecutor, ConfigError, StoppedError, train } from '@nbm/train';
import { CLUSTER_FLAGS, clusterOptionSpec, resolveClusterOptions } from '../cluster-options.ts';
import { UsageError } from '../errors.ts';
import { parseFlags } from '../options.ts';
import { TRAIN_FLAGS, resolveTrainConfig, resumeConfig, trainOptionSpec } from '../train-options.ts';

export function trainHelp(): string {
  const lines = TRAIN_FLAGS.map((f) => `  --${(f.flag + (f.kind === 'boolean' ? '' : ' V')).padEnd(22)} ${f.help}`);
  const cluster = CLUSTER_FLAGS.map((f) => `  --${(f.flag + ' V').padEnd(22)} ${f.help}`);
  return [
    'nbm train [options]: train an NBM (default: the paper\'s Gaussian MNIST configuration)',
    '',
    ...lines,
    '',
    'distributed training:',
    ...cluster,
  ].join('\n');
}

export async function trainCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { ...trainOptionSpec(), ...clusterOptionSpec() }, 'train');
  if (values.help) {
    console.log(trainHelp());
    return 0;
  }
  const resumeDir = typeof values.resume === 'string' ? values.resume : undefined;
  let config;
  const cluster = resolveClusterOptions(values);
  try {
    config = resumeDir ? resumeConfig(readRunConfig(resumeDir), values, resumeDir) : resolveTrainConfig(values);
  } catch (e) {
    if (e instanceof RunDirError) throw new UsageError(`--resume ${(e as Error).message}`);
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
  // SIGTERM (a scheduler's preemption) or Ctrl-C: finish the step in flight, checkpoint, stop; a second one exits now
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    console.error(`\n${signal}: stopping after the current step (a checkpoint will be written); send it again to exit at once`);
    stop.abort(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const result = await train({
      config,
      resume: Boolean(resumeDir),
      quiet: Boolean(values.quiet),
      executor: cluster ? ClusterExecutor.factory(cluster) : undefined,
      stop: stop.signal,
    });
    const v = result.lastVal;
    console.log(
      `done: ${result.state.globalStep} steps, run in ${result.dir}` +
        (v ? ` | val CD ${v.cdLoss.toFixed(3)} MSE_bias ${v.mseBias.toFixed(4)} MSE_var ${v.mseVar.toFixed(4)}` : ''),
    );
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof RunDirError) throw new UsageError(e.message);
    if (e instanceof StoppedError) {
      console.error(`nbm train: ${e.message}`);
      return 128 + (stop.signal.reason === 'SIGINT' ? 2 : 15);
    }
    throw e;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
