/**
 * Test hosts in network namespaces: a bridge in this namespace (the coordinator's host) and one namespace per
 * worker host, each joined to the bridge by a veth pair, all on one private /24 that exists only inside this
 * machine. Traffic goes only to these addresses. Requires root (CI runs as root); `available()` says why not.
 */
import { execFileSync } from 'node:child_process';

export interface TestHost {
  readonly ns: string;
  readonly ip: string;
  /** the host-side end of its veth pair (where tc shapes its link) */
  readonly link: string;
}

export interface TestNetwork {
  readonly coordinatorIp: string;
  readonly hosts: readonly TestHost[];
  /** runs argv inside host i's namespace: ['ip', 'netns', 'exec', ns, ...argv] */
  exec(i: number, argv: string[]): string[];
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Why namespaces cannot be made here, or null if they can. */
export function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `nbmprobe${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return null;
  } catch (e) {
    return `ip netns add failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Builds `n` hosts on 10.213.<subnet>.0/24 (the coordinator is .1, host i is .(10+i)). */
export function createNetwork(n: number, subnet = 200 + (process.pid % 50)): TestNetwork {
  const tag = `${process.pid % 100000}`;
  const bridge = `nbr${tag}`;
  const hosts: TestHost[] = [];
  const coordinatorIp = `10.213.${subnet}.1`;
  const remove = () => {
    for (const h of hosts) {
      try { ip('link', 'del', h.link); } catch { /* already gone */ }
      try { ip('netns', 'del', h.ns); } catch { /* already gone */ }
    }
    try { ip('link', 'del', bridge); } catch { /* already gone */ }
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${coordinatorIp}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let i = 0; i < n; i++) {
      const ns = `nbmh${tag}x${i}`;
      const link = `nv${tag}x${i}`;
      const peer = `np${tag}x${i}`;
      const host = { ns, ip: `10.213.${subnet}.${10 + i}`, link };
      hosts.push(host);
      ip('netns', 'add', ns);
      ip('link', 'add', link, 'type', 'veth', 'peer', 'name', peer);
      ip('link', 'set', peer, 'netns', ns);
      ip('link', 'set', link, 'master', bridge);
      ip('link', 'set', link, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${host.ip}/24`, 'dev', peer);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    }
  } catch (e) {
    remove();
    throw e;
  }
  return {
    coordinatorIp,
    hosts,
    exec: (i, argv) => ['ip', 'netns', 'exec', hosts[i].ns, ...argv],
    remove,
  };
}

/** Limits a host's link with a token bucket (rate and queueing delay). netem is used instead when the kernel has it. */
export function shapeLink(host: TestHost): string {
  try {
    execFileSync('tc', ['qdisc', 'add', 'dev', host.link, 'root', 'netem', 'delay', '20ms', '5ms', 'loss', '1%'], { stdio: 'pipe' });
    return 'netem: 20 ± 5 ms delay, 1% loss';
  } catch {
    execFileSync('tc', ['qdisc', 'add', 'dev', host.link, 'root', 'tbf', 'rate', '40mbit', 'burst', '64kb', 'latency', '200ms'], { stdio: 'pipe' });
    return 'tbf: 40 Mbit/s, up to 200 ms queueing (this kernel has no netem qdisc)';
  }
}
