// The audit view (admins): who changed what, when, from where, and with what result —
// newest first, filtered by integration and actor (GET /api/v1/audit).

import { useCallback, useEffect, useRef, useState } from "react";

import { api, describeError } from "@/lib/api";
import { absoluteTime, plural } from "@/lib/format";
import { ROLE_LABELS } from "@/lib/roles";
import type { AuditEvent } from "@/lib/types";

/** How many events one view shows (the newest). */
export const AUDIT_LIMIT = 200;

const SOURCES: Record<AuditEvent["source"], string> = { page: "Page", api: "API", cli: "CLI", schedule: "Schedule" };
const RESULTS: Record<AuditEvent["result"], [string, string]> = {
  ok: ["OK", "badge-ok"],
  failed: ["Failed", "badge-fail"],
  denied: ["Denied", "badge-warn"],
};

/** The query of GET /api/v1/audit for these filters. */
export function auditQuery(integration: string, actor: string, limit = AUDIT_LIMIT): string {
  const params = new URLSearchParams();
  if (integration.trim()) params.set("integration", integration.trim());
  if (actor.trim()) params.set("actor", actor.trim());
  params.set("limit", String(limit));
  return `/api/v1/audit?${params.toString()}`;
}

export function AuditView() {
  const [integration, setIntegration] = useState("");
  const [actor, setActor] = useState("");
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [loadedAt, setLoadedAt] = useState<Date | null>(null);
  const request = useRef(0);

  const load = useCallback(async (forIntegration: string, forActor: string) => {
    const id = ++request.current;
    setLoading(true);
    try {
      const { data } = await api<AuditEvent[]>("GET", auditQuery(forIntegration, forActor));
      if (id !== request.current) return;
      setEvents(data);
      setFailure(null);
      setLoadedAt(new Date());
    } catch (error) {
      if (id === request.current) setFailure(describeError(error));
    } finally {
      if (id === request.current) setLoading(false);
    }
  }, []);

  // Typing in a filter asks again once the typing pauses.
  useEffect(() => {
    const timer = setTimeout(() => void load(integration, actor), integration || actor ? 300 : 0);
    return () => clearTimeout(timer);
  }, [integration, actor, load]);

  const filtered = Boolean(integration.trim() || actor.trim());
  let count = "";
  if (events !== null) {
    count = events.length === 0
      ? filtered ? "No event matches these filters." : "No event recorded yet."
      : `${plural(events.length, "event")}${events.length >= AUDIT_LIMIT ? ` (the latest ${AUDIT_LIMIT})` : ""}, newest first.`;
  }

  return (
    <section id="audit" className="panel" aria-labelledby="audit-title">
      <h2 id="audit-title" tabIndex={-1}>Audit trail</h2>
      <p className="muted">Every change, sign-in and refusal, with who did it and from where. Changed settings are named, never shown.</p>
      <form id="audit-filters" className="filters" role="search" aria-label="Audit events" noValidate
        onSubmit={(event) => { event.preventDefault(); void load(integration, actor); }}>
        <div className="filter">
          <label htmlFor="audit-integration">Integration</label>
          <input type="search" id="audit-integration" name="integration" autoComplete="off" spellCheck={false}
            value={integration} onChange={(event) => setIntegration(event.target.value)} />
        </div>
        <div className="filter">
          <label htmlFor="audit-actor">Actor</label>
          <input type="search" id="audit-actor" name="actor" autoComplete="off" spellCheck={false}
            value={actor} onChange={(event) => setActor(event.target.value)} />
        </div>
        <div className="filter filter-button">
          <button type="submit" id="audit-refresh" aria-disabled={loading ? true : undefined}>Refresh</button>
        </div>
      </form>
      <p id="audit-count" className="muted" role="status" aria-live="polite">
        {failure ?? (loading && events === null ? "Loading…" : count)}
      </p>
      {loadedAt ? <p className="small muted">Read <time dateTime={loadedAt.toISOString()}>{absoluteTime(loadedAt)}</time>.</p> : null}
      {events !== null && events.length > 0 ? (
        <div className="table-wrap">
          <table id="audit-table" className="installed audit" aria-busy={loading ? true : undefined}>
            <caption className="sr-only">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Role</th>
                <th scope="col">Source</th>
                <th scope="col">Action</th>
                <th scope="col">Integration</th>
                <th scope="col">Fields changed</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => <AuditRow key={event.id} event={event} />)}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function AuditRow({ event }: { event: AuditEvent }) {
  const at = new Date(event.at);
  const [resultText, resultBadge] = RESULTS[event.result] || [event.result, "badge-off"];
  return (
    <tr data-id={event.id} data-action={event.action} data-result={event.result}>
      <td className="nowrap"><time dateTime={at.toISOString()}>{absoluteTime(at)}</time></td>
      <th scope="row" className="actor">{event.actor}</th>
      <td>{event.role ? ROLE_LABELS[event.role] || event.role : <span className="muted">—</span>}</td>
      <td>
        {SOURCES[event.source] || event.source}
        {event.address ? <span className="small muted block">{event.address}</span> : null}
      </td>
      <td>
        <code>{event.action}</code>
        {event.target && event.target !== event.integration ? <span className="small muted block">{event.target}</span> : null}
      </td>
      <td>{event.integration || <span className="muted">—</span>}</td>
      <td className="fields">{event.fields?.length ? event.fields.join(", ") : <span className="muted">—</span>}</td>
      <td>
        <span className={`badge ${resultBadge}`}>{resultText}</span>
        {event.detail ? <span className="small block">{event.detail}</span> : null}
      </td>
    </tr>
  );
}
