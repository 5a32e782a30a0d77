/**
 * A ZAP handler (ZeroMQ RFC 27) that admits only CURVE clients whose public key is on a list.
 *
 * libzmq asks the handler bound at `inproc://zeromq.zap.01` of the socket's context about every
 * incoming CURVE handshake; a `400` reply fails the handshake, and the client sees
 * `handshake:error:auth`. There can be one handler per context, so each CURVE coordinator has a
 * context of its own.
 */
import { Router, type Context } from 'zeromq';
import { SendQueue } from './send-queue.ts';
import { describe, type Log } from './log.ts';
import { z85Decode, z85Encode } from './z85.ts';

/** The endpoint libzmq sends ZAP requests to. */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/** A running ZAP handler. */
export interface ZapHandler {
  close(): void;
}

/** What the handler decided about one handshake. */
export interface ZapDecision {
  allowed: boolean;
  /** The client's public key (Z85), when it offered one. */
  clientKey?: string;
  /** The peer's IP address as libzmq reports it. */
  address: string;
  /** Why, in words. */
  reason: string;
}

/**
 * Binds a ZAP handler on `context` that allows exactly the CURVE public keys in `allowedClients`
 * (Z85) and calls `onDecision` for each handshake. Refuses every other mechanism (NULL, PLAIN).
 */
export async function startZapHandler(
  context: Context,
  allowedClients: readonly string[],
  onDecision: (d: ZapDecision) => void,
  log: Log,
): Promise<ZapHandler> {
  // normalise through bytes so that equal keys compare equal as strings
  const allowed = new Set(allowedClients.map((k) => z85Encode(z85Decode(k))));
  const socket = new Router({ context, linger: 0 });
  await socket.bind(ZAP_ENDPOINT);
  const queue = new SendQueue(socket);
  let closed = false;

  void (async () => {
    try {
      for await (const frames of socket) {
        // [routing id, empty, version, request id, domain, address, identity, mechanism, ...credentials]
        if (frames.length < 8) {
          log(`ZAP: ignoring a malformed request of ${frames.length} frames`);
          continue;
        }
        const [routing, empty, version, requestId, , addressFrame, , mechanismFrame, ...credentials] = frames;
        const address = addressFrame.toString();
        const mechanism = mechanismFrame.toString();
        let decision: ZapDecision;
        if (version.toString() !== '1.0') {
          decision = { allowed: false, address, reason: `ZAP version ${JSON.stringify(version.toString())} is not 1.0` };
        } else if (mechanism !== 'CURVE' || credentials.length !== 1 || credentials[0].length !== 32) {
          decision = { allowed: false, address, reason: `mechanism ${mechanism} is not CURVE: this coordinator only admits CURVE clients` };
        } else {
          const clientKey = z85Encode(credentials[0]);
          decision = allowed.has(clientKey)
            ? { allowed: true, clientKey, address, reason: 'allowed client key' }
            : { allowed: false, clientKey, address, reason: `CURVE public key ${clientKey} is not among the allowed clients` };
        }
        onDecision(decision);
        const status = decision.allowed ? '200' : '400';
        const text = decision.allowed ? 'OK' : decision.reason.slice(0, 200);
        const userId = decision.clientKey ?? '';
        queue.send([routing, empty, Buffer.from('1.0'), requestId, Buffer.from(status), Buffer.from(text), Buffer.from(userId), Buffer.alloc(0)]).catch((err) => {
          if (!closed) log(`ZAP: cannot reply: ${describe(err)}`);
        });
      }
    } catch (err) {
      if (!closed) log(`ZAP handler stopped: ${describe(err)}`);
    }
  })();

  return {
    close() {
      closed = true;
      socket.close();
    },
  };
}
