import { errorLine, exitCodeOf } from './errors.ts';
import { benchCommand } from './commands/bench.ts';
import { evalCommand } from './commands/eval.ts';
import { infraCommand } from './commands/infra.ts';
import { keygenCommand } from './commands/keygen.ts';
import { sampleCommand } from './commands/sample.ts';
import { statusCommand } from './commands/status.ts';
import { sweepCommand } from './commands/sweep.ts';
import { workerCommand } from './commands/worker.ts';
import { trainCommand, trainHelp } from './commands/train.ts';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; summary: string }> = {
  train: { run: trainCommand, summary: 'train an NBM (one process, or a pool of workers)' },
  sample: { run: sampleCommand, summary: 'draw samples from a trained model in bulk (one process, or a pool of workers)' },
  sweep: { run: sweepCommand, summary: 'hyperparameter sweeps (grid/random, ASHA) over a worker pool' },
  eval: { run: evalCommand, summary: 'held-out log-likelihood of a trained model (exact or AIS)' },
  worker: { run: workerCommand, summary: 'serve a coordinator as one worker (one per GPU)' },
  keygen: { run: keygenCommand, summary: 'make CURVE key pairs for a multi-host cluster' },
  status: { run: statusCommand, summary: "a run's progress and its workers" },
  infra: { run: infraCommand, summary: 'cluster launch: nbm infra k8s --workers N --image IMG > job.yaml' },
  bench: { run: benchCommand, summary: 'benchmarks: step (ours vs PyTorch), allreduce, …' },
};

function usage(): string {
  return [
    'usage: nbm <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    'nbm <command> --help lists a command\'s options.',
  ].join('\n');
}

/** Runs one nbm command; returns the exit code (0 ok, 1 failure, 2 bad usage). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(usage());
    return command ? 0 : 2;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    console.error(`nbm: unknown command '${command}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await entry.run(rest);
  } catch (e) {
    console.error(errorLine(command, e, process.env.NBM_DEBUG === '1'));
    return exitCodeOf(e);
  }
}

export { trainHelp };
