// What the wizard's steps show, as pure functions of their data: the connector choices
// (step 1), a connection test's outcome (step 3) and the review list (step 4).

import { ApiError } from "./api.js";
import { el } from "./ui.js";

// A failed test's reason, in the words failure notifications use too.
export const REASONS = {
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

/** The connectors matching the search `words`, as radio choices. */
export function connectorChoices(connectors, words, selected, onSelect) {
  const shown = connectors.filter((c) => {
    const text = `${c.id} ${c.label} ${c.category} ${c.description} ${c.streams.join(" ")}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
  if (!shown.length) return [el("p", { class: "muted" }, "No connector matches.")];
  return shown.map((c) => {
    const id = `choice-${c.id}`;
    const input = el("input", {
      type: "radio", name: "connector", id, value: c.id, "aria-describedby": `${id}-desc`,
    });
    input.checked = c.id === selected;
    input.addEventListener("change", () => onSelect(c.id));
    return el("div", { class: "choice" },
      input,
      el("label", { for: id },
        el("img", { src: c.logo_url, alt: "", width: 32, height: 32 }),
        el("span", { class: "choice-text" },
          el("span", { class: "choice-label" }, c.label),
          el("span", { class: "choice-category" }, c.category))),
      el("p", { id: `${id}-desc`, class: "help" }, c.description));
  });
}

/** A connection test's outcome; `onChange` goes back to the settings. */
export function testOutcome(outcome, onChange) {
  const reason = REASONS[outcome.reason] || outcome.reason;
  const details = outcome.details && outcome.details.warning ? [outcome.details.warning] : [];
  return el("div", {
    class: `result ${outcome.ok ? "result-ok" : "result-fail"}`,
    "data-ok": String(outcome.ok),
    "data-reason": outcome.reason,
  },
  el("p", { class: "result-title" },
    outcome.ok ? "Connection works" : "Connection failed",
    el("span", { class: "reason" }, outcome.ok ? "" : ` — reason: ${reason}`)),
  el("p", { class: "result-message" }, outcome.message),
  outcome.hint ? el("p", { class: "result-hint" }, el("strong", {}, "What to do: "), outcome.hint) : null,
  details.map((text) => el("p", { class: "muted" }, text)),
  el("p", { class: "muted" }, `Took ${outcome.duration_s.toFixed(2)} s.`),
  outcome.ok ? null : el("button", { type: "button", onclick: onChange }, "Change the settings"));
}

/** A test that could not run: invalid settings (`shown` fields, `unmatched` texts) or
 * another error. */
export function testError(error, shown, unmatched, onFix) {
  if (shown || unmatched) {
    return el("div", { class: "result result-fail" },
      el("p", { class: "result-title" }, "Some settings are invalid."),
      el("p", {}, [...shown.map((f) => f.label), ...unmatched].join(", ")),
      el("button", { type: "button", onclick: onFix }, "Fix the settings"));
  }
  return el("div", { class: "result result-fail" },
    el("p", { class: "result-title" }, "The test could not run."),
    el("p", {}, error instanceof ApiError ? error.summary : String(error)));
}

/** The review list's rows: every setting as it will be saved, then the last test. */
export function reviewRows(rows, test) {
  const outcome = test ? (test.ok ? "passed" : `failed (${REASONS[test.reason] || test.reason})`) : "not run";
  return [...rows, ["Connection test", outcome]].map(([label, text, secret]) => el("div", { class: "review-row" },
    el("dt", {}, label),
    el("dd", { class: secret ? "secret-state" : null }, text)));
}

/** Enter in a field of `form` goes on to the next step, as in a one-field form (the form
 * has no submit button, so the browser would do nothing). */
export function enterGoesOn(form, next) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    next();
  });
  form.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key !== "Enter" || event.isComposing || target.tagName !== "INPUT") return;
    if (["checkbox", "radio", "button", "submit"].includes(target.type)) return;
    event.preventDefault();
    next();
  });
}
