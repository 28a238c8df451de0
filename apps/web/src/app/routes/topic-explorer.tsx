import { TopicExplorer } from "../../features/topic-explorer/components/topic-explorer.tsx";

export function TopicExplorerPage() {
  return (
    <>
      <title>Topic explorer · Fleetwatch</title>
      <h1 className="page-title">Topic explorer</h1>
      <TopicExplorer />
    </>
  );
}
