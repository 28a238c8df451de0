import { useLiveAlerts } from "../../features/alerts/api/use-live-alerts.ts";
import { AlertLists } from "../../features/alerts/components/alert-lists.tsx";
import { AlertRulesSection } from "../../features/alerts/components/alert-rules-section.tsx";

export function AlertsPage() {
  // Raised, acknowledged and resolved alerts (and rule changes) show up without a reload.
  useLiveAlerts();
  return (
    <>
      <title>Alerts · Fleetwatch</title>
      <h1 className="page-title">Alerts</h1>
      <AlertLists />
      <AlertRulesSection />
    </>
  );
}
