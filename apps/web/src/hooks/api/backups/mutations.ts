import type { Backup, BackupVerification, RestoreResult } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { backupKeys } from './queries';

export function useCreateBackup() {
  const queryClient = useQueryClient();
  return useMutation<Backup, ApiError, { reason?: string }>({
    mutationFn: (body) => api.call('POST /api/v1/backups', { body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: backupKeys.all }),
  });
}

export function useVerifyBackup() {
  const queryClient = useQueryClient();
  return useMutation<BackupVerification, ApiError, { id: string; restore: boolean }>({
    mutationFn: ({ id, restore }) =>
      api.call('POST /api/v1/backups/:id/verify', { params: { id }, body: { restore } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: backupKeys.all }),
  });
}

export function useRestoreBackup() {
  const queryClient = useQueryClient();
  return useMutation<RestoreResult, ApiError, { id: string; database: string; reason: string }>({
    mutationFn: ({ id, database, reason }) =>
      api.call('POST /api/v1/backups/:id/restore', { params: { id }, body: { database, reason } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: backupKeys.all }),
  });
}
