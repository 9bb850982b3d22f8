// What each role may do, as the API enforces it: the page hides what a role may not do
// (a hidden control, not a disabled one), so that nobody meets a 403 in normal use.

import type { Role } from "./types";

/** read: status, runs, logs, notifications; change: integrations and notifications;
 * administer: users, tokens and the audit trail. */
export type Capability = "read" | "change" | "administer";

const ALLOWED: Record<Role, ReadonlySet<Capability>> = {
  viewer: new Set(["read"]),
  editor: new Set(["read", "change"]),
  admin: new Set(["read", "change", "administer"]),
};

export const ROLES: readonly Role[] = ["viewer", "editor", "admin"];

export const ROLE_LABELS: Record<Role, string> = { viewer: "Viewer", editor: "Editor", admin: "Admin" };

export const ROLE_HELP: Record<Role, string> = {
  viewer: "sees status, runs, logs and notifications, and changes nothing",
  editor: "also creates, edits, syncs and deletes integrations, and handles notifications",
  admin: "everything, including users, API tokens and the audit trail",
};

/** Whether `role` may do `capability` (nobody signed in yet may do nothing). */
export function allows(role: Role | null | undefined, capability: Capability): boolean {
  return Boolean(role && ALLOWED[role]?.has(capability));
}
