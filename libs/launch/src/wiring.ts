/**
 * Checks that a set of Kubernetes manifests for an nbm run fits together, beyond what each object's schema
 * can say: the workers' --connect address names the Service and its port, the Service selects the coordinator
 * pod and reaches the port it listens on, every Secret, PersistentVolumeClaim and volume that is used exists
 * and holds the key files each role reads, the coordinator expects as many workers as the worker Jobs run, the
 * run directory is on a persistent volume, and each worker asks for one GPU.
 *
 * Works on plain parsed YAML (anything), so it checks hand-edited manifests as well as generated ones.
 */

type Obj = Record<string, any>;

export interface WiringOptions {
  /** Secrets the manifests use but do not contain (made with kubectl create secret). */
  externalSecrets?: readonly string[];
}

const KEYS_BY_ROLE = {
  coordinator: ['coordinator.key', 'coordinator.pub', 'worker.pub'],
  worker: ['worker.key', 'worker.pub', 'coordinator.pub'],
} as const;

interface PodTemplate {
  owner: string; // Kind/name
  namespace?: string;
  labels: Record<string, string>;
  spec: Obj;
  replicas: number;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function flag(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

function tcpEndpoint(s: string | undefined): { host: string; port: number } | undefined {
  const m = s ? /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(s) : null;
  return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

function podTemplates(docs: Obj[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const d of docs) {
    const owner = `${d.kind}/${d.metadata?.name}`;
    const ns = d.metadata?.namespace;
    if (d.kind === 'Pod' && isObj(d.spec)) out.push({ owner, namespace: ns, labels: d.metadata?.labels ?? {}, spec: d.spec, replicas: 1 });
    const t = d.spec?.template;
    if (['Job', 'Deployment', 'StatefulSet', 'ReplicaSet'].includes(d.kind) && isObj(t) && isObj(t.spec)) {
      const replicas = d.kind === 'Job' ? Number(d.spec.parallelism ?? 1) : Number(d.spec.replicas ?? 1);
      out.push({ owner, namespace: ns, labels: t.metadata?.labels ?? {}, spec: t.spec, replicas });
    }
  }
  return out;
}

const selects = (selector: unknown, labels: Record<string, string>) =>
  isObj(selector) && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Problems found, one line each; empty when the manifests are wired correctly. */
export function checkK8sWiring(input: readonly unknown[], options: WiringOptions = {}): string[] {
  const docs = input.filter(isObj);
  const problems: string[] = [];
  const bad = (m: string) => problems.push(m);
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const secrets = new Map(byKind('Secret').map((s) => [s.metadata?.name as string, s]));
  const pvcs = new Set(byKind('PersistentVolumeClaim').map((p) => p.metadata?.name as string));
  const services = byKind('Service');
  const external = new Set(options.externalSecrets ?? []);
  const namespaces = new Set(docs.map((d) => d.metadata?.namespace ?? ''));
  if (namespaces.size > 1) bad(`objects are in different namespaces (${[...namespaces].map((n) => n || '(default)').join(', ')}): they must share one`);

  const templates = podTemplates(docs);
  const containersOf = (t: PodTemplate) => [...list(t.spec.initContainers), ...list(t.spec.containers)];
  const args = (c: Obj) => [...strings(c.command), ...strings(c.args)];

  // --- volumes, Secrets, claims --------------------------------------------------------------------------------
  for (const t of templates) {
    const volumes = new Map(list(t.spec.volumes).map((v) => [v.name as string, v]));
    for (const c of containersOf(t)) {
      for (const m of list(c.volumeMounts)) {
        if (!volumes.has(m.name)) bad(`${t.owner}: container ${c.name} mounts volume '${m.name}', which the pod does not define`);
      }
    }
    for (const v of volumes.values()) {
      if (isObj(v.secret)) {
        const name = v.secret.secretName;
        const secret = secrets.get(name);
        if (!secret && !external.has(name)) bad(`${t.owner}: volume '${v.name}' uses Secret '${name}', which is not among the manifests`);
        if (secret) {
          const keys = new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})]);
          for (const item of list(v.secret.items)) {
            if (!keys.has(item.key)) bad(`${t.owner}: volume '${v.name}' takes key '${item.key}' from Secret '${name}', which has no such key`);
          }
        }
      }
      if (isObj(v.persistentVolumeClaim) && !pvcs.has(v.persistentVolumeClaim.claimName)) {
        bad(`${t.owner}: volume '${v.name}' uses PersistentVolumeClaim '${v.persistentVolumeClaim.claimName}', which is not among the manifests`);
      }
    }
  }

  /** The files a container's --keys DIR will hold, or a problem. */
  const keyFiles = (t: PodTemplate, c: Obj, dir: string): Set<string> | undefined => {
    const mount = list(c.volumeMounts).find((m) => m.mountPath === dir || m.mountPath === dir.replace(/\/$/, ''));
    const volume = mount && list(t.spec.volumes).find((v) => v.name === mount.name);
    if (!volume || !isObj(volume.secret)) {
      bad(`${t.owner}: container ${c.name} reads keys from ${dir}, where no Secret volume is mounted`);
      return undefined;
    }
    if (Array.isArray(volume.secret.items)) return new Set(list(volume.secret.items).map((i) => String(i.path)));
    const secret = secrets.get(volume.secret.secretName);
    return secret ? new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})]) : undefined; // external: unknown
  };
  const checkKeys = (t: PodTemplate, c: Obj, a: string[], role: 'coordinator' | 'worker') => {
    const dir = flag(a, '--keys');
    if (!dir) {
      bad(`${t.owner}: container ${c.name} has no --keys: traffic between pods must be encrypted (CURVE)`);
      return;
    }
    const files = keyFiles(t, c, dir);
    for (const f of files ? KEYS_BY_ROLE[role] : []) if (!files!.has(f)) bad(`${t.owner}: container ${c.name} (${role}) needs ${f} in ${dir}, which its Secret volume does not provide`);
  };

  // --- the coordinator ---------------------------------------------------------------------------------------
  const coordinators = templates.flatMap((t) => list(t.spec.containers).filter((c) => flag(args(c), '--listen')).map((c) => ({ t, c })));
  const workers = templates.flatMap((t) => list(t.spec.containers).filter((c) => flag(args(c), '--connect')).map((c) => ({ t, c })));
  if (coordinators.length !== 1) bad(`expected one coordinator container (nbm train --listen …), found ${coordinators.length}`);
  if (workers.length === 0) bad('no worker container (nbm worker --connect …)');
  const coordinator = coordinators[0];
  let listenPort: number | undefined;
  if (coordinator) {
    const { t, c } = coordinator;
    const a = args(c);
    const listen = tcpEndpoint(flag(a, '--listen'));
    if (!listen) bad(`${t.owner}: --listen must be tcp://HOST:PORT with a fixed port, got '${flag(a, '--listen')}'`);
    listenPort = listen?.port;
    if (listen && !list(c.ports).some((p) => Number(p.containerPort) === listen.port)) {
      bad(`${t.owner}: the coordinator listens on port ${listen.port} but its container declares ports ${JSON.stringify(list(c.ports).map((p) => p.containerPort))}`);
    }
    checkKeys(t, c, a, 'coordinator');
    const expected = Number(flag(a, '--expect'));
    const total = workers.reduce((n, w) => n + w.t.replicas, 0);
    if (flag(a, '--expect') === undefined || expected !== total) bad(`${t.owner}: the coordinator expects ${flag(a, '--expect') ?? '(no --expect)'} worker(s) but the worker Jobs run ${total}`);
    const runDir = (list(c.env).find((e) => e.name === 'NBM_RUN')?.value as string | undefined) ?? flag(a, '--out') ?? flag(a, '--resume');
    const runMount = runDir ? list(c.volumeMounts).find((m) => runDir === m.mountPath || runDir.startsWith(String(m.mountPath).replace(/\/$/, '') + '/')) : undefined;
    const runVolume = runMount && list(t.spec.volumes).find((v) => v.name === runMount.name);
    if (!runVolume || !isObj(runVolume.persistentVolumeClaim)) bad(`${t.owner}: the run directory ${runDir ?? '(none: no NBM_RUN, --out or --resume)'} is not on a PersistentVolumeClaim: a restarted coordinator could not resume`);
    const probe = c.readinessProbe;
    if (!isObj(probe)) bad(`${t.owner}: the coordinator has no readinessProbe (workers would be sent to it before it listens)`);
    else if (listen) {
      const hex = `:${listen.port.toString(16).toUpperCase().padStart(4, '0')} `;
      const port = probe.tcpSocket?.port;
      const ok = isObj(probe.tcpSocket)
        ? Number(port) === listen.port || list(c.ports).some((p) => p.name === port && Number(p.containerPort) === listen.port)
        : isObj(probe.exec) && (strings(probe.exec.command).join(' ').includes(hex) || /nbm status/.test(strings(probe.exec.command).join(' ')));
      if (!ok) bad(`${t.owner}: the coordinator's readinessProbe does not look at its port ${listen.port}`);
    }
  }

  // --- the Service and the workers' address ------------------------------------------------------------------
  for (const { t, c } of workers) {
    const a = args(c);
    checkKeys(t, c, a, 'worker');
    const limits = c.resources?.limits ?? {};
    if (!(Number(limits['nvidia.com/gpu']) >= 1)) bad(`${t.owner}: worker container ${c.name} does not ask for a GPU (resources.limits nvidia.com/gpu)`);
    const connect = tcpEndpoint(flag(a, '--connect'));
    if (!connect) {
      bad(`${t.owner}: --connect must be tcp://HOST:PORT, got '${flag(a, '--connect')}'`);
      continue;
    }
    const [svcName, svcNamespace] = connect.host.split('.');
    const svc = services.find((s) => s.metadata?.name === svcName);
    if (!svc) {
      bad(`${t.owner}: workers connect to '${connect.host}', but no Service is named '${svcName}'`);
      continue;
    }
    if (svcNamespace && svc.metadata?.namespace && svcNamespace !== svc.metadata.namespace) bad(`${t.owner}: workers connect to namespace '${svcNamespace}', but Service ${svcName} is in '${svc.metadata.namespace}'`);
    if (!coordinator) continue;
    if (!selects(svc.spec?.selector, coordinator.t.labels)) bad(`Service/${svcName}: its selector ${JSON.stringify(svc.spec?.selector)} does not select the coordinator pod (labels ${JSON.stringify(coordinator.t.labels)})`);
    for (const w of templates) if (w !== coordinator.t && selects(svc.spec?.selector, w.labels)) bad(`Service/${svcName}: its selector also selects ${w.owner}'s pods`);
    const svcPort = list(svc.spec?.ports).find((p) => Number(p.port) === connect.port);
    if (!svcPort) {
      bad(`${t.owner}: workers connect to port ${connect.port}, but Service/${svcName} serves ports ${JSON.stringify(list(svc.spec?.ports).map((p) => p.port))}`);
      continue;
    }
    const target = svcPort.targetPort ?? svcPort.port;
    const cport = typeof target === 'string' && !/^\d+$/.test(target)
      ? list(coordinator.c.ports).find((p) => p.name === target)?.containerPort
      : Number(target);
    if (cport === undefined) bad(`Service/${svcName}: targetPort '${target}' names no port of the coordinator container`);
    else if (listenPort !== undefined && Number(cport) !== listenPort) bad(`Service/${svcName}: port ${svcPort.port} leads to container port ${cport}, but the coordinator listens on ${listenPort}`);
    if (svc.spec?.clusterIP === 'None' && Number(cport) !== connect.port) bad(`Service/${svcName} is headless: workers reach the pod directly, so the port they connect to (${connect.port}) must be the coordinator's (${cport})`);
  }
  return problems;
}
