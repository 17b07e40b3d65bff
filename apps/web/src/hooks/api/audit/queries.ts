import type { List } from '@qubot/api-contract';
import { useInfiniteQuery } from '@tanstack/react-query';
import { apiFetch, buildUrl } from '../../../lib/api-client';

/** Not in @qubot/api-contract yet (DESIGN §2 "Audit entry"); fields beyond these are ignored. */
export interface AuditEntry {
  id: string;
  actor: string;
  role?: string | null;
  action: string;
  target?: string | null;
  reason?: string | null;
  requestId?: string | null;
  clientAddress?: string | null;
  createdAt?: string;
  at?: string;
}

export interface AuditFilters {
  actor?: string | undefined;
  action?: string | undefined;
  env?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

function normalize(filters: AuditFilters): AuditFilters {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => Boolean(v))) as AuditFilters;
}

export const auditKeys = {
  all: ['audit'] as const,
  lists: () => [...auditKeys.all, 'list'] as const,
  list: (filters: AuditFilters) => [...auditKeys.lists(), normalize(filters)] as const,
};

export const fetchAudit = (filters: AuditFilters, cursor: string | null, signal?: AbortSignal) =>
  apiFetch<List<AuditEntry>>('/audit', { query: { ...normalize(filters), cursor }, signal: signal ?? null });

export const auditCsvUrl = (filters: AuditFilters) =>
  buildUrl('/audit', { ...normalize(filters), format: 'csv' });

export function useAudit(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: auditKeys.list(filters),
    queryFn: ({ pageParam, signal }) => fetchAudit(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
}
