import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const backupKeys = {
  all: ['backups'] as const,
  list: () => [...backupKeys.all, 'list'] as const,
  status: () => [...backupKeys.all, 'status'] as const,
};

export function useBackups(enabled = true) {
  return useQuery({
    queryKey: backupKeys.list(),
    queryFn: ({ signal }) => api.call('GET /api/v1/backups', { signal }),
    enabled,
  });
}

export function useBackupStatus(enabled = true) {
  return useQuery({
    queryKey: backupKeys.status(),
    queryFn: ({ signal }) => api.call('GET /api/v1/backups/status', { signal }),
    enabled,
  });
}
