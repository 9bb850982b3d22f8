// The setup wizard: a modal dialog (Radix Dialog) in four labelled steps — connector,
// settings, test, review and save — also used to edit an integration. Keyboard-only
// usable: focus moves to each step's heading, Tab stays inside, Escape asks before
// discarding edits.

import * as Dialog from "@radix-ui/react-dialog";
import type { RJSFValidationError } from "@rjsf/utils";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { api, ApiError, saveIntegration, seg, testSettings } from "@/lib/api";
import { connectorDetail } from "@/lib/catalog";
import { destinationChoices, listDestinations } from "@/lib/destinations";
import {
  configToSend,
  createBody,
  errorPath,
  fieldLabel,
  fieldMessage,
  fieldOrder,
  initialValues,
  reviewRows,
  schemaAt,
  serverErrorKey,
  stepOf,
  topKey,
  updateBody,
  wizardSchema,
  changedKeys,
  describeServerMessage,
  type FormValues,
} from "@/lib/settings";
import type {
  ConnectorDetail,
  ConnectorSummary,
  Destination,
  DiscoveredStream,
  Discovery,
  DiscoveryOutcome,
  Integration,
  IntegrationSchema,
  SchemaChange,
} from "@/lib/types";

import { DISCARD_EDITS, useConfirm } from "./Confirm";
import { DestinationDialog } from "./DestinationDialog";
import { SettingsForm, checkValues } from "./SettingsForm";
import { useToast } from "./Toasts";
import { ConnectorChoices, ReviewList, TestResult, failedTestView, type TestView } from "./WizardParts";

export type WizardOpening =
  | { mode: "create"; connector: ConnectorDetail | null }
  | {
    mode: "edit";
    integration: Integration;
    etag: string;
    connector: ConnectorDetail;
    field: string | null;
    /** Opened at the streams step, at this stream (a schema-change notification's link). */
    stream?: string | null;
  };

interface Props {
  opening: WizardOpening;
  connectors: ConnectorSummary[];
  onClosed: () => void;
  onSaved: (name: string) => void;
  /** Tells the page whether closing would lose edits. */
  onDirty: (dirty: boolean) => void;
}

const STEPS = ["Connector", "Settings", "Test connection", "Streams", "Review and save"];
const LAST = STEPS.length;

type DiscoveryState =
  | { status: "idle" }
  | { status: "running" }
  | { status: "absent" }
  | { status: "done"; streams: DiscoveredStream[]; at: string | null }
  | { status: "failed"; outcome: DiscoveryOutcome | null; error: unknown };

type Summary = { text: string; error: boolean } | null;
type FocusTarget = { heading: number } | { field: string } | null;

export function Wizard({ opening, connectors, onClosed, onSaved, onDirty }: Props) {
  const confirm = useConfirm();
  const toast = useToast();
  const integration = opening.mode === "edit" ? opening.integration : null;
  const firstStep = opening.mode === "edit" ? 2 : 1;
  const [connector, setConnector] = useState<ConnectorDetail | null>(opening.connector);
  const [chosen, setChosen] = useState<string | null>(opening.connector?.id ?? null);
  const [filter, setFilter] = useState("");
  const [connectorError, setConnectorError] = useState<string | null>(null);
  const focusStream = opening.mode === "edit" ? opening.stream ?? null : null;
  const [step, setStep] = useState(focusStream ? 4 : opening.connector ? 2 : 1);
  const [values, setValues] = useState<FormValues>(() => (opening.connector ? initialValues(opening.connector, integration) : {}));
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  // The edit form opened from a notification: that field, highlighted (and focused on
  // opening); a config that cannot be read asks for everything again.
  const [attention] = useState<string | null>(() => (opening.mode === "edit" ? attentionKey(opening) : null));
  const [summary, setSummary] = useState<Summary>(() => openingSummary(opening));
  // Opened at an advanced setting (a notification's action): the section starts open.
  const [advancedOpen, setAdvancedOpen] = useState(() => {
    const key = opening.mode === "edit" ? attentionKey(opening) : null;
    return Boolean(key && opening.connector?.form_schema.properties[key.slice(7)]?.["x-advanced"]);
  });
  const [cronOpen, setCronOpen] = useState(false);
  const [streamsSlot, setStreamsSlot] = useState<HTMLElement | null>(null);
  const [discovery, setDiscovery] = useState<DiscoveryState>({ status: "idle" });
  // The version the save applies to: a discovery run from here stores its result with the
  // integration (a new version), which this edit then builds on.
  const [etag, setEtag] = useState(opening.mode === "edit" ? opening.etag : "");
  // The streams last discovered stay listed while the schema is read again.
  const [discovered, setDiscovered] = useState<DiscoveredStream[] | null>(null);
  // Schema changes waiting for an approval (editing only).
  const [pending, setPending] = useState<SchemaChange[]>([]);
  const [approving, setApproving] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [testView, setTestView] = useState<TestView | null>(null);
  const [lastTest, setLastTest] = useState<{ ok: boolean; reason: string } | null>(null);
  const [saveError, setSaveError] = useState<Summary>(null);
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [focusTarget, setFocusTarget] = useState<FocusTarget>(null);
  const opened = useRef(false);
  // The destinations to choose from (null: not read, the built-in ones are offered), and
  // the destination form opened from the destination field.
  const [destinations, setDestinations] = useState<Destination[] | null>(null);
  const [configuringDestination, setConfiguringDestination] = useState(false);

  useEffect(() => {
    let live = true;
    listDestinations().then((list) => { if (live) setDestinations(list); }).catch(() => undefined);
    return () => { live = false; };
  }, []);

  const choices = useMemo(
    () => destinationChoices(destinations, integration?.destination, values.destination),
    [destinations, integration?.destination, values.destination],
  );
  const schema = useMemo(() => (connector ? wizardSchema(connector, integration, choices) : null), [connector, integration, choices]);
  const order = useMemo(() => (connector ? fieldOrder(connector) : []), [connector]);

  useEffect(() => onDirty(dirty), [dirty, onDirty]);

  // -- focus -------------------------------------------------------------------------

  const focusField = useCallback((key: string) => {
    if (key.startsWith("config.") && connector?.form_schema.properties[topKey(key).slice(7)]?.["x-advanced"]) setAdvancedOpen(true);
    if (key === "schedule") setCronOpen(true);
    setFocusTarget({ field: key });
  }, [connector]);

  useEffect(() => {
    if (!focusTarget || !opened.current) return;
    const element = "heading" in focusTarget
      ? document.getElementById(`step-${focusTarget.heading}-title`)
      : document.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusTarget.field)}"]`);
    element?.focus();
    setFocusTarget(null);
  }, [focusTarget, step, advancedOpen, cronOpen]);

  const goTo = (next: number, focus: FocusTarget = { heading: next }) => {
    setStep(next);
    setFocusTarget(focus);
  };

  // -- validation --------------------------------------------------------------------

  const clientErrors = useMemo(() => {
    if (!schema) return {};
    return checkValues(schema, values, (error: RJSFValidationError) => {
      const path = errorPath(error.property);
      const key = path.startsWith("streams") ? "streams" : path;
      return [key, fieldMessage(error, schemaAt(schema, key))];
    });
  }, [schema, values]);

  const messages = useMemo(() => {
    const out: Record<string, string> = {};
    for (const key of order) {
      if (key === "name" && opening.mode === "edit") continue;
      const shown = serverErrors[key] || ((submitted || touched.has(key)) ? clientErrors[key] : undefined);
      if (shown) out[key] = shown;
    }
    // The fields inside an object or a list: once changed or left, or after Next.
    for (const [key, message] of Object.entries(clientErrors)) {
      if (key in out || order.includes(key) || !order.includes(topKey(key))) continue;
      if (submitted || touched.has(key)) out[key] = message;
    }
    return out;
  }, [order, serverErrors, clientErrors, submitted, touched, opening.mode]);

  /** Whether a form key, or a field inside it, has a message. */
  const firstInvalid = (key: string): string | null => {
    if (clientErrors[key] || serverErrors[key]) return key;
    return Object.keys(clientErrors).find((k) => k.startsWith(`${key}.`)) ?? null;
  };

  const onChange = (next: FormValues) => {
    const changed = order.filter((key) => {
      const [top, sub] = key.split(".");
      const before = sub ? values.config?.[sub] : values[top as keyof FormValues];
      const after = sub ? next.config?.[sub] : next[top as keyof FormValues];
      return JSON.stringify(before) !== JSON.stringify(after);
    });
    setValues(next);
    if (!changed.length) return;
    const inside = changedKeys(values.config, next.config, "config").filter((key) => !order.includes(key));
    setDirty(true);
    setTouched((all) => new Set([...all, ...changed, ...inside]));
    setServerErrors((all) => Object.fromEntries(Object.entries(all).filter(([key]) => !changed.includes(key))));
    // A test result speaks for the connection settings it tested, not for edited ones
    // (what to sync and when do not change it).
    if (changed.some((key) => key.startsWith("config."))) {
      setLastTest(null);
      setTestView(null);
    }
    setSummary(null);
  };

  const showServerErrors = (fieldErrors: Record<string, string>): [string[], string[]] => {
    const shown: Record<string, string> = {};
    const unmatched: string[] = [];
    for (const [key, message] of Object.entries(fieldErrors)) {
      const field = connector ? serverErrorKey(connector, key) : null;
      if (field) shown[field] = describeServerMessage(message);
      else unmatched.push(`${key}: ${message}`);
    }
    setServerErrors(shown);
    const keys = order.filter((key) => key in shown);
    if (keys.some((key) => connector?.form_schema.properties[topKey(key).slice(7)]?.["x-advanced"])) setAdvancedOpen(true);
    if (keys.includes("schedule")) setCronOpen(true);
    return [keys, unmatched];
  };

  // -- steps -------------------------------------------------------------------------

  const loadConnector = async (id: string): Promise<boolean> => {
    try {
      const detail = await connectorDetail(id);
      if (!connector || connector.id !== detail.id) {
        setConnector(detail);
        setValues(initialValues(detail, integration));
        setTouched(new Set());
        setSubmitted(false);
        setServerErrors({});
        setTestView(null);
        setLastTest(null);
      }
      return true;
    } catch (error) {
      setConnectorError(error instanceof ApiError ? error.summary : String(error));
      return false;
    }
  };

  const next = async () => {
    if (busy) return;
    if (step === 1) {
      if (!chosen) {
        setConnectorError("Choose a connector.");
        document.querySelector<HTMLElement>("#wizard input[name=connector]")?.focus();
        return;
      }
      setBusy(true);
      const loaded = await loadConnector(chosen).finally(() => setBusy(false));
      if (loaded) goTo(2);
    } else if ((step === 2 || step === 4) && schema) {
      setSubmitted(true);
      const invalid = order.filter((key) => stepOf(key) === step && !(key === "name" && opening.mode === "edit")
        && firstInvalid(key));
      if (invalid.length) {
        const labels = invalid.map((key) => fieldLabel(schema, key));
        setSummary({ text: `Fix the highlighted ${labels.length === 1 ? "field" : "fields"}: ${labels.join(", ")}.`, error: true });
        focusField(firstInvalid(invalid[0] as string) ?? (invalid[0] as string));
        return;
      }
      setSummary(null);
      if (step === 2) goTo(3);
      else goTo(5);
    } else if (step === 3) {
      goTo(4);
      if (discovery.status === "idle") void discover(false);
    }
  };

  // -- step 4: the source's streams --------------------------------------------------

  const discover = async (refresh: boolean) => {
    if (!connector || discovery.status === "running") return;
    setDiscovery({ status: "running" });
    try {
      let found: { streams: DiscoveredStream[]; at: string | null } | null = null;
      let outcome: DiscoveryOutcome | null = null;
      if (integration && !refresh) {
        try {
          const { data } = await api<Discovery>("GET", `/api/v1/integrations/${seg(integration.name)}/discovery`);
          found = { streams: data.streams, at: data.discovered_at };
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
          // Never read: reading it is the user's call (it stores what it finds).
          setDiscovery({ status: "absent" });
          return;
        }
      }
      if (!found) {
        const path = integration
          ? `/api/v1/integrations/${seg(integration.name)}/discover`
          : `/api/v1/connectors/${seg(connector.id)}/discover`;
        const body = integration ? undefined : { config: configToSend(connector, null, values) };
        outcome = (await api<DiscoveryOutcome>("POST", path, { body })).data;
        if (outcome.ok && outcome.streams) found = { streams: outcome.streams, at: outcome.discovered_at ?? null };
        if (outcome.ok && integration) {
          const { data: now, etag: current } = await api<Integration>("GET", `/api/v1/integrations/${seg(integration.name)}`);
          setEtag(current || `W/"${now.version}"`);
        }
      }
      if (found) {
        // In alphabetical order (a source lists them in its own, sometimes random, order).
        found = { ...found, streams: [...found.streams].sort((a, b) => a.name.localeCompare(b.name)) };
        setDiscovery({ status: "done", ...found });
        setDiscovered(found.streams);
        // What was chosen before stays chosen where the source has it.
        const names = new Set(found.streams.map((s) => s.name));
        setValues((all) => ({ ...all, streams: (all.streams || []).filter((s) => names.has(s.name)) }));
        if (integration) void loadPending(integration.name);
      } else setDiscovery({ status: "failed", outcome, error: null });
    } catch (error) {
      setDiscovery({ status: "failed", outcome: null, error });
    }
  };

  /** The schema changes waiting for approval (best effort: the list works without). */
  const loadPending = async (name: string) => {
    try {
      const { data } = await api<IntegrationSchema>("GET", `/api/v1/integrations/${seg(name)}/schema?changes=0`);
      setPending(data.pending);
    } catch {
      setPending([]);
    }
  };

  /** Approve what the schema policy held back in `stream`; it syncs from the next run. */
  const approve = async (stream: string) => {
    if (!integration || approving) return;
    setApproving(stream);
    try {
      await api("POST", `/api/v1/integrations/${seg(integration.name)}/schema/approve`, { body: { stream } });
      const { data: now, etag: current } = await api<Integration>("GET", `/api/v1/integrations/${seg(integration.name)}`);
      setEtag(current || `W/"${now.version}"`);
      // The approved stream as the server now has it; the rest as edited here.
      const approved = now.streams.find((s) => s.name === stream);
      setValues((all) => {
        const streams = all.streams || [];
        if (!approved) return all;
        const kept = streams.some((s) => s.name === stream)
          ? streams.map((s) => (s.name === stream ? { ...s, excluded_columns: approved.excluded_columns } : s))
          : [...streams, { name: approved.name, replication_key: approved.replication_key }];
        return { ...all, streams: kept };
      });
      setPending((all) => all.filter((c) => c.stream !== stream));
      toast(`Approved the changes of ${stream}: the next sync includes them.`);
    } catch (error) {
      toast(`Could not approve: ${error instanceof ApiError ? error.summary : String(error)}`, { kind: "error" });
    } finally {
      setApproving(null);
    }
  };

  const back = () => {
    if (!busy && step > firstStep) goTo(step - 1);
  };

  const runTest = async () => {
    if (busy || !connector) return;
    setBusy(true);
    setTesting(true);
    setTestView(null);
    try {
      const config = configToSend(connector, integration, values);
      const outcome = await testSettings(integration ? { name: integration.name } : { connectorId: connector.id }, config);
      setLastTest({ ok: outcome.ok, reason: outcome.reason });
      setTestView({ kind: "outcome", outcome });
    } catch (error) {
      setLastTest(null);
      setTestView(failedTestView(error, schema, showServerErrors));
    } finally {
      setTesting(false);
      setBusy(false);
    }
  };

  const save = async () => {
    if (busy || !connector || !schema) return;
    setBusy(true);
    setSaveError(null);
    try {
      const saved = await saveIntegration(
        opening.mode === "edit" ? { name: opening.integration.name, etag } : null,
        opening.mode === "edit" ? updateBody(connector, opening.integration, values) : createBody(connector, values),
      );
      const name = saved.integration.name;
      const later = saved.definitions === "pending" ? " Dagster could not be reached: its assets appear when it is back." : "";
      close();
      toast(`Saved '${name}'.${later}`, { kind: "success" });
      onSaved(name);
    } catch (failure) {
      showSaveError(failure);
    } finally {
      setBusy(false);
    }
  };

  const showSaveError = (failure: unknown) => {
    if (!(failure instanceof ApiError)) {
      setSaveError({ text: String(failure), error: true });
      return;
    }
    const taken = failure.error === "IntegrationExistsError";
    const fieldErrors = taken ? { name: `${failure.detail}: choose another name` } : failure.fieldErrors;
    if ((failure.status === 422 || taken) && schema) {
      const [keys, unmatched] = showServerErrors(fieldErrors);
      if (keys.length) {
        const labels = keys.map((key) => fieldLabel(schema, key)).join(", ");
        const extra = unmatched.length ? ` (${unmatched.join("; ")})` : "";
        setStep(stepOf(keys[0] as string));
        setSummary({ text: `The server refused ${keys.length === 1 ? "a setting" : "some settings"}: ${labels}.${extra}`, error: true });
        focusField(keys[0] as string);
        return;
      }
    }
    setSaveError({
      text: failure.error === "ConcurrentUpdateError"
        ? `${failure.summary} Close the wizard and edit it again to see the current settings.`
        : failure.summary,
      error: true,
    });
  };

  // -- closing -----------------------------------------------------------------------

  // The page puts the focus back on the opener once the dialog is gone.
  const close = () => onClosed();

  const requestClose = async () => {
    if (dirty) {
      const discard = await confirm(DISCARD_EDITS);
      if (!discard) return;
    }
    close();
  };

  // -- rendering ---------------------------------------------------------------------

  const title = opening.mode === "edit"
    ? `Edit ${opening.integration.name}`
    : connector ? `Add a ${connector.label} integration` : "Add an integration";
  const subtitle = opening.mode === "edit"
    ? opening.integration.config_error
      ? `${opening.connector.label} integration. Its stored settings cannot be read: enter them all again.`
      : `${opening.connector.label} integration. Secrets are never shown: leave them blank to keep them.`
    : "Five steps: connector, settings, test, streams, review.";
  const reviewNote = step === LAST && (!lastTest || !lastTest.ok)
    ? (lastTest
      ? "The connection test failed: you can save anyway and fix the settings later, or go back."
      : "The connection was not tested: you can save anyway, or go back and test it.")
    : null;
  const saveMessage = saveError ?? (reviewNote ? { text: reviewNote, error: false } : null);

  return (
    <Dialog.Root open onOpenChange={(open) => { if (!open) void requestClose(); }}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content id="wizard" className="modal wizard" aria-labelledby="wizard-title" aria-describedby="wizard-subtitle"
          onOpenAutoFocus={(event) => {
            event.preventDefault();
            opened.current = true;
            // Opened at a stream by a schema-change notification: read the stored schema.
            if (focusStream && discovery.status === "idle") void discover(false);
            // Focused here, as the dialog opens (not a render later).
            const field = opening.mode === "edit" && !opening.integration.config_error ? attentionKey(opening) : null;
            const target = field
              ? document.querySelector<HTMLElement>(`#wizard [data-key="${CSS.escape(field)}"]`)
              : document.getElementById(`step-${step}-title`);
            target?.focus();
          }}
          onCloseAutoFocus={(event) => event.preventDefault()}
          onEscapeKeyDown={(event) => { event.preventDefault(); void requestClose(); }}
          onInteractOutside={(event) => event.preventDefault()}>
          <div className="wizard-head">
            <div>
              <Dialog.Title id="wizard-title" className="text-xl font-semibold">{title}</Dialog.Title>
              <Dialog.Description id="wizard-subtitle" className="muted">{subtitle}</Dialog.Description>
            </div>
            <button type="button" id="wizard-close" className="icon-button" aria-label="Close" onClick={() => void requestClose()}>
              <span aria-hidden="true">×</span>
            </button>
          </div>
          <ol id="wizard-steps" className="steps" aria-label="Steps">
            {STEPS.map((label, index) => {
              const n = index + 1;
              return (
                <li key={label} data-step={n} className={n === step ? "current" : n < step ? "done" : undefined}
                  aria-current={n === step ? "step" : undefined}>
                  <span className="step-num" aria-hidden="true">{n}</span> <span className="sr-only">Step {n}:</span> {label}
                </li>
              );
            })}
          </ol>
          <div className="wizard-body">
            <section data-panel="1" aria-labelledby="step-1-title" hidden={step !== 1}>
              <h3 id="step-1-title" className="step-title" tabIndex={-1}>Step 1 of 5: Choose a connector</h3>
              <div className="field">
                <label htmlFor="wizard-connector-search">Filter connectors</label>
                <input type="search" id="wizard-connector-search" autoComplete="off" spellCheck={false} value={filter}
                  onChange={(event) => setFilter(event.target.value)} />
              </div>
              <fieldset className="choices">
                <legend>Connector</legend>
                <div id="wizard-connectors" className="choice-list">
                  <ConnectorChoices connectors={connectors} filter={filter} selected={chosen}
                    onSelect={(id) => { setChosen(id); setConnectorError(null); }} />
                </div>
              </fieldset>
              <p id="wizard-connector-error" className="error" hidden={!connectorError}>{connectorError}</p>
            </section>
            <section data-panel="2" aria-labelledby="step-2-title" hidden={step !== 2}>
              <h3 id="step-2-title" className="step-title" tabIndex={-1}>Step 2 of 5: Settings</h3>
              <p className="muted" id="wizard-form-intro">
                Fields marked <span aria-hidden="true">*</span><span className="sr-only">required</span> are required.
              </p>
              <p id="wizard-form-summary" className={`error-summary${summary && !summary.error ? " note" : ""}`} role="alert" hidden={!summary}>
                {summary?.text}
              </p>
              {connector && schema ? (
                <SettingsForm key={connector.id} schema={schema} values={values} onChange={onChange} onEnter={() => void next()}
                  connector={connector} integration={integration} messages={messages} attention={attention}
                  advancedOpen={advancedOpen} setAdvancedOpen={setAdvancedOpen} cronOpen={cronOpen} setCronOpen={setCronOpen}
                  streamsSlot={streamsSlot} discovered={discovered} focusStream={focusStream}
                  onNewDestination={() => setConfiguringDestination(true)}
                  setSchedule={(cron) => onChange({ ...values, schedule: cron })}
                  onBlurKey={(key) => setTouched((all) => (all.has(key) ? all : new Set([...all, key])))} />
              ) : null}
            </section>
            <section data-panel="3" aria-labelledby="step-3-title" hidden={step !== 3}>
              <h3 id="step-3-title" className="step-title" tabIndex={-1}>Step 3 of 5: Test the connection</h3>
              <p className="muted">The platform logs in with these settings and reads from the source; nothing is saved.</p>
              <button type="button" id="wizard-test" className="primary" aria-disabled={testing ? true : undefined} onClick={() => void runTest()}>
                Test connection
              </button>
              <div id="test-status" className="test-status" role="status" aria-live="polite" aria-busy={testing ? true : undefined}>
                <div id="test-progress" className="progress" hidden={!testing}>
                  <progress aria-label="Testing the connection" />
                  <span>Testing the connection…</span>
                </div>
                <div id="test-result">
                  {testView ? <TestResult view={testView} onChangeSettings={() => {
                    if (testView.kind === "invalid") {
                      const first = order.find((key) => key in serverErrors);
                      setStep(2);
                      if (first) focusField(first);
                      else setFocusTarget({ heading: 2 });
                    } else goTo(2);
                  }} /> : null}
                </div>
              </div>
            </section>
            <section data-panel="4" aria-labelledby="step-4-title" hidden={step !== 4}>
              <h3 id="step-4-title" className="step-title" tabIndex={-1}>Step 4 of 5: What to sync, and when</h3>
              <div id="discovery-status" className="test-status" role="status" aria-live="polite" aria-busy={discovery.status === "running" ? true : undefined}>
                {discovery.status === "running" ? (
                  <div className="progress"><progress aria-label="Reading the source's streams" /><span>Reading the source&apos;s streams…</span></div>
                ) : null}
                {discovery.status === "done" ? (
                  <p className="muted">
                    {discovery.streams.length} streams found{discovery.at ? <> (read <time dateTime={discovery.at}>{new Date(discovery.at).toLocaleString()}</time>)</> : null}.
                  </p>
                ) : null}
                {discovery.status === "absent" ? (
                  <p className="muted">The source&apos;s own streams have not been read yet: <strong>Refresh schema</strong> reads them. Below, the connector&apos;s list.</p>
                ) : null}
                {discovery.status === "failed" ? (
                  discovery.outcome ? (
                    <div className="result result-fail" data-reason={discovery.outcome.reason}>
                      <p className="result-title">The source&apos;s streams could not be read — reason: {discovery.outcome.reason}</p>
                      <p className="result-message">{discovery.outcome.message}</p>
                      {discovery.outcome.hint ? <p className="result-hint"><strong>What to do: </strong>{discovery.outcome.hint}</p> : null}
                      <p className="muted">The connector&apos;s own list is shown instead.</p>
                    </div>
                  ) : (
                    <div className="result result-fail">
                      <p className="result-title">The source&apos;s streams could not be read.</p>
                      <p>{discovery.error instanceof ApiError ? discovery.error.summary : String(discovery.error)}</p>
                    </div>
                  )
                ) : null}
              </div>
              <button type="button" id="wizard-refresh-schema" aria-disabled={discovery.status === "running" ? true : undefined}
                onClick={() => void discover(true)}>
                {integration ? "Refresh schema" : "Read the streams again"}
              </button>
              {pending.length ? (
                <div id="schema-pending" className="result result-warn" role="region" aria-label="Schema changes waiting for approval">
                  <p className="result-title">Waiting for your approval (the schema policy held them back)</p>
                  <ul>
                    {[...new Set(pending.map((c) => c.stream))].map((stream) => (
                      <li key={stream} data-stream={stream}>
                        {pending.filter((c) => c.stream === stream).map((c) => c.description).join("; ")}{" "}
                        <button type="button" aria-disabled={approving ? true : undefined} onClick={() => void approve(stream)}>
                          Approve<span className="sr-only">{` the changes of ${stream}`}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                </div>
              ) : null}
              <div ref={setStreamsSlot} className="mt-3" />
            </section>
            <section data-panel="5" aria-labelledby="step-5-title" hidden={step !== 5}>
              <h3 id="step-5-title" className="step-title" tabIndex={-1}>Step 5 of 5: Review and save</h3>
              {step === 5 && connector ? <ReviewList rows={reviewRows(connector, integration, values, choices)} test={lastTest} /> : <dl id="wizard-review" className="review" />}
              <p className="muted" role="status" aria-live="polite">
                {busy && step === LAST ? "Saving… (a selection of the source's own streams is checked against it first)" : ""}
              </p>
              <p id="wizard-save-error" className={`error-summary${saveMessage && !saveMessage.error ? " note" : ""}`} role="alert" hidden={!saveMessage}>
                {saveMessage?.text}
              </p>
            </section>
          </div>
          <div className="wizard-foot">
            <button type="button" id="wizard-cancel" onClick={() => void requestClose()}>Cancel</button>
            <span className="spacer" />
            <button type="button" id="wizard-back" hidden={step <= firstStep} onClick={back}>Back</button>
            <button type="button" id="wizard-next" className="primary" hidden={step === LAST} onClick={() => void next()}>
              {step === 3 ? "Next: streams" : step === 4 ? "Next: review" : "Next"}
            </button>
            <button type="button" id="wizard-save" className="primary" hidden={step !== LAST} aria-disabled={busy ? true : undefined} onClick={() => void save()}>
              Save
            </button>
          </div>
          {configuringDestination ? (
            <DestinationDialog opening={NEW_DESTINATION} nested onClosed={() => setConfiguringDestination(false)}
              onSaved={(saved) => {
                setDestinations((list) => (list ? [...list.filter((d) => d.name !== saved.name), saved] : list));
                onChange({ ...values, destination: saved.name });
                toast(`Saved the destination '${saved.name}', and chose it for this integration.`, { kind: "success" });
              }} />
          ) : null}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

const NEW_DESTINATION = { mode: "create" } as const;

/** What the settings step says first: why the stored config must be entered again, or
 * which setting a notification points at. */
function openingSummary(opening: WizardOpening): Summary {
  if (opening.mode !== "edit") return null;
  if (opening.integration.config_error) {
    return {
      text: `The stored settings cannot be read (${opening.integration.config_error}) `
        + "Enter every setting and secret again to repair it; its history and bookmarks are kept.",
      error: false,
    };
  }
  const key = attentionKey(opening);
  if (!key) return null;
  return { text: `Re-enter ${fieldLabel(wizardSchema(opening.connector, opening.integration), key)}: the latest notification points at it.`, error: false };
}

/** The form key a notification's field names, when the connector has it. */
function attentionKey(opening: Extract<WizardOpening, { mode: "edit" }>): string | null {
  if (!opening.field) return null;
  const key = opening.field in opening.connector.form_schema.properties ? `config.${opening.field}` : opening.field;
  return fieldOrder(opening.connector).includes(key) ? key : null;
}

