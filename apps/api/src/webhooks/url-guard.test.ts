import { describe, expect, it } from 'vitest';
import { assertPublicHost, BlockedAddressError, isPrivateAddress } from './url-guard.ts';
import { sign, verifySignature } from './webhook-payload.ts';

describe('[webhooks] address guard', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.5',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not-an-address',
  ])('refuses %s', (a) => expect(isPrivateAddress(a)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'lets %s through',
    (a) => expect(isPrivateAddress(a)).toBe(false),
  );

  it('resolves names and names the address at fault', async () => {
    await expect(assertPublicHost('localhost')).rejects.toBeInstanceOf(BlockedAddressError);
    await expect(assertPublicHost('[::1]')).rejects.toThrow(/::1, a loopback, private or link-local/);
    await expect(assertPublicHost('8.8.8.8')).resolves.toBeUndefined();
  });
});

describe('[webhooks] signature', () => {
  it('verifies what it signs, and nothing else', () => {
    const body = '{"event":"release.created"}';
    const header = sign('whsec_k', body, 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature('whsec_k', body, header, 1_700_000_010)).toBe(true);
    expect(verifySignature('whsec_k', body, header, 1_700_000_400)).toBe(false); // too old: a replay
    expect(verifySignature('whsec_x', body, header, 1_700_000_010)).toBe(false);
    expect(verifySignature('whsec_k', `${body}\n`, header, 1_700_000_010)).toBe(false);
    expect(
      verifySignature('whsec_k', body, header.replace('t=1700000000', 't=1700000005'), 1_700_000_010),
    ).toBe(false);
    expect(verifySignature('whsec_k', body, undefined, 1_700_000_010)).toBe(false);
  });
});
