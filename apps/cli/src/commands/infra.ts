import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraOptionError, K8S_DEFAULTS, KEY_FILE_NAMES, k8sManifests, keysSecretCommand, toYaml } from '@nbm/launch';
import { clusterOptionSpec } from '../cluster-options.ts';
import { UsageError } from '../errors.ts';
import { intFlag, parseFlags } from '../options.ts';
import { trainOptionSpec } from '../train-options.ts';

export const INFRA_HELP = `nbm infra k8s --workers N --image IMAGE [options] [-- TRAIN OPTIONS]: Kubernetes manifests for one run, on stdout
  (kubectl apply -f -). A coordinator Job and its headless Service, an Indexed Job of N workers with one
  nvidia.com/gpu each, the run directory on a PersistentVolumeClaim, the CURVE keys as a Secret.
  --workers N              workers, one GPU each (required)
  --image IMAGE            the container image of infra/docker/Dockerfile (required)
  --name NAME              prefix of every object's name (default ${K8S_DEFAULTS.name}); the run is /runs/NAME on the volume
  --namespace NS           put every object in NS
  --port P                 the coordinator's port (default ${K8S_DEFAULTS.port})
  --keys DIR               put the keys of nbm keygen DIR into the output as a Secret
                           (without it: make the Secret once with the kubectl command printed at the top)
  --keys-secret NAME       the Secret's name (default NAME-keys)
  --storage SIZE           the run volume's size (default ${K8S_DEFAULTS.storage}); --storage-class CLASS picks its class
  --worker-cpu Q, --worker-memory Q              per worker (default ${K8S_DEFAULTS.workerResources.cpu}, ${K8S_DEFAULTS.workerResources.memory}; CPU limit is twice the request)
  --coordinator-cpu Q, --coordinator-memory Q    (default ${K8S_DEFAULTS.coordinatorResources.cpu}, ${K8S_DEFAULTS.coordinatorResources.memory})
  --worker-args "ARGS"     extra nbm worker flags, e.g. "--heartbeat-ms 500"
  -- TRAIN OPTIONS         the run's nbm train options, e.g. -- --epochs 50 --checkpoint-every 200`;

/** `nbm infra k8s …`: prints the manifests. */
export async function infraCommand(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const args = dash >= 0 ? argv.slice(0, dash) : argv;
  const trainArgs = dash >= 0 ? argv.slice(dash + 1) : [];
  const { values, positionals } = parseFlags(args, {
    workers: { type: 'string' },
    image: { type: 'string' },
    name: { type: 'string' },
    namespace: { type: 'string' },
    port: { type: 'string' },
    keys: { type: 'string' },
    'keys-secret': { type: 'string' },
    storage: { type: 'string' },
    'storage-class': { type: 'string' },
    'worker-cpu': { type: 'string' },
    'worker-memory': { type: 'string' },
    'coordinator-cpu': { type: 'string' },
    'coordinator-memory': { type: 'string' },
    'worker-args': { type: 'string' },
  }, 'infra', 1);
  if (values.help) {
    console.log(INFRA_HELP);
    return 0;
  }
  if (positionals[0] !== 'k8s') throw new UsageError(`name what to generate: nbm infra k8s --workers N --image IMAGE (got '${positionals[0] ?? ''}')`);
  const workers = intFlag(values, 'workers');
  if (workers === undefined) throw new UsageError('--workers N is required: how many GPU workers');
  if (typeof values.image !== 'string') throw new UsageError('--image IMAGE is required: the image built from infra/docker/Dockerfile, pushed where the cluster can pull it');
  // the run's options must be ones nbm train takes: a typo fails here, not in the cluster
  parseFlags(trainArgs, { ...trainOptionSpec(), ...clusterOptionSpec() }, 'train');

  let keys: Record<string, string> | undefined;
  if (typeof values.keys === 'string') {
    keys = {};
    for (const f of KEY_FILE_NAMES) {
      try {
        keys[f] = readFileSync(join(values.keys, f), 'utf8');
      } catch (e) {
        throw new UsageError(`--keys ${values.keys}: cannot read ${f} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); make the keys with nbm keygen ${values.keys}`);
      }
    }
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const options = {
    workers,
    image: values.image,
    name: str('name'),
    namespace: str('namespace'),
    port: intFlag(values, 'port'),
    keys,
    keysSecret: str('keys-secret'),
    storage: str('storage'),
    storageClass: str('storage-class'),
    trainArgs,
    workerArgs: str('worker-args')?.split(/\s+/).filter(Boolean),
    workerResources: { cpu: str('worker-cpu') ?? K8S_DEFAULTS.workerResources.cpu, memory: str('worker-memory') ?? K8S_DEFAULTS.workerResources.memory },
    coordinatorResources: { cpu: str('coordinator-cpu') ?? K8S_DEFAULTS.coordinatorResources.cpu, memory: str('coordinator-memory') ?? K8S_DEFAULTS.coordinatorResources.memory },
  };
  let docs;
  try {
    docs = k8sManifests(options);
  } catch (e) {
    if (e instanceof InfraOptionError) throw new UsageError(e.message);
    throw e;
  }
  const name = options.name ?? K8S_DEFAULTS.name;
  const secret = options.keysSecret ?? `${name}-keys`;
  const header = [
    `# nbm infra ${argv.join(' ')}`,
    `# ${workers} worker(s) × 1 GPU; the run directory is /runs/${name} on PersistentVolumeClaim ${name}-runs.`,
    ...(keys
      ? ['# Holds the CURVE secret keys (Secret ' + secret + '): keep this file private.']
      : ['# The CURVE keys Secret is not in this file; make it once from a nbm keygen directory:', `#   ${keysSecretCommand(secret, 'KEYS_DIR', options.namespace)}`]),
    `# Apply: kubectl apply -f FILE; follow: kubectl logs -f job/${name}-coordinator`,
  ];
  process.stdout.write(header.join('\n') + '\n' + toYaml(docs));
  return 0;
}
