import {
  Backup,
  BackupDetail,
  BackupListQuery,
  BackupParams,
  BackupStatus,
  BackupVerification,
  CreateBackupBody,
  ListOf,
  RestoreBackupBody,
  RestoreResult,
  VerifyBackupBody,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409, 502);

/** Backups of Qubot Deploy's own database, admin only (docs/backup.md). */
export default async function backupRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const backups = app.backups;
  app.get(
    '/backups',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['backups'],
        summary:
          'Complete backups in the backup directory and in the S3-compatible storage (when configured), newest first; `locations` says where each is (admin)',
        querystring: BackupListQuery,
        response: { 200: ListOf(Backup), ...errors },
      },
    },
    async (request) => backups.list(request.ctx(), request.query),
  );
  app.get(
    '/backups/status',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['backups'],
        summary: 'Last backup, last restore drill, the drill alert state and the schedule (admin)',
        response: { 200: BackupStatus, ...errors },
      },
    },
    async (request) => backups.status(request.ctx()),
  );
  app.post(
    '/backups',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['backups'],
        summary:
          'Take a backup now: one consistent snapshot of the whole database, uploaded to the S3-compatible storage when one is configured (`target`); 502 when the upload fails, the local backup is kept (admin)',
        body: CreateBackupBody,
        response: { 201: Backup, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await backups.create(request.ctx(), request.body)),
  );
  app.get(
    '/backups/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['backups'],
        summary: 'One backup with its manifest: per-table row counts and checksums (admin)',
        params: BackupParams,
        response: { 200: BackupDetail, ...errors },
      },
    },
    async (request) => backups.get(request.ctx(), request.params.id),
  );
  app.post(
    '/backups/:id/verify',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['backups'],
        summary:
          'Verify a backup: checksums and row counts of every file, then (unless restore: false) a restore drill into a scratch database that is compared, migrated and booted (admin). ok: false names the file or table at fault.',
        params: BackupParams,
        body: VerifyBackupBody,
        response: { 200: BackupVerification, ...errors },
      },
    },
    async (request) => backups.verify(request.ctx(), request.params.id, request.body ?? {}),
  );
  app.post(
    '/backups/:id/restore',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['backups'],
        summary:
          'Restore a backup into a NEW database on the same server (admin); the running database is never overwritten. Disaster recovery with the server stopped: `pnpm --filter @qubot/api restore` (docs/backup.md).',
        params: BackupParams,
        body: RestoreBackupBody,
        response: { 201: RestoreResult, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await backups.restore(request.ctx(), request.params.id, request.body)),
  );
}
