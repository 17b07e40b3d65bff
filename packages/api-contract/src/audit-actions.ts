/**
 * Every action the server writes to the audit trail, with what it means: the one list the
 * server's audit writes are checked against (apps/api/src/services/audit-actions.test.ts) and the
 * dashboard's action filter is built from.
 */
export const AUDIT_ACTIONS = {
  'deployment.create': 'deploy',
  'deployment.redeploy': 'redeploy',
  'deployment.approve': 'approve',
  'deployment.advance': 'advance',
  'deployment.pause': 'pause',
  'deployment.resume': 'resume',
  'deployment.abort': 'abort',
  'environment.promote': 'promote',
  'environment.rollback': 'roll back',
  'environment.traffic': 'switch traffic',
  'environment.traffic.reverted': 'the router refused a switch',
  'environment.settings': 'environment settings',
  'environment.traffic_provider': 'traffic provider changed',
  'environment.traffic_provider.reverted': 'the new traffic provider did not start',
  'environment.runtime_target': 'where instances run changed (local / kubernetes)',
  'application.pod_template': 'Kubernetes pod template changed',
  'environment.synthetic_load': 'demo load on/off',
  'environment.resources': 'CPU / memory limits changed',
  'environment.scale': 'replicas changed (scaled now)',
  'environment.autoscale': 'scaled by the autoscaler',
  'environment.autoscale_policy': 'autoscaling policy changed',
  'promotion.override': 'past the promotion order',
  'policy.update': 'promotion policy changed',
  'policy.pause': 'promotion policy paused',
  'policy.resume': 'promotion policy resumed',
  'config.update': 'configuration change',
  'config.rollout': 'configuration rolled out (a deployment of the live release)',
  'environment.hooks': 'deployment hooks changed',
  'environment.analysis_provider': 'analysis provider (Prometheus queries) changed',
  'application.job_launcher': 'job launcher changed',
  'freeze.create': 'freeze window created',
  'freeze.delete': 'freeze window deleted',
  'freeze.override': 'past a freeze window',
  'release.create': 'release registered',
  'application.create': 'application created',
  'user.create': 'user created',
  'user.update': 'user changed',
  'user.password.change': 'own password changed',
  'user.password.reset': 'password reset by an admin',
  'token.create': 'API token created',
  'token.revoke': 'API token revoked',
  'auth.login': 'sign-in',
  'auth.login.failed': 'failed sign-in',
  'auth.logout': 'sign-out',
  'auth.lockout': 'account locked out',
  'backup.create': 'backup taken',
  'backup.verify': 'backup verified (restore drill)',
  'backup.restore': 'backup restored into a new database',
  'backup.prune': 'old backups deleted (retention)',
  'webhook.create': 'webhook created',
  'webhook.update': 'webhook changed',
  'webhook.delete': 'webhook deleted',
  'webhook.redeliver': 'webhook delivery sent again',
  'settings.webhooks': 'webhook settings changed (private endpoints)',
} as const;
export type AuditAction = keyof typeof AUDIT_ACTIONS;

/** The prefixes the audit list's `action` filter accepts ("deployment." matches every deployment action). */
export const AUDIT_ACTION_PREFIXES = {
  'deployment.': 'Any deployment action',
  'environment.': 'Any environment action',
  'freeze.': 'Any freeze window action',
  'policy.': 'Any promotion policy action',
  'user.': 'Any user action',
  'token.': 'Any token action',
  'auth.': 'Any sign-in action',
  'backup.': 'Any backup action',
  'webhook.': 'Any webhook action',
} as const;

export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(AUDIT_ACTIONS, value);
}
