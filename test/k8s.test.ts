/**
 * Kubernetes (nbm infra k8s, infra/k8s/nbm.yaml) and the container image (infra/docker/Dockerfile), checked
 * statically: there is no cluster or container engine here. Every manifest is parsed back from its YAML and
 * validated against the Kubernetes API schemas (kubernetes-models); the wiring between objects is checked
 * (checkK8sWiring); deliberately broken manifests are caught; the readiness probe's shell command really tells a
 * listening port from a closed one.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { KEY_FILES_BY_ROLE, checkK8sWiring, k8sManifests, listeningProbeScript, toYaml, type K8sOptions } from '@nbm/launch';
import { infraCommand } from '../apps/cli/src/commands/infra.ts';
import { NBM_BIN, scratchDir, runNbm } from './helpers.ts';
import { TINY, loggedStep, metricRows, waitFor } from './cluster-helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'infra', 'k8s', 'nbm.yaml');
const DOCKERFILE = join(ROOT, 'infra', 'docker', 'Dockerfile');

type Doc = Record<string, any>;

/** Validates one object against its kind's schema; throws naming the object and the schema's complaint. */
function validate(doc: Doc): void {
  const what = `${doc.kind}/${doc.metadata?.name}`;
  const model = ({
    'batch/v1 Job': Job,
    'v1 Service': Service,
    'v1 Secret': Secret,
    'v1 PersistentVolumeClaim': PersistentVolumeClaim,
  } as Record<string, new (data: never) => { validate(): void }>)[`${doc.apiVersion} ${doc.kind}`];
  if (!model) throw new Error(`${what}: no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
  try {
    new model(structuredClone(doc) as never).validate();
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

/** Parses YAML as kubectl would (YAML 1.2) and also as a YAML 1.1 reader: both must read the same objects. */
function parseYaml(text: string): Doc[] {
  const read = (version: '1.1' | '1.2') =>
    parseAllDocuments(text, { version }).map((d) => {
      if (d.errors.length > 0) throw new Error(`YAML ${version}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as Doc;
    });
  const docs = read('1.2');
  expect(read('1.1'), 'YAML 1.1 and 1.2 readers agree').to.deep.equal(docs);
  return docs;
}

/** Everything wrong with a set of manifests: schema errors and wiring problems. */
function problems(docs: Doc[], externalSecrets: string[] = []): string[] {
  const out: string[] = [];
  for (const d of docs) {
    try {
      validate(d);
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return [...out, ...checkK8sWiring(docs, { externalSecrets })];
}

async function infraOutput(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await infraCommand(args);
    return { code, stdout };
  } finally {
    process.stdout.write = write;
  }
}

const KEYS = { 'coordinator.key': 'c-secret\n', 'coordinator.pub': 'c-public\n', 'worker.key': 'w-secret\n', 'worker.pub': 'w-public\n' };
const BASE: K8sOptions = { workers: 4, image: 'registry.example.com/nbm:0.1.0', trainArgs: ['--epochs', '50', '--checkpoint-every', '200'] };

const find = (docs: Doc[], kind: string, name: string) => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`no ${kind}/${name}`);
  return d;
};
const flagOf = (args: string[], f: string) => args[args.indexOf(f) + 1];

describe('Kubernetes manifests (nbm infra k8s)', () => {
  const variants: Array<[string, K8sOptions, string[]]> = [
    ['1 worker, Secret made with kubectl', { ...BASE, workers: 1 }, ['nbm-keys']],
    ['4 workers, keys in the output, a namespace', { ...BASE, keys: KEYS, namespace: 'ml' }, []],
    ['16 workers, another name, port and storage class', { ...BASE, workers: 16, name: 'mnist-big', port: 29500, storageClass: 'fast-ssd', storage: '200Gi', workerArgs: ['--heartbeat-ms', '500'] }, ['mnist-big-keys']],
  ];
  for (const [what, options, external] of variants) {
    it(`${what}: YAML that reads back to the same objects, each valid against the Kubernetes schemas, wired together`, () => {
      const docs = k8sManifests(options) as Doc[];
      const parsed = parseYaml(toYaml(docs));
      expect(parsed, 'YAML round trip').to.deep.equal(JSON.parse(JSON.stringify(docs)));
      expect(parsed.map((d) => d.kind).sort()).to.deep.equal([...(options.keys ? ['Secret'] : []), 'Job', 'Job', 'PersistentVolumeClaim', 'Service'].sort());
      expect(problems(parsed, external)).to.deep.equal([]);
    });
  }

  it('the wiring, spelled out: connect address → Service → coordinator port; Secret, claim and GPU per worker', () => {
    const docs = parseYaml(toYaml(k8sManifests({ ...BASE, keys: KEYS })));
    const svc = find(docs, 'Service', 'nbm-coordinator');
    const coordinator = find(docs, 'Job', 'nbm-coordinator').spec.template.spec;
    const workers = find(docs, 'Job', 'nbm-workers');
    const worker = workers.spec.template.spec.containers[0];
    // the workers dial the Service by name and port; it selects the coordinator pod and reaches its listening port
    expect(flagOf(worker.args, '--connect')).to.equal(`tcp://${svc.metadata.name}:${svc.spec.ports[0].port}`);
    expect(coordinator.containers[0].args).to.include.members(['--listen', 'tcp://0.0.0.0:5555']);
    const cport = coordinator.containers[0].ports.find((p: Doc) => p.name === svc.spec.ports[0].targetPort);
    expect(cport.containerPort).to.equal(5555);
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(find(docs, 'Job', 'nbm-coordinator').spec.template.metadata.labels[k]).to.equal(v);
    expect(svc.spec.selector['app.kubernetes.io/component']).to.not.equal(workers.spec.template.metadata.labels['app.kubernetes.io/component']);
    // the init container waits for the same Service name
    expect(workers.spec.template.spec.initContainers[0].command).to.include(svc.metadata.name);
    // an Indexed Job of N pods, each one GPU; the coordinator expects N
    expect(workers.spec).to.deep.include({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
    expect(worker.resources.limits['nvidia.com/gpu']).to.equal('1');
    expect(flagOf(coordinator.containers[0].args, '--expect')).to.equal('4');
    // the Secret the volumes name exists and holds each role's key files
    const secret = find(docs, 'Secret', 'nbm-keys');
    expect(Object.keys(secret.data).sort()).to.deep.equal(Object.keys(KEYS).sort());
    expect(Buffer.from(secret.data['worker.key'], 'base64').toString()).to.equal(KEYS['worker.key']);
    expect(coordinator.volumes.find((v: Doc) => v.secret).secret.items.map((i: Doc) => i.key)).to.deep.equal([...KEY_FILES_BY_ROLE.coordinator]);
    expect(workers.spec.template.spec.volumes.find((v: Doc) => v.secret).secret.items.map((i: Doc) => i.key)).to.deep.equal([...KEY_FILES_BY_ROLE.worker]);
    // the run directory is on the claim
    expect(coordinator.volumes.find((v: Doc) => v.persistentVolumeClaim).persistentVolumeClaim.claimName).to.equal(find(docs, 'PersistentVolumeClaim', 'nbm-runs').metadata.name);
    // resources: requests and limits on every container
    for (const c of [...coordinator.containers, worker, ...workers.spec.template.spec.initContainers]) {
      expect(c.resources.requests, c.name).to.have.keys(c.name === 'worker' ? ['cpu', 'memory', 'nvidia.com/gpu'] : ['cpu', 'memory']);
      expect(c.resources.limits, c.name).to.include.keys('memory');
    }
  });

  describe('broken manifests are caught', () => {
    const good = () => parseYaml(toYaml(k8sManifests({ ...BASE, keys: KEYS })));
    const cases: Array<[string, (d: Doc[]) => void, RegExp]> = [
      ['the Service on the wrong port', (d) => (find(d, 'Service', 'nbm-coordinator').spec.ports[0].port = 5556), /connect to port 5555, but Service\/nbm-coordinator serves ports \[5556\]/],
      ['the Secret missing', (d) => d.splice(d.findIndex((x) => x.kind === 'Secret'), 1), /uses Secret 'nbm-keys', which is not among the manifests/],
      ['the Secret without worker.key', (d) => delete find(d, 'Secret', 'nbm-keys').data['worker.key'], /takes key 'worker.key' from Secret 'nbm-keys', which has no such key/],
      ['a worker volume taking the wrong key files', (d) => (find(d, 'Job', 'nbm-workers').spec.template.spec.volumes[0].secret.items = [{ key: 'coordinator.key', path: 'coordinator.key' }]), /needs worker\.key in \/etc\/nbm\/keys/],
      ['the workers dialling a misspelt Service', (d) => (find(d, 'Job', 'nbm-workers').spec.template.spec.containers[0].args[2] = 'tcp://nbm-coordinater:5555'), /no Service is named 'nbm-coordinater'/],
      ['the coordinator listening on another port', (d) => (find(d, 'Job', 'nbm-coordinator').spec.template.spec.containers[0].args[1] = 'tcp://0.0.0.0:6000'), /listens on port 6000 but its container declares ports \[5555\]/],
      ['a Service selecting the workers', (d) => (find(d, 'Service', 'nbm-coordinator').spec.selector['app.kubernetes.io/component'] = 'worker'), /does not select the coordinator pod/],
      ['a claim of another name', (d) => (find(d, 'PersistentVolumeClaim', 'nbm-runs').metadata.name = 'nbm-run'), /PersistentVolumeClaim 'nbm-runs', which is not among the manifests/],
      ['--expect out of step with the workers', (d) => (find(d, 'Job', 'nbm-workers').spec.parallelism = 3), /expects 4 worker\(s\) but the worker Jobs run 3/],
      ['a worker without a GPU', (d) => delete find(d, 'Job', 'nbm-workers').spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'], /does not ask for a GPU/],
      ['no readiness probe', (d) => delete find(d, 'Job', 'nbm-coordinator').spec.template.spec.containers[0].readinessProbe, /no readinessProbe/],
      ['a mount of an undefined volume', (d) => (find(d, 'Job', 'nbm-coordinator').spec.template.spec.containers[0].volumeMounts[1].name = 'run'), /mounts volume 'run'/],
      // what the schemas catch
      ['completions as a word', (d) => (find(d, 'Job', 'nbm-workers').spec.completions = 'four'), /Job\/nbm-workers: .*completions must be integer/],
      ['a memory limit that is no quantity', (d) => (find(d, 'Job', 'nbm-workers').spec.template.spec.containers[0].resources.limits.memory = '16 gigs'), /Job\/nbm-workers: .*limits\/memory/],
      ['a container without a name', (d) => delete find(d, 'Job', 'nbm-coordinator').spec.template.spec.containers[0].name, /containers\/0 must have required property '?name'?/],
      ['a port number as a string', (d) => (find(d, 'Service', 'nbm-coordinator').spec.ports[0].port = '5555'), /Service\/nbm-coordinator: .*port must be integer/],
    ];
    it('the unbroken manifests have no problem (so each case below fails for its own reason)', () => {
      expect(problems(good())).to.deep.equal([]);
    });
    for (const [what, breakIt, expected] of cases) {
      it(what, () => {
        const docs = good();
        breakIt(docs);
        const found = problems(docs);
        expect(found.join('\n'), `expected a problem matching ${expected}`).to.match(expected);
      });
    }
  });

  it('infra/k8s/nbm.yaml is exactly what the command in its first line prints', async () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const first = text.split('\n')[0];
    expect(first).to.match(/^# nbm infra k8s /);
    const { code, stdout } = await infraOutput(first.replace(/^# nbm infra /, '').split(' '));
    expect(code).to.equal(0);
    expect(stdout, 'regenerate infra/k8s/nbm.yaml with the command in its first line').to.equal(text);
    expect(problems(parseYaml(text), ['nbm-keys'])).to.deep.equal([]);
  });

  it('nbm infra k8s --keys DIR embeds the keys of nbm keygen DIR; bad options are refused', async () => {
    const scratch = scratchDir('nbm-k8s-');
    try {
      const dir = join(scratch.dir, 'keys');
      expect((await runNbm(['keygen', dir])).code).to.equal(0);
      const { code, stdout } = await infraOutput(['k8s', '--workers', '2', '--image', 'nbm:test', '--keys', dir, '--namespace', 'ml', '--', '--epochs', '3']);
      expect(code).to.equal(0);
      const docs = parseYaml(stdout);
      expect(problems(docs)).to.deep.equal([]);
      expect(Buffer.from(find(docs, 'Secret', 'nbm-keys').data['coordinator.key'], 'base64').toString()).to.equal(readFileSync(join(dir, 'coordinator.key'), 'utf8'));
      expect(docs.every((d) => d.metadata.namespace === 'ml')).to.equal(true);
    } finally {
      scratch.remove();
    }
    for (const [args, message] of [
      [['k8s', '--image', 'x'], /--workers N is required/],
      [['k8s', '--workers', '2'], /--image IMAGE is required/],
      [['k8s', '--workers', '0', '--image', 'x'], /workers must be a positive integer/],
      [['k8s', '--workers', '2', '--image', 'x', '--name', 'Big_Run'], /name must be a DNS label/],
      [['k8s', '--workers', '2', '--image', 'x', '--worker-memory', '16 GB'], /worker memory must be a Kubernetes quantity/],
      [['k8s', '--workers', '2', '--image', 'x', '--', '--epoch', '3'], /'--epoch'/],
      [['k8s', '--workers', '2', '--image', 'x', '--', '--listen', 'tcp://0.0.0.0:1'], /--listen is set by the manifests/],
      [['k8s', '--workers', '2', '--image', 'x', '--keys', '/nonexistent'], /cannot read coordinator\.key/],
      [['slurm'], /nbm infra k8s/],
    ] as Array<[string[], RegExp]>) {
      let error: Error | undefined;
      await infraCommand(args).catch((e: Error) => (error = e));
      expect(error?.name, args.join(' ')).to.equal('UsageError');
      expect(error!.message, args.join(' ')).to.match(message);
    }
  });

  it("the coordinator's readiness probe command tells a listening port from a closed one (/proc/net/tcp)", async () => {
    const sh = (script: string) => new Promise<number>((resolve) => execFile('/bin/sh', ['-c', script], (err) => resolve(err ? Number((err as { code?: number }).code ?? 1) : 0)));
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    const port = (server.address() as { port: number }).port;
    expect(await sh(listeningProbeScript(port)), `port ${port} listening`).to.equal(0);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await sh(listeningProbeScript(port)), `port ${port} closed`).to.not.equal(0);
  });
});

describe("the manifests' container commands, run as their pods would run them (processes here, no cluster)", function () {
  this.timeout(240_000);
  let scratch: ReturnType<typeof scratchDir>;
  const children: ChildProcess[] = [];
  before(() => (scratch = scratchDir('nbm-pods-')));
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    scratch?.remove();
  });

  it('coordinator and 2 workers start from the manifests\' command lines; a killed coordinator restarted with the same command resumes', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const docs = k8sManifests({
      workers: 2, image: 'unused', port,
      trainArgs: [...TINY, '--max-steps', '16', '--checkpoint-every', '4', '--heartbeat-ms', '250', '--timeout-ms', '3000'],
      workerArgs: ['--heartbeat-ms', '250', '--timeout-ms', '3000'],
    }) as Doc[];
    const coordinator = find(docs, 'Job', 'nbm-coordinator').spec.template.spec;
    const workers = find(docs, 'Job', 'nbm-workers').spec.template.spec;
    // the pods' filesystems: each role's Secret volume holds only the items it names; the claim is a directory
    const keys = join(scratch.dir, 'keys');
    expect((await runNbm(['keygen', keys])).code).to.equal(0);
    const mountSecret = (spec: Doc, dir: string) => {
      mkdirSync(dir);
      for (const item of spec.volumes.find((v: Doc) => v.secret).secret.items) copyFileSync(join(keys, item.key), join(dir, item.path));
    };
    mountSecret(coordinator, join(scratch.dir, 'coordinator-keys'));
    mountSecret(workers, join(scratch.dir, 'worker-keys'));
    mkdirSync(join(scratch.dir, 'runs'));
    // the image's `nbm` on PATH
    const bin = join(scratch.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'nbm'), `#!/bin/sh\nexec "${process.execPath}" "${NBM_BIN}" "$@"\n`);
    chmodSync(join(bin, 'nbm'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    // what the kubelet and the cluster's DNS would do to the pods' strings
    const local = (role: 'coordinator' | 'worker') => (s: string) =>
      s.replaceAll('/etc/nbm/keys', join(scratch.dir, `${role}-keys`)).replace(/^\/runs\//, `${join(scratch.dir, 'runs')}/`)
        .replace('tcp://nbm-coordinator:', 'tcp://127.0.0.1:').replace('$(POD_IP)', '127.0.0.1');
    const start = (role: 'coordinator' | 'worker', c: Doc) => {
      const fix = local(role);
      const argv = [...(c.command ?? ['nbm']), ...c.args].map(fix);
      const podEnv = Object.fromEntries((c.env ?? []).filter((e: Doc) => 'value' in e).map((e: Doc) => [e.name, fix(e.value)]));
      const child = spawn(argv[0], argv.slice(1), { env: { ...env, ...podEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout!.on('data', (d) => (log += d));
      child.stderr!.on('data', (d) => (log += d));
      children.push(child);
      const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      return { child, exit, log: () => log };
    };
    const run = join(scratch.dir, 'runs', 'nbm');
    const ready = () => new Promise<boolean>((r) => execFile(coordinator.containers[0].readinessProbe.exec.command[0], coordinator.containers[0].readinessProbe.exec.command.slice(1), (err) => r(!err)));
    const waitReady = async (what: string, logs: () => string) => {
      const deadline = Date.now() + 120_000;
      while (!(await ready())) {
        if (Date.now() > deadline) throw new Error(`the readiness probe never passed (${what})\n${logs()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    expect(await ready(), 'not ready before the coordinator starts').to.equal(false);
    const c1 = start('coordinator', coordinator.containers[0]);
    await waitReady('first start', c1.log);
    const w1 = [start('worker', workers.containers[0]), start('worker', workers.containers[0])];
    // metrics.csv is flushed just before a checkpoint is written: wait for the checkpoint itself
    await waitFor('the first checkpoint', () => loggedStep(run) >= 4 && existsSync(join(run, 'checkpoints', 'latest.json')), 120_000, () => c1.log());
    c1.child.kill('SIGKILL'); // the coordinator's node fails; its Job starts the same container again
    await c1.exit;
    // the workers give up on the silent coordinator and exit non-zero: restartPolicy OnFailure restarts them
    for (const w of w1) expect(await w.exit, w.log()).to.not.equal(0);
    const c2 = start('coordinator', coordinator.containers[0]);
    await waitReady('restart', c2.log);
    const w2 = [start('worker', workers.containers[0]), start('worker', workers.containers[0])];
    expect(await c2.exit, c2.log()).to.equal(0);
    for (const w of w2) expect(await w.exit, w.log()).to.equal(0);
    expect(c1.log()).to.not.match(/resuming/);
    expect(c2.log()).to.match(/resuming \S+ from \S+ \(step (4|8|12)\)/);
    const train = metricRows(run).filter((r) => r.kind === 'train');
    expect(train.map((r) => Number(r.step))).to.deep.equal(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(new Set(train.map((r) => r.world_size))).to.deep.equal(new Set(['2']));
    const status = JSON.parse(readFileSync(join(run, 'status.json'), 'utf8')) as { members: Array<{ device: string }> };
    expect(status.members.map((m) => m.device)).to.deep.equal(['cuda:0', 'cuda:0']);
  });
});

describe('container image (infra/docker/Dockerfile, linted: no container engine here)', () => {
  const text = readFileSync(DOCKERFILE, 'utf8');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = Object.fromEntries(lines.filter((l) => l.startsWith('ARG ')).map((l) => l.slice(4).split('=')));
  const stages = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('FROM '));
  const last = lines.slice(stages.at(-1)![1]);

  it('CUDA 11.2 + cuDNN 8 on the final image, Node 20 copied from the official image', () => {
    expect(args.CUDA_IMAGE).to.match(/^nvidia\/cuda:11\.2\.\d+-cudnn8-runtime-ubuntu\d+\.\d+$/);
    expect(args.NODE_IMAGE).to.match(/^node:20[-.]/);
    const bases = stages.map(([l]) => l.split(/\s+/)[1]);
    expect(bases).to.include('${CUDA_IMAGE}');
    // the final stage builds on the CUDA one
    expect(stages.at(-1)![0]).to.match(/^FROM (base|\$\{CUDA_IMAGE\})$/);
    expect(lines.find((l) => /^FROM \$\{CUDA_IMAGE\} AS base$/.test(l))).to.not.equal(undefined);
  });

  it('npm ci from the lockfile with the GPU package', () => {
    expect(text).to.match(/npm ci\b/);
    expect(text).to.match(/tfjs-node-gpu/);
    const lock = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
    expect(lock.optionalDependencies['@tensorflow/tfjs-node-gpu'], 'the GPU package stays an optional dependency that npm ci installs').to.equal('4.22.0');
  });

  it('runs as a non-root user with uid 1000 (the manifests\' runAsUser), nbm as the entry point and on PATH', () => {
    const users = last.filter((l) => l.startsWith('USER '));
    expect(users, 'one USER in the final stage').to.have.length(1);
    expect(users[0]).to.not.match(/^USER (root|0)(:|$)/);
    const user = users[0].slice(5).split(':')[0];
    expect(last.join('\n')).to.match(new RegExp(`useradd[^\\n]*--uid 1000[^\\n]* ${user}\\b`));
    const job = (k8sManifests(BASE) as Doc[]).find((d) => d.kind === 'Job')!;
    expect(job.spec.template.spec.securityContext.runAsUser).to.equal(1000);
    expect(last.some((l) => /^ENTRYPOINT \["nbm"\]$/.test(l)), 'ENTRYPOINT ["nbm"] (exec form)').to.equal(true);
    expect(last.join('\n')).to.match(/ln -s \/opt\/nbm\/apps\/cli\/bin\/nbm\.js \/usr\/local\/bin\/nbm/);
    // the run directory the manifests mount exists and belongs to that user
    expect(last.join('\n')).to.match(/mkdir -p \/runs && chown nbm:nbm \/runs/);
  });
});
