// What the wizard's steps show, as components of their data: the connector choices
// (step 1), a connection test's outcome (step 3, and the destinations' tests) and the
// review list (step 4).

import { ApiError } from "@/lib/api";
import { fieldLabel } from "@/lib/settings";
import type { ReviewRow, WizardSchema } from "@/lib/settings";
import type { ConnectorSummary, TestOutcome } from "@/lib/types";

// A failed test's reason, in the words failure notifications use too.
export const REASONS: Record<string, string> = {
  ok: "ok",
  authentication: "authentication",
  network: "network",
  permission: "permission",
  rate_limit: "rate limit or quota",
  configuration: "configuration",
  timeout: "timeout",
  source: "source schema",
  connector: "connector crash",
};

interface ChoicesProps {
  connectors: ConnectorSummary[];
  filter: string;
  selected: string | null;
  onSelect: (id: string) => void;
}

/** The connectors matching the filter's words, as radio choices. */
export function ConnectorChoices({ connectors, filter, selected, onSelect }: ChoicesProps) {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = connectors.filter((c) => {
    const text = `${c.id} ${c.label} ${c.category} ${c.description} ${c.streams.join(" ")}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
  if (!shown.length) return <p className="muted">No connector matches.</p>;
  return (
    <>
      {shown.map((c) => {
        const id = `choice-${c.id}`;
        return (
          <div className="choice" key={c.id}>
            <input type="radio" name="connector" id={id} value={c.id} aria-describedby={`${id}-desc`}
              checked={c.id === selected} onChange={() => onSelect(c.id)} />
            <label htmlFor={id}>
              {/* eslint-disable-next-line @next/next/no-img-element -- a logo of the API, not a page asset */}
              <img src={c.logo_url} alt="" width={32} height={32} />
              <span className="choice-text">
                <span className="choice-label">{c.label}</span>
                <span className="choice-category">{c.category}</span>
              </span>
            </label>
            <p id={`${id}-desc`} className="help">{c.description}</p>
          </div>
        );
      })}
    </>
  );
}

export type TestView =
  | { kind: "outcome"; outcome: TestOutcome }
  | { kind: "invalid"; labels: string[] }
  | { kind: "error"; error: unknown };

/** What a test that could not run shows: the fields the server refused (422, each shown at
 * its field by `showServerErrors`), or the error. */
export function failedTestView(
  error: unknown,
  schema: WizardSchema | null,
  showServerErrors: (fieldErrors: Record<string, string>) => [string[], string[]],
): TestView {
  if (error instanceof ApiError && error.status === 422 && schema) {
    const [keys, unmatched] = showServerErrors(error.fieldErrors);
    return { kind: "invalid", labels: [...keys.map((key) => fieldLabel(schema, key)), ...unmatched] };
  }
  return { kind: "error", error };
}

interface OutcomeProps {
  view: TestView;
  /** Back to the settings (null: there are none to change, e.g. a built-in destination). */
  onChangeSettings: (() => void) | null;
}

/** A connection test's outcome, or why it could not run. */
export function TestResult({ view, onChangeSettings }: OutcomeProps) {
  if (view.kind === "invalid") {
    return (
      <div className="result result-fail">
        <p className="result-title">Some settings are invalid.</p>
        <p>{view.labels.join(", ")}</p>
        {onChangeSettings ? <button type="button" onClick={onChangeSettings}>Fix the settings</button> : null}
      </div>
    );
  }
  if (view.kind === "error") {
    return (
      <div className="result result-fail">
        <p className="result-title">The test could not run.</p>
        <p>{view.error instanceof ApiError ? view.error.summary : String(view.error)}</p>
      </div>
    );
  }
  const { outcome } = view;
  const reason = REASONS[outcome.reason] || outcome.reason;
  return (
    <div className={`result ${outcome.ok ? "result-ok" : "result-fail"}`} data-ok={String(outcome.ok)} data-reason={outcome.reason}>
      <p className="result-title">
        {outcome.ok ? "Connection works" : "Connection failed"}
        <span className="reason">{outcome.ok ? "" : ` — reason: ${reason}`}</span>
      </p>
      <p className="result-message">{outcome.message}</p>
      {outcome.hint ? <p className="result-hint"><strong>What to do: </strong>{outcome.hint}</p> : null}
      {outcome.details?.warning ? <p className="muted">{outcome.details.warning}</p> : null}
      <p className="muted">Took {outcome.duration_s.toFixed(2)} s.</p>
      {outcome.ok || !onChangeSettings ? null : <button type="button" onClick={onChangeSettings}>Change the settings</button>}
    </div>
  );
}

/** The review list: every setting as it will be saved, then the last test. */
export function ReviewList({ rows, test }: { rows: ReviewRow[]; test: { ok: boolean; reason: string } | null }) {
  const outcome = test ? (test.ok ? "passed" : `failed (${REASONS[test.reason] || test.reason})`) : "not run";
  return (
    <dl id="wizard-review" className="review">
      {[...rows, { label: "Connection test", text: outcome, secret: false }].map((row) => (
        <div className="review-row" key={row.label}>
          <dt>{row.label}</dt>
          <dd className={row.secret ? "secret-state" : undefined}>{row.text}</dd>
        </div>
      ))}
    </dl>
  );
}
