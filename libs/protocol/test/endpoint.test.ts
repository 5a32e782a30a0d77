import { expect } from 'chai';
import { isLoopbackEndpoint } from '../src/index.ts';

describe('isLoopbackEndpoint: the one rule for which endpoints may go unencrypted', () => {
  it('accepts ipc, inproc, and tcp on 127.0.0.0/8, localhost or [::1]', () => {
    for (const e of [
      'tcp://127.0.0.1:5555',
      'tcp://127.0.0.1:*',
      'tcp://127.1.2.3:*',
      'tcp://127.255.3.4:1',
      'tcp://localhost:1',
      'tcp://localhost:9',
      'tcp://[::1]:9',
      'ipc:///tmp/s',
      'ipc:///tmp/x',
      'inproc://x',
      'inproc://y',
    ]) {
      expect(isLoopbackEndpoint(e), e).to.equal(true);
    }
  });

  it('refuses wildcards, other hosts, a missing port, source parts, other schemes and non-endpoints', () => {
    for (const e of [
      'tcp://0.0.0.0:5555',
      'tcp://*:5555',
      'tcp://10.0.0.2:1',
      'tcp://128.0.0.1:1',
      'tcp://eth0:1',
      'tcp://eth0:5555',
      'tcp://127.0.0.1',
      'tcp://10.0.0.1;127.0.0.1:5',
      'udp://127.0.0.1:1',
      'ipc://',
      'nonsense',
      '',
    ]) {
      expect(isLoopbackEndpoint(e), e).to.equal(false);
    }
  });

  it('refuses a dotted quad with an octet over 255: it is no address at all', () => {
    for (const e of ['tcp://127.0.0.256:1', 'tcp://127.999.0.1:1', 'tcp://127.1.300.1:*']) expect(isLoopbackEndpoint(e), e).to.equal(false);
  });
});
