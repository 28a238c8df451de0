import { IfCan } from "../../components/if-can.tsx";
import { ImportDevices } from "../../features/import-devices/components/import-devices.tsx";

export function ImportDevicesPage() {
  return (
    <>
      <title>Import devices · Fleetwatch</title>
      <h1 className="page-title">Import devices</h1>
      <IfCan
        action="manage-fleet"
        otherwise={
          <div className="notice notice--error" role="alert">
            <p>You need the operator or admin role to import devices.</p>
          </div>
        }
      >
        <ImportDevices />
      </IfCan>
    </>
  );
}
