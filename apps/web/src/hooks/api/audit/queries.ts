import type { AuditEntry, AuditQuery } from '@qubot/api-contract';
import { useInfiniteQuery } from '@tanstack/react-query';
import { dayBound } from '../../../features/audit/audit-utils';
import { api } from '../../../lib/api-client';

export type { AuditEntry };

/** The page's filters as the URL keeps them: `from`/`to` are local days (`2026-11-30`). */
export interface AuditFilters {
  actor?: string | undefined;
  action?: string | undefined;
  env?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  hideSignIns?: boolean | undefined;
}

function normalize(filters: AuditFilters): AuditFilters {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => Boolean(v))) as AuditFilters;
}

/** The API's query: days become date-time bounds (both days included). */
export function auditQuery(filters: AuditFilters): AuditQuery {
  const f = normalize(filters);
  return {
    actor: f.actor,
    action: f.action,
    env: f.env,
    from: dayBound(f.from, 'from'),
    to: dayBound(f.to, 'to'),
    hideSignIns: f.hideSignIns ? true : undefined,
  };
}

export const auditKeys = {
  all: ['audit'] as const,
  lists: () => [...auditKeys.all, 'list'] as const,
  list: (filters: AuditFilters) => [...auditKeys.lists(), normalize(filters)] as const,
};

export const fetchAudit = (filters: AuditFilters, cursor: string | null, signal?: AbortSignal) =>
  api.call('GET /api/v1/audit', {
    query: { ...auditQuery(filters), cursor: cursor ?? undefined },
    signal: signal ?? null,
  });

export const auditCsvUrl = (filters: AuditFilters) =>
  api.url('GET /api/v1/audit.csv', { query: auditQuery(filters) });

export function useAudit(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: auditKeys.list(filters),
    queryFn: ({ pageParam, signal }) => fetchAudit(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
}
