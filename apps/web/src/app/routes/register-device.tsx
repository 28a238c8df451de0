// PLACEHOLDER: replaced by the page's implementation before this lands.
export function RegisterDevicePage() {
  return (
    <>
      <title>Register a device · Fleetwatch</title>
      <h1 className="page-title">Register a device</h1>
    </>
  );
}
