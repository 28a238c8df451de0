import { useParams } from "react-router";
import { DeviceView } from "../../features/device/components/device-view.tsx";

/** /devices/:deviceId. Lazy-loaded (app.tsx): it carries Recharts. */
export function DevicePage() {
  const { deviceId = "" } = useParams();
  // Keyed by id: another device's page starts with fresh local state (live points, form choices).
  return <DeviceView key={deviceId} deviceId={deviceId} />;
}
