import { describe, expect, it } from 'vitest';
import { auditCsvUrl } from '../hooks/api/audit/queries';
import { api } from './api-client';

// The dashboard calls routes by their full key (`GET /api/v1/…`): the addresses must stay the
// same-origin ones it always used.
describe('[WEB] api client addresses', () => {
  it('fills and encodes path parameters under /api/v1, same origin', () => {
    const url = api.url('GET /api/v1/apps/:app/releases/:version', {
      params: { app: 'qubot-one', version: '1.2.3+build/4' },
    });
    expect(url).toBe('/api/v1/apps/qubot-one/releases/1.2.3%2Bbuild%2F4');
  });

  it('exports the audit trail with the page filters, leaving out the empty ones', () => {
    expect(auditCsvUrl({ actor: 'alice', action: '', hideSignIns: true })).toBe(
      '/api/v1/audit.csv?actor=alice&hideSignIns=true',
    );
  });
});
