/**
 * Raw sockets that play a misbehaving peer: a DEALER that talks to a real coordinator, or a ROUTER
 * that plays the coordinator for a real worker. Each has one receive loop that collects messages,
 * and every wait has a timeout.
 */
import { Dealer, Router } from 'zeromq';
import { decode, type Message } from '@nbm/protocol';

/** Collects what a socket receives; {@link next} waits for the next message with a timeout. */
class Inbox {
  private readonly messages: Buffer[][] = [];
  private waiter: (() => void) | undefined;

  constructor(socket: AsyncIterable<Buffer[]>) {
    void (async () => {
      try {
        for await (const frames of socket) {
          this.messages.push(frames);
          this.waiter?.();
        }
      } catch {
        // closed
      }
    })();
  }

  /** Resolves with the next message, or rejects after `timeoutMs`. */
  async next(timeoutMs: number): Promise<Buffer[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.messages.length === 0) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.messages.shift()!;
  }

  /** Resolves with the next message that decodes and satisfies `pred`, skipping others. */
  async nextMatching(pred: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const frames = await this.next(Math.max(1, deadline - performance.now()));
      try {
        const msg = decode(frames);
        if (pred(msg)) return msg;
      } catch {
        // not ours to judge here
      }
    }
  }
}

/** A raw DEALER connected to `endpoint`. */
export class RawDealer {
  readonly socket = new Dealer({ linger: 0 });
  readonly inbox = new Inbox(this.socket);
  constructor(endpoint: string, curve?: { publicKey: string; secretKey: string; serverKey: string }) {
    if (curve) {
      this.socket.curveServerKey = curve.serverKey;
      this.socket.curvePublicKey = curve.publicKey;
      this.socket.curveSecretKey = curve.secretKey;
    }
    this.socket.connect(endpoint);
  }
  send(frames: Uint8Array[]): Promise<void> {
    return this.socket.send(frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength)));
  }
  close(): void {
    this.socket.close();
  }
}

/** A raw ROUTER bound on loopback; it learns the routing id of whoever sends first. */
export class RawRouter {
  readonly socket = new Router({ linger: 0, mandatory: true, sendTimeout: 1000 });
  private inbox = new Inbox(this.socket);
  endpoint = '';
  peer: Buffer | undefined;

  static async bind(): Promise<RawRouter> {
    const r = new RawRouter();
    await r.socket.bind('tcp://127.0.0.1:*');
    r.endpoint = r.socket.lastEndpoint!;
    return r;
  }
  /** The next message's frames without the routing id (and remembers the sender). */
  async next(timeoutMs: number): Promise<Buffer[]> {
    const [id, ...frames] = await this.inbox.next(timeoutMs);
    this.peer = id;
    return frames;
  }
  /** The next message from the peer that decodes and satisfies `pred`. */
  async nextMatching(pred: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const frames = await this.next(Math.max(1, deadline - performance.now()));
      try {
        const msg = decode(frames);
        if (pred(msg)) return msg;
      } catch {
        // skip
      }
    }
  }
  send(frames: Uint8Array[]): Promise<void> {
    if (!this.peer) throw new Error('RawRouter: no peer has sent anything yet');
    return this.socket.send([this.peer, ...frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))]);
  }
  close(): void {
    this.socket.close();
  }
}
