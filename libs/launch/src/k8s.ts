/**
 * Kubernetes manifests for one data-parallel training run:
 *
 *   Secret        <name>-keys          the CURVE keys of `nbm keygen` (or one made with kubectl, see below)
 *   PVC           <name>-runs          the run directory, written by the coordinator only (ReadWriteOnce)
 *   Service       <name>-coordinator   headless: its DNS name resolves to the coordinator pod once that is ready
 *   Job           <name>-coordinator   `nbm train --listen … --expect N`; resumes the run when it restarts
 *   Job (Indexed) <name>-workers       N pods, one `nbm worker` and one `nvidia.com/gpu` each
 *
 * Readiness of the coordinator is its listening socket (read from /proc/net/tcp, so the probe makes no
 * connection a CURVE handshake would log as refused); the workers' init container waits until the Service's
 * name resolves, which for a headless Service happens only once the coordinator is ready.
 */
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { Document, Scalar, parse, visit } from 'yaml';
import { checkK8sWiring } from './wiring.ts';

export type K8sObject = IJob | IService | ISecret | IPersistentVolumeClaim;

export interface K8sOptions {
  /** Workers, one GPU each. */
  workers: number;
  /** The container image (infra/docker/Dockerfile), e.g. registry.example.com/nbm:0.1.0. */
  image: string;
  /** Prefix of every object's name (a DNS label). */
  name?: string;
  namespace?: string;
  /** The coordinator's TCP port. */
  port?: number;
  /** `nbm train` options (the run's settings: --epochs, --checkpoint-every, …). */
  trainArgs?: readonly string[];
  /** Extra `nbm worker` options (e.g. --heartbeat-ms). */
  workerArgs?: readonly string[];
  /** Size and storage class of the run directory's volume. */
  storage?: string;
  storageClass?: string;
  /** The Secret holding the keys; with `keys` it is part of the output, otherwise create it with kubectl. */
  keysSecret?: string;
  /** Key files by name (coordinator.key, coordinator.pub, worker.key, worker.pub) to put in the Secret. */
  keys?: Readonly<Record<string, string>>;
  coordinatorResources?: { cpu: string; memory: string };
  workerResources?: { cpu: string; memory: string };
}

export const K8S_DEFAULTS = {
  name: 'nbm',
  port: 5555,
  storage: '20Gi',
  coordinatorResources: { cpu: '2', memory: '4Gi' },
  workerResources: { cpu: '4', memory: '16Gi' },
} as const;

/** Where things are inside the containers. */
export const K8S_PATHS = { keys: '/etc/nbm/keys', runs: '/runs' } as const;

/** The key files each role reads (nbm's loadKeys): its own pair and the other side's public key. */
export const KEY_FILES_BY_ROLE = {
  coordinator: ['coordinator.key', 'coordinator.pub', 'worker.pub'],
  worker: ['worker.key', 'worker.pub', 'coordinator.pub'],
} as const;
export const KEY_FILE_NAMES = ['coordinator.key', 'coordinator.pub', 'worker.key', 'worker.pub'] as const;

/** Flags the manifests set themselves: a run's settings must not repeat them. */
const OWN_FLAGS = ['--listen', '--expect', '--keys', '--out', '--resume', '--workers', '--gpus', '--connect', '--device', '--advertise'];

const UID = 1000; // the image's nbm user

/** Starts the run, or resumes it when the volume already holds it (a restarted or rescheduled coordinator). */
export const COORDINATOR_SCRIPT = [
  'if [ -f "$NBM_RUN/config.json" ]; then',
  '  exec nbm train --resume "$NBM_RUN" "$@"',
  'fi',
  'exec nbm train --out "$NBM_RUN" "$@"',
  '',
].join('\n');

/** Exits 0 when something listens on TCP port `port` of this pod (its network namespace). */
export function listeningProbeScript(port: number): string {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return `grep -qE '^ *[0-9]+: [0-9A-F]+:${hex} [0-9A-F]+:0+ 0A ' /proc/net/tcp /proc/net/tcp6`;
}

const WAIT_SCRIPT = 'until getent hosts "$0" >/dev/null; do echo "waiting for the coordinator ($0) to be ready"; sleep 2; done';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

export class InfraOptionError extends Error {
  override name = 'InfraOptionError';
}

function checkOptions(o: Required<Omit<K8sOptions, 'namespace' | 'storageClass' | 'keys'>> & K8sOptions): void {
  const fail = (m: string) => {
    throw new InfraOptionError(m);
  };
  if (!Number.isInteger(o.workers) || o.workers < 1) fail(`workers must be a positive integer, got ${o.workers}`);
  if (!o.image || /\s/.test(o.image)) fail(`image must name a container image, got '${o.image}'`);
  if (!DNS_LABEL.test(o.name) || o.name.length > 63 - '-coordinator'.length) fail(`name must be a DNS label (a-z, 0-9, '-') of at most ${63 - '-coordinator'.length} characters, got '${o.name}'`);
  if (o.namespace !== undefined && !DNS_LABEL.test(o.namespace)) fail(`namespace must be a DNS label, got '${o.namespace}'`);
  if (!DNS_LABEL.test(o.keysSecret)) fail(`the keys Secret's name must be a DNS label, got '${o.keysSecret}'`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) fail(`port must be 1 to 65535, got ${o.port}`);
  for (const [what, q] of [['storage', o.storage], ['coordinator cpu', o.coordinatorResources.cpu], ['coordinator memory', o.coordinatorResources.memory], ['worker cpu', o.workerResources.cpu], ['worker memory', o.workerResources.memory]] as const) {
    if (!QUANTITY.test(q)) fail(`${what} must be a Kubernetes quantity such as 500m, 4, 16Gi; got '${q}'`);
  }
  for (const a of [...o.trainArgs, ...o.workerArgs]) {
    const flag = a.split('=')[0];
    if (OWN_FLAGS.includes(flag)) fail(`${flag} is set by the manifests themselves; leave it out of the run's options`);
  }
  if (o.keys) {
    for (const f of KEY_FILE_NAMES) if (typeof o.keys[f] !== 'string' || o.keys[f] === '') fail(`keys: ${f} is missing (make the keys with nbm keygen DIR)`);
  }
}

/** The manifests of one training run, in the order to apply them. */
export function k8sManifests(options: K8sOptions): K8sObject[] {
  const o = {
    ...K8S_DEFAULTS,
    trainArgs: [] as readonly string[],
    workerArgs: [] as readonly string[],
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as Required<Omit<K8sOptions, 'namespace' | 'storageClass' | 'keys'>> & K8sOptions;
  o.keysSecret = options.keysSecret ?? `${o.name}-keys`;
  checkOptions(o);

  const names = { service: `${o.name}-coordinator`, coordinator: `${o.name}-coordinator`, workers: `${o.name}-workers`, pvc: `${o.name}-runs` };
  const meta = (name: string, component?: string) => ({
    name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    labels: { 'app.kubernetes.io/name': 'nbm', 'app.kubernetes.io/instance': o.name, ...(component ? { 'app.kubernetes.io/component': component } : {}) },
  });
  const selector = (component: string) => ({ 'app.kubernetes.io/name': 'nbm', 'app.kubernetes.io/instance': o.name, 'app.kubernetes.io/component': component });
  const podSecurity = { runAsNonRoot: true, runAsUser: UID, runAsGroup: UID, fsGroup: UID };
  const containerSecurity = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  const keysVolume = (role: 'coordinator' | 'worker') => ({
    name: 'keys',
    secret: { secretName: o.keysSecret, defaultMode: 0o440, items: KEY_FILES_BY_ROLE[role].map((k) => ({ key: k, path: k })) },
  });
  const runDir = `${K8S_PATHS.runs}/${o.name}`;
  const double = (q: string) => {
    const m = /^([0-9.]+)(.*)$/.exec(q)!;
    return `${Number(m[1]) * 2}${m[2]}`;
  };

  const docs: K8sObject[] = [];
  if (o.keys) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(o.keysSecret),
      type: 'Opaque',
      data: Object.fromEntries(KEY_FILE_NAMES.map((f) => [f, Buffer.from(o.keys![f], 'utf8').toString('base64')])),
    });
  }
  docs.push({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(names.pvc),
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
      resources: { requests: { storage: o.storage } },
    },
  });
  docs.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(names.service, 'coordinator'),
    spec: {
      clusterIP: 'None',
      selector: selector('coordinator'),
      ports: [{ name: 'control', port: o.port, targetPort: 'control', protocol: 'TCP' }],
    },
  });
  docs.push({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(names.coordinator, 'coordinator'),
    spec: {
      backoffLimit: 6,
      template: {
        metadata: { labels: selector('coordinator') },
        spec: {
          restartPolicy: 'OnFailure',
          securityContext: podSecurity,
          containers: [{
            name: 'coordinator',
            image: o.image,
            command: ['/bin/sh', '-c', COORDINATOR_SCRIPT, 'nbm-coordinator'],
            args: ['--listen', `tcp://0.0.0.0:${o.port}`, '--expect', String(o.workers), '--keys', K8S_PATHS.keys, ...o.trainArgs],
            env: [
              { name: 'NBM_RUN', value: runDir },
              // the coordinator computes no gradients: keep it off any GPU
              { name: 'CUDA_VISIBLE_DEVICES', value: '' },
            ],
            ports: [{ name: 'control', containerPort: o.port, protocol: 'TCP' }],
            readinessProbe: { exec: { command: ['/bin/sh', '-c', listeningProbeScript(o.port)] }, periodSeconds: 5, failureThreshold: 2 },
            resources: {
              requests: { cpu: o.coordinatorResources.cpu, memory: o.coordinatorResources.memory },
              limits: { cpu: double(o.coordinatorResources.cpu), memory: o.coordinatorResources.memory },
            },
            securityContext: containerSecurity,
            volumeMounts: [
              { name: 'keys', mountPath: K8S_PATHS.keys, readOnly: true },
              { name: 'runs', mountPath: K8S_PATHS.runs },
            ],
          }],
          volumes: [keysVolume('coordinator'), { name: 'runs', persistentVolumeClaim: { claimName: names.pvc } }],
        },
      },
    },
  });
  docs.push({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(names.workers, 'worker'),
    spec: {
      completionMode: 'Indexed',
      completions: o.workers,
      parallelism: o.workers,
      backoffLimit: 4 * o.workers,
      template: {
        metadata: { labels: selector('worker') },
        spec: {
          restartPolicy: 'OnFailure',
          securityContext: podSecurity,
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          initContainers: [{
            name: 'wait-for-coordinator',
            image: o.image,
            command: ['/bin/sh', '-c', WAIT_SCRIPT, names.service],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
            securityContext: containerSecurity,
          }],
          containers: [{
            name: 'worker',
            image: o.image,
            args: [
              'worker', '--connect', `tcp://${names.service}:${o.port}`, '--keys', K8S_PATHS.keys,
              // the pod's one GPU is device 0 inside it; other workers reach this one's ring socket at the pod IP
              '--device', '0', '--advertise', '$(POD_IP)', ...o.workerArgs,
            ],
            env: [
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              // `graphics` makes the NVIDIA container toolkit mount the driver's Vulkan manifest and libraries: the
              // WebGPU engine (--kernel webgpu) reaches the GPU through Vulkan, not CUDA
              { name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility,graphics' },
            ],
            resources: {
              requests: { cpu: o.workerResources.cpu, memory: o.workerResources.memory, 'nvidia.com/gpu': '1' },
              limits: { cpu: double(o.workerResources.cpu), memory: o.workerResources.memory, 'nvidia.com/gpu': '1' },
            },
            securityContext: containerSecurity,
            volumeMounts: [{ name: 'keys', mountPath: K8S_PATHS.keys, readOnly: true }],
          }],
          volumes: [keysVolume('worker')],
        },
      },
    },
  });
  const problems = checkK8sWiring(docs, { externalSecrets: o.keys ? [] : [o.keysSecret] });
  if (problems.length > 0) throw new Error(`internal error: the generated manifests are miswired:\n  ${problems.join('\n  ')}`);
  return docs;
}

/** The command that makes the keys Secret from a `nbm keygen` directory, when the manifests do not hold it. */
export function keysSecretCommand(secret: string, keysDir: string, namespace?: string): string {
  return `kubectl create secret generic ${secret}${namespace ? ` --namespace ${namespace}` : ''} --from-file=${keysDir}`;
}

/**
 * True when `s`, written as a plain (unquoted) scalar, reads back as the same string in YAML 1.1 and 1.2:
 * as a value, and as a mapping key when `asKey` (where YAML 1.1 also gives `<<` a meaning).
 */
function plainReadsAsItself(s: string, asKey: boolean): boolean {
  for (const version of ['1.1', '1.2'] as const) {
    try {
      if (parse(s, { version, logLevel: 'error' }) !== s) return false;
      if (asKey) {
        const map: unknown = parse(`${s}: 0`, { version, logLevel: 'error' });
        if (typeof map !== 'object' || map === null || Object.keys(map).length !== 1 || !Object.hasOwn(map, s)) return false;
      }
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The manifests as YAML, written by the `yaml` package: block style, one document per value, separated by
 * `---`; `undefined` object fields are left out, and an object used twice is written twice (no anchors or
 * aliases). Every string reads back as that string in YAML 1.2 (kubectl) and in YAML 1.1 (readers that
 * take `yes`, `on`, `0755` or `1:20` for something else): one that either would read as anything but itself
 * is double-quoted. Multi-line strings (scripts) are literal blocks (`|`), and no line is folded.
 *
 * @param docs JSON-like values (objects, arrays, strings, finite numbers, booleans, null), one per document
 * @returns the YAML text, ending in a newline
 * @throws TypeError for a number that is not finite (YAML has .inf and .nan, Kubernetes has no use for them)
 */
export function toYaml(docs: readonly unknown[]): string {
  return docs
    .map((value) => {
      const doc = new Document(value, { aliasDuplicateObjects: false });
      visit(doc, {
        Scalar(key, node) {
          if (typeof node.value === 'number' && !Number.isFinite(node.value)) throw new TypeError(`toYaml: ${node.value} is not a finite number`);
          if (typeof node.value === 'string' && !node.value.includes('\n') && !plainReadsAsItself(node.value, key === 'key')) node.type = Scalar.QUOTE_DOUBLE;
        },
      });
      return doc.toString({ lineWidth: 0, blockQuote: 'literal' });
    })
    .join('---\n');
}
