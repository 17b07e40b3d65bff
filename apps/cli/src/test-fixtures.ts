import type { Deployment, Environment } from '@qubot/api-contract';
// The server's own view function, so fixtures carry the shape the API really sends.
import { progressView } from '../../api/src/services/views.ts';

export const DEPLOYMENT_ID = '0b5c0000-0000-4000-8000-000000000001';

export function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    id: DEPLOYMENT_ID,
    application: 'qubot-one',
    environment: 'staging',
    release: { version: '1.2.3', artifact: 'qubot-one/healthy' },
    fromVersion: '1.2.2',
    configVersion: null,
    kind: 'deploy',
    strategy: 'blue-green',
    status: 'running',
    waitingFor: null,
    options: {},
    steps: [
      {
        position: 0,
        name: 'start green',
        status: 'succeeded',
        message: null,
        startedAt: null,
        finishedAt: null,
      },
      {
        position: 1,
        name: 'health check',
        status: 'running',
        message: null,
        startedAt: null,
        finishedAt: null,
      },
      {
        position: 2,
        name: 'switch traffic',
        status: 'pending',
        message: null,
        startedAt: null,
        finishedAt: null,
      },
    ],
    progress: progressView({}),
    analysis: [],
    traffic: { requests: 0, failed: 0 },
    reason: null,
    actor: 'ci',
    error: null,
    createdAt: '2025-01-02T03:04:05.000Z',
    startedAt: null,
    finishedAt: null,
    ...over,
  };
}

export function environment(over: Partial<Environment> = {}): Environment {
  return {
    name: 'staging',
    position: 1,
    protected: false,
    requiresApproval: false,
    address: 'http://127.0.0.1:9001',
    live: { version: '1.2.2' },
    previous: null,
    activeColor: 'blue',
    traffic: [{ pool: 'blue', version: '1.2.2', weight: 100 }],
    instances: [
      {
        id: 'i1',
        pool: 'blue',
        version: '1.2.2',
        status: 'running',
        healthy: true,
        port: 9101,
        restarts: 0,
        startedAt: '2025-01-02T03:04:05.000Z',
      },
    ],
    activeDeployment: null,
    replicas: 1,
    updatedAt: '2025-01-02T03:04:05.000Z',
    ...over,
  };
}
