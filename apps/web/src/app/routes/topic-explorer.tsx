// PLACEHOLDER: replaced by the page's implementation before this lands.
export function TopicExplorerPage() {
  return (
    <>
      <title>Topic explorer · Fleetwatch</title>
      <h1 className="page-title">Topic explorer</h1>
    </>
  );
}
