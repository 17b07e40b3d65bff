import type { Deployment } from '@qubot/api-contract';
import type { OptionSpecs } from '../args-utils.ts';
import { parsePositiveInt, str } from '../args-utils.ts';
import type { Context } from '../command.ts';
import { ExitCode, exitCodeForDeployment, UsageError } from '../exit-utils.ts';
import { deploymentDetail, statusColor } from '../format-utils.ts';
import { followDeployment } from '../watch.ts';
import { deploymentChanges } from '../watch-utils.ts';

/** When the server refuses an action without a reason (400 naming body.reason). */
export const REASON_RULE =
  'a reason is required on a protected environment (all but pause and approve) and for an advance that switches traffic';
export const REASON: OptionSpecs = {
  reason: {
    type: 'string',
    value: 'TEXT',
    description:
      'Why: recorded in the audit trail; required on a protected environment and for an advance that switches traffic',
  },
};
export const WAIT: OptionSpecs = {
  wait: {
    type: 'boolean',
    description: 'Follow the deployment live until it finishes; exit 6 unless it succeeded',
  },
  timeout: {
    type: 'string',
    value: 'SECONDS',
    description: 'With --wait: give up after this long (exit 1; the deployment keeps going)',
  },
};
export const OVERRIDE_FREEZE: OptionSpecs = {
  'override-freeze': {
    type: 'boolean',
    description: 'Admins, with --reason: deploy although a freeze window is active (audited)',
  },
};

/**
 * `overrideFreeze: true` for --override-freeze, checked before anything is sent: the server
 * requires a reason with it, and a request refused for that would be a wasted round trip.
 */
export function overrideFreezeBody(values: Context['values']): { overrideFreeze?: true } {
  if (values['override-freeze'] !== true) return {};
  const reason = str(values, 'reason');
  if (reason === undefined || reason.trim() === '')
    throw new UsageError('--override-freeze needs --reason (the override is audited)');
  return { overrideFreeze: true };
}

export const readDeployment = (ctx: Context, id: string): Promise<Deployment> =>
  ctx.client.call('GET /api/v1/deployments/:id', { params: { id } });

export function reasonBody(ctx: Context): { reason?: string } {
  const reason = str(ctx.values, 'reason');
  return reason === undefined ? {} : { reason };
}

export interface WaitSettings {
  wait: boolean;
  timeoutMs: number | undefined;
}

/** Read before the request is sent, so a bad --timeout never leaves a deployment started. */
export function waitSettings(ctx: Context): WaitSettings {
  const s = parsePositiveInt(str(ctx.values, 'timeout'), 'timeout', 7 * 24 * 3600);
  const wait = ctx.values.wait === true;
  if (s !== undefined && !wait) throw new UsageError('--timeout only applies with --wait');
  return { wait, timeoutMs: s === undefined ? undefined : s * 1000 };
}

/**
 * Shows a deployment the server just accepted, then, with --wait, follows it live and
 * turns its outcome into the exit code (0 succeeded, 6 failed / rolled back / aborted).
 */
export async function reportDeployment(
  ctx: Context,
  started: Deployment,
  verb: string,
  settings: WaitSettings,
): Promise<number> {
  const { out } = ctx;
  if (!settings.wait) {
    out.result(started, () =>
      [
        `${verb}: ${deploymentDetail(started, out.style)}`,
        '',
        `Follow it with: qubot status ${started.environment} --watch   (or add --wait)`,
      ].join('\n'),
    );
    return ExitCode.Ok;
  }
  const style = ctx.out.json ? ctx.out.errStyle : ctx.out.style;
  out.info(`${verb}: deployment ${started.id}`);
  const final = await followDeployment({
    server: ctx.server,
    credential: ctx.credential,
    deploymentId: started.id,
    fetchDeployment: () => readDeployment(ctx, started.id),
    onUpdate: (prev, next) => {
      for (const line of deploymentChanges(prev, next, style)) out.info(line);
    },
    timeoutMs: settings.timeoutMs,
    note: (line) => out.warn(line),
  });
  out.result(final, () => `deployment ${final.id} ${statusColor(final.status, out.style)}`);
  return exitCodeForDeployment(final.status);
}
