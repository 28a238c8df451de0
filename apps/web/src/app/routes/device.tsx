// PLACEHOLDER: replaced by the page's implementation before this lands.
export function DevicePage() {
  return (
    <>
      <title>Device · Fleetwatch</title>
      <h1 className="page-title">Device</h1>
    </>
  );
}
