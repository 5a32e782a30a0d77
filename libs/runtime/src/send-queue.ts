/**
 * One send queue per socket: zeromq.js allows one pending send per socket (a second gives EBUSY),
 * so every send of a socket goes through its queue and they run one after another, in call order.
 */

/** What the queue needs of a socket. */
export interface Sender {
  send(frames: Buffer[]): Promise<void>;
}

/** Serialises the sends of one socket. A failed send rejects its own promise and does not stop the queue. */
export class SendQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly socket: Sender) {}

  /** Queues `frames`; resolves once ZeroMQ has taken the message, rejects with the socket's error. */
  send(frames: Buffer[]): Promise<void> {
    const sent = this.tail.then(() => this.socket.send(frames));
    this.tail = sent.catch(() => undefined);
    return sent;
  }
}
