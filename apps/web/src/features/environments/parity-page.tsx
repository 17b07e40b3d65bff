import type { EnvironmentParity } from '@qubot/api-contract';
import { useParams, useSearchParams } from 'react-router';
import { ErrorState, LoadingState } from '../../components/states';
import { useEnvironments, useParity } from '../../hooks/api/environments/queries';

const show = (v: unknown): string => {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') {
    const parts = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => `${k} ${x}`);
    return parts.length ? parts.join(', ') : '—';
  }
  return String(v);
};

function Row({ label, pair }: { label: string; pair: { from: unknown; to: unknown; same: boolean } }) {
  return (
    <tr className={pair.same ? undefined : 'row--differs'}>
      <th scope="row">{label}</th>
      <td>{show(pair.from)}</td>
      <td>{show(pair.to)}</td>
      <td>{pair.same ? 'same' : <strong>differs</strong>}</td>
    </tr>
  );
}

function CompareHead({ first, p }: { first: string; p: EnvironmentParity }) {
  return (
    <thead>
      <tr>
        <th scope="col">{first}</th>
        <th scope="col">{p.from}</th>
        <th scope="col">{p.to}</th>
        <th scope="col">Result</th>
      </tr>
    </thead>
  );
}

function ParityTable({ p }: { p: EnvironmentParity }) {
  const keys = [
    ...p.config.removed.map((e) => ({ key: e.key, from: e.from, to: '(absent)', note: `only in ${p.from}` })),
    ...p.config.added.map((e) => ({ key: e.key, from: '(absent)', to: e.to, note: `only in ${p.to}` })),
    ...p.config.changed.map((e) => ({ key: e.key, from: e.from, to: e.to, note: 'differs' })),
    ...p.config.notCompared.map((e) => ({
      key: e.key,
      from: e.from,
      to: e.to,
      note: 'secret — not compared',
    })),
  ];
  return (
    <>
      <p role="status" className={p.matches ? 'feedback' : 'feedback feedback--error'}>
        {p.matches
          ? `${p.from} and ${p.to} match: same release, configuration, scale, resources, provider and hooks.`
          : `${p.differences.length} ${p.differences.length === 1 ? 'difference' : 'differences'} between ${p.from} and ${p.to}.`}
      </p>
      <table className="table">
        <caption>
          {p.from} compared with {p.to}
        </caption>
        <CompareHead first="What" p={p} />
        <tbody>
          <Row label="Release" pair={p.release} />
          <Row label="Replicas" pair={p.replicas} />
          <Row label="Resources" pair={p.resources} />
          <Row label="Traffic provider" pair={p.trafficProvider} />
          <Row label="Hooks" pair={p.hooks} />
          <Row label="Configuration drift" pair={p.configDrift} />
        </tbody>
      </table>
      <h2>Configuration keys</h2>
      {keys.length === 0 ? (
        <p className="muted">Same keys; {p.config.unchanged} with equal values.</p>
      ) : (
        <table className="table">
          <CompareHead first="Key" p={p} />
          <tbody>
            {keys.map((k) => (
              <tr key={k.key}>
                <th scope="row">
                  <code>{k.key}</code>
                </th>
                <td>{k.from ?? '(absent)'}</td>
                <td>{k.to ?? '(absent)'}</td>
                <td>{k.note}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** Two environments side by side: is staging a faithful copy of production? */
export function ParityPage() {
  const { app = '' } = useParams();
  const [search, setSearch] = useSearchParams();
  const envs = useEnvironments(app);
  const names = envs.data?.items.map((e) => e.name) ?? [];
  const from = search.get('from') ?? names[names.length - 2] ?? '';
  const to = search.get('to') ?? names[names.length - 1] ?? '';
  const parity = useParity(app, from, to);
  const pick = (which: 'from' | 'to', value: string) =>
    setSearch({ from: which === 'from' ? value : from, to: which === 'to' ? value : to });
  return (
    <div className="page">
      <div className="page__header">
        <h1>
          Environment parity<span className="page__subject"> · {app}</span>
        </h1>
        <p className="page__lead">
          Release, configuration keys, scale, resources, provider and hooks, side by side.
        </p>
      </div>
      <section className="card">
        <div className="button-row">
          <label>
            Compare{' '}
            <select
              value={from}
              onChange={(e) => pick('from', e.target.value)}
              aria-label="First environment"
            >
              {names.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
          <label>
            with{' '}
            <select value={to} onChange={(e) => pick('to', e.target.value)} aria-label="Second environment">
              {names.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
        </div>
        {from === to ? <p className="muted">Pick two different environments.</p> : null}
        {parity.isLoading ? <LoadingState /> : null}
        {parity.error ? <ErrorState error={parity.error} /> : null}
        {parity.data ? <ParityTable p={parity.data} /> : null}
      </section>
    </div>
  );
}
