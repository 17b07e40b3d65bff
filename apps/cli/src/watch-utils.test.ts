import { describe, expect, it } from 'vitest';
import { deployment, environment } from './test-fixtures.ts';
import { deploymentChanges, deploymentOf, environmentChanges, environmentOf } from './watch-utils.ts';

describe('[CLI] watch output', () => {
  it('introduces a deployment with the steps already under way', () => {
    expect(deploymentChanges(null, deployment())).toEqual([
      'deployment 0b5c0000-0000-4000-8000-000000000001: deploy 1.2.3 to staging (blue-green) — running',
      ' 1. Start 1.2.3 on green succeeded',
      ' 2. Health check running',
      ' 4. Smoke check skipped — not configured',
      ' 5. Approval skipped — not required in this environment',
    ]);
  });

  it('prints one line per step change and per status change', () => {
    const before = deployment();
    const after = deployment({
      status: 'paused',
      waitingFor: 'switch',
      steps: [
        before.steps[0]!,
        { ...before.steps[1]!, status: 'succeeded', message: '2/2 healthy' },
        { ...before.steps[2]!, status: 'running' },
      ],
    });
    expect(deploymentChanges(before, after)).toEqual([
      ' 2. Health check succeeded — 2/2 healthy',
      ' 3. Preview on green running',
      'status: running → paused (waiting for switch)',
    ]);
    expect(deploymentChanges(after, after)).toEqual([]);
  });

  it('reports the error once when a deployment fails', () => {
    const failed = deployment({ status: 'rolled_back', error: 'health check failed' });
    expect(deploymentChanges(deployment(), failed)).toEqual([
      'status: running → rolled_back',
      'error: health check failed',
    ]);
    expect(deploymentChanges(failed, failed)).toEqual([]);
  });

  it('notices live version and traffic changes of an environment', () => {
    const before = environment();
    const after = environment({
      live: { version: '1.2.3' },
      activeColor: 'green',
      traffic: [{ pool: 'green', version: '1.2.3', weight: 100 }],
    });
    expect(environmentChanges(null, after)).toEqual([]);
    expect(environmentChanges(before, after)).toEqual([
      'staging: live 1.2.2 → 1.2.3',
      'staging: traffic green 1.2.3 100% (active green)',
    ]);
  });

  it('recognises deployment and environment payloads', () => {
    expect(deploymentOf('deployment.updated', deployment())?.id).toBe(deployment().id);
    expect(deploymentOf('environment.updated', deployment())).toBeNull();
    expect(deploymentOf('deployment.updated', { id: 'x' })).toBeNull();
    expect(environmentOf('environment.updated', environment())?.name).toBe('staging');
  });
});
