// PLACEHOLDER: replaced by the page's implementation before this lands.
export function AlertsPage() {
  return (
    <>
      <title>Alerts · Fleetwatch</title>
      <h1 className="page-title">Alerts</h1>
    </>
  );
}
