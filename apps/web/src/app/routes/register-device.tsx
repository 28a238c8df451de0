import { Link } from "react-router";
import { IfCan } from "../../components/if-can.tsx";
import { RegisterDeviceWizard } from "../../features/register-device/components/register-device-wizard.tsx";

export function RegisterDevicePage() {
  return (
    <>
      <title>Register a device · Fleetwatch</title>
      <h1 className="page-title">Register a device</h1>
      <IfCan
        action="manage-fleet"
        otherwise={
          <div className="notice notice--error" role="alert">
            <p>
              You need the operator or admin role to register devices. Your account can view the fleet but not change it; ask an admin to
              register the device or to change your role.
            </p>
          </div>
        }
      >
        <p>
          Many at once? <Link to="/devices/import">Import devices from CSV</Link>.
        </p>
        <RegisterDeviceWizard />
      </IfCan>
    </>
  );
}
