// Open notifications as a bar above the page, each with its action: re-enter the
// setting it points at (opens the wizard at that field), review a schema change on the
// wizard's streams step, open the run in Dagster, or dismiss (acknowledge). Without the
// right to change (a viewer), only the run's link is offered.

import type { Notification } from "@/lib/types";

import { Hidden, TimeText } from "./common";

const SEVERITY: Record<string, string> = { critical: "Critical", error: "Error", warning: "Warning", info: "Info" };
/** An informational notice (new columns synced) is not shown as a failure. */
const BADGE: Record<string, string> = { warning: "warn", info: "busy" };

interface Props {
  items: Notification[];
  /** The label of the setting each notification points at, by notification id. */
  fieldLabels: Map<string, string>;
  known: (integration: string) => boolean;
  openSettings: (integration: string, field: string | null) => void;
  dismiss: (note: Notification) => void;
  /** Whether the user may change integrations and handle notifications. */
  canChange: boolean;
}

export function NotificationBar({ items, fieldLabels, known, openSettings, dismiss, canChange }: Props) {
  if (items.length === 0) return null;
  return (
    <section id="notifications" className="notifications" aria-labelledby="notifications-title">
      <h2 id="notifications-title" className="sr-only">Notifications</h2>
      <ul id="notification-list" className="notification-list">
        {items.map((note) => {
          const titleId = `note-${note.id}-title`;
          const label = fieldLabels.get(note.id);
          const isKnown = canChange && known(note.integration);
          return (
            <li key={note.id} className={`notification severity-${note.severity}`} aria-labelledby={titleId}
              data-id={note.id} data-integration={note.integration} data-kind={note.kind}>
              <div className="note-text">
                <p className="note-title" id={titleId}>
                  <span className={`badge badge-${BADGE[note.severity] || "fail"}`}>{SEVERITY[note.severity] || note.severity}</span>
                  {" "}{note.title}
                </p>
                <p className="note-action">{note.action}</p>
                <p className="muted small">{note.count > 1 ? `${note.count} times, last ` : "Seen "}<TimeText iso={note.last_seen_at} /></p>
                {note.message ? (
                  <details>
                    <summary>Details</summary>
                    <pre className="note-message">{note.message}</pre>
                  </details>
                ) : null}
              </div>
              <div className="note-buttons">
                {note.kind === "schema_change" && note.settings_url?.includes("#") && isKnown ? (
                  <a className="button-link primary" href={`#${note.settings_url.split("#")[1]}`}>
                    Review on the streams step<Hidden>{` of ${note.integration}`}</Hidden>
                  </a>
                ) : label && note.settings_field && isKnown ? (
                  <button type="button" className="primary" onClick={() => openSettings(note.integration, note.settings_field ?? null)}>
                    Re-enter {label}<Hidden>{` of ${note.integration}`}</Hidden>
                  </button>
                ) : note.settings_url && isKnown ? (
                  <button type="button" onClick={() => openSettings(note.integration, null)}>
                    Open settings<Hidden>{` of ${note.integration}`}</Hidden>
                  </button>
                ) : null}
                {note.run_url ? (
                  <a className="button-link" href={note.run_url} target="_blank" rel="noopener noreferrer">
                    Open run<Hidden>{` of ${note.integration}`}</Hidden>
                  </a>
                ) : null}
                {canChange ? (
                  <button type="button" onClick={() => dismiss(note)}>Dismiss<Hidden>{`: ${note.title}`}</Hidden></button>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
