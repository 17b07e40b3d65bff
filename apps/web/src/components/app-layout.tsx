import { useSyncExternalStore } from 'react';
import { Link, NavLink, Outlet, useLocation } from 'react-router';
import { useLogout } from '../hooks/api/auth/mutations';
import { useCurrentUser } from '../hooks/api/auth/queries';
import { liveStatus } from '../lib/live-status';
import { paths } from '../lib/paths';
import { useEventStream } from '../lib/use-event-stream';
import { type Section, sectionOf } from './nav-utils';
import './app-layout.css';

const NAV: { section: Exclude<Section, null>; label: string; to: string }[] = [
  { section: 'pipeline', label: 'Pipeline', to: paths.pipeline() },
  { section: 'releases', label: 'Releases', to: paths.releases() },
  { section: 'deployments', label: 'Deployments', to: paths.deployments() },
  { section: 'dora', label: 'DORA', to: paths.dora() },
  { section: 'webhooks', label: 'Webhooks', to: paths.webhooks() },
  { section: 'hosts', label: 'Hosts', to: paths.hosts() },
  { section: 'audit', label: 'Audit', to: paths.audit() },
  { section: 'settings', label: 'Settings', to: paths.settings() },
];

function LiveIndicator() {
  const status = useSyncExternalStore(liveStatus.subscribe, liveStatus.get);
  const live = status === 'open';
  return (
    <span
      className={`live-indicator ${live ? 'live-indicator--on' : ''}`}
      title={live ? 'Receiving live updates' : 'Live updates unavailable: refreshing every few seconds'}
    >
      <span className="live-indicator__dot" aria-hidden="true" />
      {live ? 'Live' : 'Refreshing'}
    </span>
  );
}

function UserMenu() {
  const me = useCurrentUser();
  const logout = useLogout();
  const location = useLocation();
  if (me.isPending) return null;
  if (!me.data) {
    if (location.pathname === '/login') return null;
    return (
      <Link className="header__signin" to={paths.login(location.pathname + location.search)}>
        Sign in
      </Link>
    );
  }
  return (
    <div className="header__user">
      <span>
        <span className="visually-hidden">Signed in as </span>
        {me.data.username}
        {me.data.role ? <span className="header__role"> · {me.data.role}</span> : null}
      </span>
      <button
        type="button"
        className="button button--ghost button--small"
        onClick={() => logout.mutate()}
        disabled={logout.isPending}
      >
        {logout.isPending ? 'Signing out…' : 'Sign out'}
      </button>
    </div>
  );
}

export function AppLayout() {
  const { pathname } = useLocation();
  const current = sectionOf(pathname);
  const me = useCurrentUser();
  // Settings is for admins; anyone else who follows a link there is told why it is closed.
  const nav = NAV.filter(
    (item) => (item.section !== 'settings' && item.section !== 'hosts') || me.data?.role === 'admin',
  );
  useEventStream();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="header">
        <div className="header__inner">
          <Link to="/" className="brand">
            <svg className="brand__logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
              <rect width="32" height="32" rx="7" />
              <path d="M9 17l5 5 9-11" />
            </svg>
            <span>Qubot Deploy</span>
          </Link>
          <nav aria-label="Main" className="nav">
            <ul className="nav__list">
              {nav.map((item) => (
                <li key={item.section}>
                  <NavLink
                    to={item.to}
                    className={`nav__link ${current === item.section ? 'nav__link--active' : ''}`}
                    aria-current={current === item.section ? 'page' : undefined}
                  >
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="header__end">
            <LiveIndicator />
            <UserMenu />
          </div>
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
