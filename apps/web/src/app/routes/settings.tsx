// PLACEHOLDER: replaced by the page's implementation before this lands.
export function SettingsPage() {
  return (
    <>
      <title>Settings · Fleetwatch</title>
      <h1 className="page-title">Settings</h1>
    </>
  );
}
