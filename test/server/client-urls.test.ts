import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { clientUrls } from '../../src/server/client-urls.js';

const entry = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) =>
  ({
    address,
    family,
    internal,
    netmask: '',
    mac: '',
    cidr: null,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  }) as NetworkInterfaceInfo;

const machine = {
  eth0: [entry('10.0.0.5', 'IPv4', false), entry('fe80::1', 'IPv6', false), entry('fd00::5', 'IPv6', false)],
  lo: [entry('127.0.0.1', 'IPv4', true), entry('::1', 'IPv6', true)],
  wlan0: [entry('192.168.1.20', 'IPv4', false)],
};

describe('the URLs the daemon prints', () => {
  it('names a bound address as it is', () => {
    expect(clientUrls({ address: '127.0.0.1', family: 'IPv4', port: 5000 }, machine)).toEqual([
      'http://127.0.0.1:5000',
    ]);
    expect(clientUrls({ address: '::1', family: 'IPv6', port: 5000 }, machine)).toEqual([
      'http://[::1]:5000',
    ]);
  });

  it('turns 0.0.0.0 into loopback and each IPv4 interface address, loopback first', () => {
    expect(clientUrls({ address: '0.0.0.0', family: 'IPv4', port: 5000 }, machine)).toEqual([
      'http://127.0.0.1:5000',
      'http://10.0.0.5:5000',
      'http://192.168.1.20:5000',
    ]);
  });

  it('turns :: into both families, leaving out link-local addresses', () => {
    expect(clientUrls({ address: '::', family: 'IPv6', port: 5000 }, machine)).toEqual([
      'http://127.0.0.1:5000',
      'http://[::1]:5000',
      'http://10.0.0.5:5000',
      'http://192.168.1.20:5000',
      'http://[fd00::5]:5000',
    ]);
  });
});
