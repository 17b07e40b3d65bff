export function DeploymentsPage() {
  return <div className="page">TODO</div>;
}
