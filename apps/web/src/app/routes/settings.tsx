import { IfCan } from "../../components/if-can.tsx";
import { ApiTokensSection } from "../../features/api-tokens/components/api-tokens-section.tsx";
import { OwnPasswordSection } from "../../features/users/components/password-form.tsx";
import { UsersSection } from "../../features/users/components/users-section.tsx";
import { NotificationsSection } from "../../features/notifications/components/notifications-section.tsx";

export function SettingsPage() {
  return (
    <>
      <title>Settings · Fleetwatch</title>
      <h1 className="page-title">Settings</h1>
      {/* Viewers may not even list users (GET /api/users is admin-only): no section at all. */}
      <IfCan action="manage-users">
        <UsersSection />
      </IfCan>
      <ApiTokensSection />
      <NotificationsSection />
      <OwnPasswordSection />
    </>
  );
}
