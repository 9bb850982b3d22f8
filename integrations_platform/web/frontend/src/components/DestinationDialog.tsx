// The destination form: a modal dialog (Radix Dialog) that configures a new destination
// — choose a destination connector, then a name and the connector's settings, generated
// from its JSON Schema by the wizard's own settings form — or edits one (secrets
// write-only: blank keeps the stored value). "Test connection" tests what is entered
// without saving it. Opened from the Destinations view, and from the wizard's destination
// field ("Configure a new destination…"), where it is drawn above the wizard.

import * as Dialog from "@radix-ui/react-dialog";
import type { RJSFValidationError } from "@rjsf/utils";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { ApiError } from "@/lib/api";
import {
  destinationFieldOrder,
  destinationInitialValues,
  destinationSchema,
  formConnector,
  getDestination,
  getDestinationConnector,
  listDestinationConnectors,
  outcomeFieldErrors,
  saveDestination,
  testDestinationSettings,
} from "@/lib/destinations";
import {
  changedKeys,
  describeServerMessage,
  errorPath,
  fieldLabel,
  fieldMessage,
  fieldMessages,
  schemaAt,
  serverErrorKey,
  topKey,
  type FormValues,
} from "@/lib/settings";
import type { ConnectorDetail, Destination, DestinationConnectorSummary } from "@/lib/types";

import { DISCARD_EDITS, useConfirm } from "./Confirm";
import { checkValues, SettingsForm } from "./SettingsForm";
import { TestResult, failedTestView, type TestView } from "./WizardParts";

export type DestinationOpening = { mode: "create" } | { mode: "edit"; name: string };

interface Props {
  opening: DestinationOpening;
  onClosed: () => void;
  /** The destination as saved (the dialog then closes). */
  onSaved: (destination: Destination) => void;
  /** Opened from another dialog (the wizard): drawn above it. */
  nested?: boolean;
}

/** The prefix of the form's field ids: the wizard's form may be on the page too. */
const PREFIX = "dest";
const FORM_ID = "destination-form";

type Summary = { text: string; error: boolean } | null;

export function DestinationDialog({ opening, onClosed, onSaved, nested = false }: Props) {
  const confirm = useConfirm();
  const content = useRef<HTMLDivElement>(null);
  const editing = opening.mode === "edit";
  const [phase, setPhase] = useState<"choose" | "form">(editing ? "form" : "choose");
  const [choices, setChoices] = useState<DestinationConnectorSummary[] | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [connector, setConnector] = useState<ConnectorDetail | null>(null);
  const [stored, setStored] = useState<Destination | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [chooseError, setChooseError] = useState<string | null>(null);
  const [values, setValues] = useState<FormValues>({});
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [summary, setSummary] = useState<Summary>(null);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const [testing, setTesting] = useState(false);
  const [testView, setTestView] = useState<TestView | null>(null);
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);
  // The field to focus once it is shown (after a render: an advanced one opens first).
  const pendingFocus = useRef<string | null>(null);
  const [focusRequest, setFocusRequest] = useState(0);
  const focusKey = useCallback((key: string) => {
    pendingFocus.current = key;
    setFocusRequest((n) => n + 1);
  }, []);

  // -- loading -----------------------------------------------------------------------

  const editName = opening.mode === "edit" ? opening.name : null;
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        if (editName !== null) {
          const destination = await getDestination(editName);
          const detail = formConnector(await getDestinationConnector(destination.connector));
          if (!live) return;
          setStored(destination);
          setConnector(detail);
          setValues(destinationInitialValues(detail, destination));
        } else {
          const all = await listDestinationConnectors();
          if (!live) return;
          setChoices(all);
          if (all.length === 1 && all[0]) setChosen(all[0].id);
        }
      } catch (error) {
        if (live) setLoadError(error instanceof ApiError ? error.summary : String(error));
      }
    })();
    return () => { live = false; };
  }, [editName]);

  const schema = useMemo(() => (connector ? destinationSchema(connector, stored) : null), [connector, stored]);
  const order = useMemo(() => (connector ? destinationFieldOrder(connector) : []), [connector]);

  // -- messages ----------------------------------------------------------------------

  const clientErrors = useMemo(() => {
    if (!schema) return {};
    return checkValues(schema, values, (error: RJSFValidationError) => {
      const key = errorPath(error.property);
      return [key, fieldMessage(error, schemaAt(schema, key))];
    });
  }, [schema, values]);

  const messages = useMemo(
    () => fieldMessages(order.filter((key) => !(editing && key === "name")), clientErrors, serverErrors,
      (key) => touched.has(key)),
    [order, clientErrors, serverErrors, touched, editing],
  );

  const isAdvanced = useCallback((key: string) => (
    key.startsWith("config.") && Boolean(connector?.form_schema.properties[topKey(key).slice(7)]?.["x-advanced"])
  ), [connector]);

  const focusField = useCallback((key: string) => {
    if (isAdvanced(key)) setAdvancedOpen(true);
    focusKey(key);
  }, [isAdvanced, focusKey]);

  useEffect(() => {
    const key = pendingFocus.current;
    const element = key ? content.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`) : null;
    if (!element) return;
    element.focus();
    pendingFocus.current = null;
  }, [focusRequest, advancedOpen, phase, connector]);

  /** The first field (of `keys`, in the form's order) with a message to fix, if any. */
  const firstInvalid = (keys: string[]): string | null => {
    for (const key of keys) {
      if (clientErrors[key] || serverErrors[key]) return key;
      const inside = Object.keys(clientErrors).find((k) => k.startsWith(`${key}.`));
      if (inside) return inside;
    }
    return null;
  };

  /** Checks the fields (`keys`) before a test or a save: false, with the fields' messages
   * shown and the first one focused, when one is invalid. */
  const check = (keys: string[]): boolean => {
    const inside = Object.keys(clientErrors).filter((key) => keys.includes(topKey(key)));
    setTouched((all) => new Set([...all, ...keys, ...inside]));
    const invalid = keys.filter((key) => firstInvalid([key]));
    if (!invalid.length || !schema) return true;
    const labels = invalid.map((key) => fieldLabel(schema, key));
    setSummary({ text: `Fix the highlighted ${labels.length === 1 ? "field" : "fields"}: ${labels.join(", ")}.`, error: true });
    focusField(firstInvalid(invalid) ?? (invalid[0] as string));
    return false;
  };

  /** The server's field errors at their fields; returns the keys placed and the others. */
  const showServerErrors = (fieldErrors: Record<string, string>): [string[], string[]] => {
    const shown: Record<string, string> = {};
    const unmatched: string[] = [];
    for (const [key, message] of Object.entries(fieldErrors)) {
      const field = connector ? serverErrorKey(connector, key) : null;
      if (field && order.includes(field)) shown[field] = describeServerMessage(message);
      else unmatched.push(`${key}: ${message}`);
    }
    setServerErrors(shown);
    const keys = order.filter((key) => key in shown);
    if (keys.some(isAdvanced)) setAdvancedOpen(true);
    return [keys, unmatched];
  };

  const onChange = (next: FormValues) => {
    const changed = [
      ...(next.name !== values.name ? ["name"] : []),
      ...changedKeys(values.config, next.config, "config"),
    ];
    setValues(next);
    if (!changed.length) return;
    setDirty(true);
    setTouched((all) => new Set([...all, ...changed]));
    setServerErrors((all) => Object.fromEntries(Object.entries(all).filter(([key]) => !changed.includes(key))));
    // A test result speaks for the settings it tested.
    if (changed.some((key) => key.startsWith("config."))) setTestView(null);
    setSummary(null);
  };

  // -- steps -------------------------------------------------------------------------

  const next = async () => {
    if (busy) return;
    if (!chosen) {
      setChooseError("Choose a destination connector.");
      content.current?.querySelector<HTMLElement>("input[name=destination-connector]")?.focus();
      return;
    }
    setBusy(true);
    try {
      if (!connector || connector.id !== chosen) {
        const detail = formConnector(await getDestinationConnector(chosen));
        setConnector(detail);
        setValues((all) => ({ ...destinationInitialValues(detail, null), name: all.name }));
        setTouched(new Set());
        setServerErrors({});
        setTestView(null);
      }
      setPhase("form");
      focusKey("name");
    } catch (error) {
      setChooseError(error instanceof ApiError ? error.summary : String(error));
    } finally {
      setBusy(false);
    }
  };

  const back = () => {
    if (busy) return;
    setPhase("choose");
    setSummary(null);
    setTimeout(() => content.current?.querySelector<HTMLElement>("input[name=destination-connector]:checked")?.focus(), 0);
  };

  const runTest = async () => {
    if (busy || !connector) return;
    if (!check(order.filter((key) => key.startsWith("config.")))) return;
    setSummary(null);
    setBusy(true);
    setTesting(true);
    setTestView(null);
    try {
      const outcome = await testDestinationSettings(connector, stored, values);
      const fieldErrors = outcomeFieldErrors(outcome);
      if (Object.keys(fieldErrors).length) showServerErrors(fieldErrors);
      setTestView({ kind: "outcome", outcome });
    } catch (error) {
      setTestView(failedTestView(error, schema, showServerErrors));
    } finally {
      setTesting(false);
      setBusy(false);
    }
  };

  const save = async () => {
    if (busy || !connector || !schema) return;
    if (!check(order.filter((key) => !(editing && key === "name")))) return;
    setSummary(null);
    setBusy(true);
    try {
      const saved = await saveDestination(connector, stored, values);
      setDirty(false);
      onSaved(saved);
      onClosed();
    } catch (failure) {
      showSaveError(failure);
    } finally {
      setBusy(false);
    }
  };

  const showSaveError = (failure: unknown) => {
    if (!(failure instanceof ApiError) || !schema) {
      setSummary({ text: String(failure), error: true });
      return;
    }
    const taken = failure.error === "DestinationExistsError" || failure.error === "IntegrationExistsError";
    const fieldErrors = taken ? { name: `${failure.detail}: choose another name` } : failure.fieldErrors;
    if (failure.status === 422 || taken) {
      const [keys, unmatched] = showServerErrors(fieldErrors);
      if (keys.length) {
        const labels = keys.map((key) => fieldLabel(schema, key)).join(", ");
        const extra = unmatched.length ? ` (${unmatched.join("; ")})` : "";
        setSummary({ text: `The server refused ${keys.length === 1 ? "a setting" : "some settings"}: ${labels}.${extra}`, error: true });
        focusField(keys[0] as string);
        return;
      }
    }
    setSummary({
      text: failure.error === "ConcurrentUpdateError"
        ? `${failure.summary} Close this form and edit the destination again to see its current settings.`
        : failure.summary,
      error: true,
    });
  };

  const requestClose = async () => {
    if (dirty) {
      const discard = await confirm(DISCARD_EDITS);
      if (!discard) return;
    }
    onClosed();
  };

  // -- rendering ---------------------------------------------------------------------

  const title = editing
    ? `Edit destination ${opening.name}`
    : phase === "form" && connector ? `Configure a ${connector.label} destination` : "Configure a destination";
  const subtitle = editing
    ? `${stored?.label ?? "Destination"} settings. Secrets are never shown: leave them blank to keep them.`
    : phase === "choose"
      ? "Where integrations load their data: choose a destination connector, then enter its settings."
      : "Integrations choose it by its name as their destination. Secrets are stored encrypted and never shown again.";

  return (
    <Dialog.Root open onOpenChange={(open) => { if (!open) void requestClose(); }}>
      <Dialog.Portal>
        <Dialog.Overlay className={`overlay${nested ? " nested" : ""}`} />
        <Dialog.Content id="destination-dialog" ref={content} className={`modal wizard${nested ? " nested" : ""}`}
          aria-labelledby="destination-title" aria-describedby="destination-subtitle"
          onOpenAutoFocus={(event) => {
            event.preventDefault();
            document.getElementById("destination-title")?.focus();
          }}
          onEscapeKeyDown={(event) => { event.preventDefault(); void requestClose(); }}
          onInteractOutside={(event) => event.preventDefault()}>
          <div className="wizard-head">
            <div>
              <Dialog.Title id="destination-title" className="text-xl font-semibold" tabIndex={-1}>{title}</Dialog.Title>
              <Dialog.Description id="destination-subtitle" className="muted">{subtitle}</Dialog.Description>
            </div>
            <button type="button" className="icon-button" aria-label="Close" onClick={() => void requestClose()}>
              <span aria-hidden="true">×</span>
            </button>
          </div>
          <div className="wizard-body">
            {loadError ? <p id="destination-load-error" className="error-summary" role="alert">{loadError}</p> : null}
            <section aria-label="Destination connector" hidden={phase !== "choose"}>
              {choices === null && !loadError ? <p className="muted">Loading the destination connectors…</p> : null}
              {choices ? (
                <fieldset className="choices">
                  <legend>Destination connector</legend>
                  <DestinationConnectorChoices connectors={choices} selected={chosen}
                    onSelect={(id) => { setChosen(id); setChooseError(null); }} />
                </fieldset>
              ) : null}
              <p id="destination-connector-error" className="error" hidden={!chooseError}>{chooseError}</p>
            </section>
            <section aria-label="Settings" hidden={phase !== "form"}>
              {connector && schema ? (
                <>
                  <p className="muted">
                    Fields marked <span aria-hidden="true">*</span><span className="sr-only">required</span> are required.
                  </p>
                  <p id="destination-form-summary" className={`error-summary${summary && !summary.error ? " note" : ""}`} role="alert" hidden={!summary}>
                    {summary?.text}
                  </p>
                  <SettingsForm key={connector.id} schema={schema} values={values} onChange={onChange}
                    onEnter={() => void save()} connector={connector} integration={stored} messages={messages}
                    attention={null} advancedOpen={advancedOpen} setAdvancedOpen={setAdvancedOpen}
                    cronOpen={false} setCronOpen={() => undefined} streamsSlot={null} discovered={null}
                    setSchedule={() => undefined} formId={FORM_ID} idPrefix={PREFIX} nameLegend="Destination"
                    onBlurKey={(key) => setTouched((all) => (all.has(key) ? all : new Set([...all, key])))} />
                  <div className="test-box">
                    <button type="button" id="destination-test" aria-disabled={busy ? true : undefined} onClick={() => void runTest()}>
                      Test connection
                    </button>
                    <div id="destination-test-status" className="test-status" role="status" aria-live="polite" aria-busy={testing ? true : undefined}>
                      {testing ? (
                        <div className="progress"><progress aria-label="Testing the connection" /><span>Testing the connection…</span></div>
                      ) : null}
                      <div id="destination-test-result">
                        {testView ? <TestResult view={testView} onChangeSettings={() => {
                          const first = order.find((key) => key in serverErrors) ?? order.find((key) => key.startsWith("config."));
                          if (first) focusField(first);
                        }} /> : null}
                      </div>
                    </div>
                  </div>
                </>
              ) : editing && !loadError ? <p className="muted">Loading…</p> : null}
            </section>
          </div>
          <div className="wizard-foot">
            <button type="button" id="destination-cancel" onClick={() => void requestClose()}>Cancel</button>
            <span className="spacer" />
            <button type="button" id="destination-back" hidden={editing || phase !== "form"} onClick={back}>Back</button>
            <button type="button" id="destination-next" className="primary" hidden={phase !== "choose"}
              aria-disabled={busy || !choices ? true : undefined} onClick={() => void next()}>
              Next
            </button>
            <button type="button" id="destination-save" className="primary" hidden={phase !== "form" || !connector}
              aria-disabled={busy ? true : undefined} onClick={() => void save()}>
              {editing ? "Save changes" : "Save destination"}
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

interface ChoicesProps {
  connectors: DestinationConnectorSummary[];
  selected: string | null;
  onSelect: (id: string) => void;
}

/** The destination connectors as radio choices, each with its tier (as the marketplace
 * shows it). */
export function DestinationConnectorChoices({ connectors, selected, onSelect }: ChoicesProps) {
  if (!connectors.length) return <p className="muted">The catalog has no destination connector.</p>;
  return (
    <div id="destination-connectors" className="choice-list">
      {connectors.map((c) => {
        const id = `destination-choice-${c.id}`;
        const tier = c.tier ?? "community";
        return (
          <div className="choice" key={c.id} data-connector={c.id}>
            <input type="radio" name="destination-connector" id={id} value={c.id} aria-describedby={`${id}-desc`}
              checked={c.id === selected} onChange={() => onSelect(c.id)} />
            <label htmlFor={id}>
              {/* eslint-disable-next-line @next/next/no-img-element -- a logo of the API, not a page asset */}
              <img src={c.logo_url} alt="" width={32} height={32} />
              <span className="choice-text">
                <span className="choice-label">{c.label}</span>
                <span className="choice-category">
                  {c.category}{" "}
                  <span className={`badge tier-${tier}`} data-tier={tier}
                    title={tier === "verified" ? "Loaded into end to end in this project's tests" : "Installs, with a form from the plugin's own description"}>
                    {tier === "verified" ? "Verified" : "Community"}
                  </span>
                </span>
              </span>
            </label>
            <p id={`${id}-desc`} className="help">{c.description}</p>
          </div>
        );
      })}
    </div>
  );
}
