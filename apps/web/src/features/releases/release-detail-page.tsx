export function ReleaseDetailPage() {
  return <div className="page">TODO</div>;
}
