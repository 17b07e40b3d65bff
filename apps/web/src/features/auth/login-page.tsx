export function LoginPage() {
  return <div className="page">TODO</div>;
}
