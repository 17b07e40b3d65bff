export function EnvironmentDetailPage() {
  return <div className="page">TODO</div>;
}
