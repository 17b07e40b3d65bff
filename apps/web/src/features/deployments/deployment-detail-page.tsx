export function DeploymentDetailPage() {
  return <div className="page">TODO</div>;
}
