import { createBrowserRouter } from 'react-router';
import { AppLayout } from './components/app-layout';
import { NotFoundPage, RouteErrorPage } from './components/route-error';
import { AuditPage } from './features/audit/audit-page';
import { LoginPage } from './features/auth/login-page';
import { RequireSignIn } from './features/auth/require-sign-in';
import { DeploymentsPage } from './features/deployments/deployments-page';
import { ParityPage } from './features/environments/parity-page';
import { PipelinePage } from './features/environments/pipeline-page';
import { HostsPage } from './features/hosts/hosts-page';
import { ReleaseDetailPage } from './features/releases/release-detail-page';
import { ReleasesPage } from './features/releases/releases-page';
import { SettingsPage } from './features/settings/settings-page';
import { WebhooksPage } from './features/webhooks/webhooks-page';

// Pages that draw charts load recharts on demand, keeping it out of the first download.
const deploymentDetail = () =>
  import('./features/deployments/deployment-detail-page').then((m) => ({
    Component: m.DeploymentDetailPage,
  }));
const environmentDetail = () =>
  import('./features/environments/environment-detail-page').then((m) => ({
    Component: m.EnvironmentDetailPage,
  }));

const doraPage = () => import('./features/dora/dora-page').then((m) => ({ Component: m.DoraPage }));

export function createAppRouter() {
  return createBrowserRouter([
    {
      path: '/',
      Component: AppLayout,
      ErrorBoundary: RouteErrorPage,
      children: [
        { path: 'login', Component: LoginPage },
        {
          // Every other page needs a signed-in visitor; anonymous ones go to sign in and come back.
          Component: RequireSignIn,
          children: [
            { index: true, Component: PipelinePage },
            { path: 'apps/:app', Component: PipelinePage },
            { path: 'apps/:app/environments/:env', lazy: environmentDetail },
            { path: 'releases', Component: ReleasesPage },
            { path: 'apps/:app/releases', Component: ReleasesPage },
            { path: 'apps/:app/releases/:version', Component: ReleaseDetailPage },
            { path: 'deployments', Component: DeploymentsPage },
            { path: 'deployments/:id', lazy: deploymentDetail },
            { path: 'dora', lazy: doraPage },
            { path: 'apps/:app/dora', lazy: doraPage },
            { path: 'webhooks', Component: WebhooksPage },
            { path: 'apps/:app/webhooks', Component: WebhooksPage },
            { path: 'apps/:app/parity', Component: ParityPage },
            { path: 'hosts', Component: HostsPage },
            { path: 'audit', Component: AuditPage },
            { path: 'settings', Component: SettingsPage },
            { path: '*', Component: NotFoundPage },
          ],
        },
      ],
    },
  ]);
}
