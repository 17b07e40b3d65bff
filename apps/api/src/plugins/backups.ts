// Backups of Qubot Deploy's own database (docs/backup.md): the service, its schedule (one process
// of the cluster runs it: cluster-task's advisory lock) and two /metrics gauges.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { createClusterTask } from '../lib/cluster-task.ts';
import { type BackupOptions, type BackupService, createBackupService } from '../services/backup-service.ts';

export interface BackupPluginOptions extends BackupOptions {
  /** Run the schedule in this process (workers); the advisory lock lets only one of them act. */
  schedule: boolean;
  /** How often the schedule looks whether a backup or a drill is due (default one minute). */
  checkEveryMs?: number;
  /** Boots the API against a restored database and checks /readyz (app.ts). */
  bootCheck: (url: string) => Promise<void>;
  toolVersion: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    backups: BackupService;
  }
}

/** Distinct from the sampler's, health monitor's and reconciler's lock namespaces. */
const LOCK_NAMESPACE = 727274013;
/** /metrics reads the status at most this often (one small indexed query on the backups table). */
const STATUS_TTL_MS = 15_000;

export default fp(
  async (app: FastifyInstance, opts: BackupPluginOptions) => {
    let cached: { at: number; value: ReturnType<BackupService['statusForMetrics']> } | null = null;
    const service = createBackupService({
      transact: app.repos.transact,
      backups: app.repos.backups,
      databaseUrl: app.db.url,
      bootCheck: opts.bootCheck,
      options: opts,
      toolVersion: opts.toolVersion,
      onChange: () => {
        cached = null;
      },
    });
    app.decorate('backups', service);

    const status = () => {
      if (!cached || Date.now() - cached.at > STATUS_TTL_MS) {
        const value = service.statusForMetrics();
        value.catch(() => {
          cached = null;
        });
        cached = { at: Date.now(), value };
      }
      return cached.value;
    };
    // The newest backup's and the newest good drill's times are the control plane's
    // `qubot_backup_last_timestamp_seconds` / `qubot_backup_restore_drill_age_seconds`
    // (metrics/control-plane-metrics.ts, docs/monitoring.md); these two add the drill's outcome
    // and the alert state.
    new Gauge({
      name: 'qubot_restore_drill_last_ok',
      help: 'Whether the newest restore drill or verify succeeded (1) or failed (0); absent before the first',
      registers: [app.metrics],
      async collect() {
        const s = await status().catch(() => null);
        this.reset();
        if (s?.lastDrill) this.set(s.lastDrill.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'qubot_restore_drill_overdue',
      help: 'Alert state: 1 when the last successful restore drill is older than QUBOT_RESTORE_DRILL_MAX_AGE_HOURS',
      registers: [app.metrics],
      async collect() {
        const s = await status().catch(() => null);
        this.set(s?.drillState === 'overdue' ? 1 : 0);
      },
    });

    if (!opts.schedule) return;
    const task = createClusterTask({
      url: app.db.url,
      namespace: LOCK_NAMESPACE,
      name: 'backup-schedule',
      intervalMs: opts.checkEveryMs ?? 60_000,
      round: async () => {
        const r = await service.runSchedule();
        if (r.backup || r.drill || r.pruned.length || r.prunedRemote.length)
          app.log.info(
            {
              backup: r.backup,
              pruned: r.pruned,
              prunedRemote: r.prunedRemote,
              drill: r.drill && { ok: r.drill.ok, error: r.drill.error },
            },
            'backup schedule',
          );
        if (r.uploadError) app.log.error({ backup: r.backup, error: r.uploadError }, 'backup storage failed');
        cached = null;
      },
      onError: (err) => app.log.error({ err }, 'backup schedule round failed'),
    });
    app.addHook('onReady', async () => task.start());
    app.addHook('onClose', async () => task.stop());
  },
  { name: 'backups', dependencies: ['database', 'metrics'] },
);
