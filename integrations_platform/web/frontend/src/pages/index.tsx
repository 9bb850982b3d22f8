// The page: the token prompt, the marketplace, the wizard, the installed list, the
// notification bar and the run view, with polling for status.
//
// Routes (the fragment, so that the page stays one static file):
//   #/add                         the wizard at step 1
//   #/add/{connector}             the wizard with that connector chosen
//   #/integrations/{name}         the wizard editing that integration
//   #/integrations/{name}?field=F ... opened at setting F (a notification's action)

import dynamic from "next/dynamic";
import Head from "next/head";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { ConfirmProvider, DISCARD_EDITS, useConfirm } from "@/components/Confirm";
import { InstalledList, type BulkAction, type RowActions } from "@/components/InstalledList";
import { Marketplace } from "@/components/Marketplace";
import { NotificationBar } from "@/components/NotificationBar";
import { ToastProvider, useToast } from "@/components/Toasts";
import { TokenDialog } from "@/components/TokenDialog";
import type { WizardOpening } from "@/components/Wizard";
import { api, describeError, forgetToken, rememberToken, seg, setTokenPrompt, storedToken } from "@/lib/api";
import { connectorDetail, connectorSummaries } from "@/lib/catalog";
import type { BulkResult, ConnectorSummary, Integration, Notification } from "@/lib/types";

// The wizard (and the form library it carries) and the run view load when first opened.
const Wizard = dynamic(() => import("@/components/Wizard").then((m) => m.Wizard), { ssr: false });
const RunsDialog = dynamic(() => import("@/components/RunsDialog").then((m) => m.RunsDialog), { ssr: false });

const FAST_POLL_MS = 2000;
const SLOW_POLL_MS = 15000;
const FAST_POLL_AFTER_LAUNCH_MS = 120000;
const ACTIVE = new Set(["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]);

interface Prompt {
  id: number;
  reason: string | null;
  resolve: (token: string) => void;
}

export default function Page() {
  return (
    <ToastProvider>
      <ConfirmProvider>
        <Head><title>Integrations</title></Head>
        <App />
      </ConfirmProvider>
    </ToastProvider>
  );
}

function App() {
  const toast = useToast();
  const confirm = useConfirm();
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const [hasToken, setHasToken] = useState(false);
  const [connectors, setConnectors] = useState<ConnectorSummary[] | null>(null);
  const [items, setItems] = useState<Integration[] | null>(null);
  const [notes, setNotes] = useState<Notification[]>([]);
  const [fieldLabels, setFieldLabels] = useState<Map<string, string>>(new Map());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [wizard, setWizard] = useState<{ opening: WizardOpening; opener: HTMLElement | null; id: number } | null>(null);
  const [runsOf, setRunsOf] = useState<string | null>(null);
  const wizardDirty = useRef(false);
  const launchedAt = useRef(0);
  const seen = useRef<Set<string> | null>(null);
  const itemsRef = useRef<Integration[] | null>(null);
  const opened = useRef(0);
  const returnFocusTo = useRef<HTMLElement | null>(null);

  // A closed wizard gives the focus back to what opened it (once the dialog is gone).
  useEffect(() => {
    const target = returnFocusTo.current;
    if (wizard || !target) return;
    returnFocusTo.current = null;
    if (target.isConnected && target !== document.body) target.focus();
  }, [wizard]);

  useEffect(() => {
    let counter = 0;
    // The tab's storage exists only in the browser, after the static page is hydrated.
    // eslint-disable-next-line react-hooks/set-state-in-effect -- read once, after hydration
    setHasToken(Boolean(storedToken()));
    setTokenPrompt((reason) => new Promise<string>((resolve) => {
      counter += 1;
      setPrompt({ id: counter, reason, resolve });
    }));
  }, []);

  const byName = useMemo(() => new Map((items || []).map((i) => [i.name, i])), [items]);
  const connectorMap = useMemo(() => new Map((connectors || []).map((c) => [c.id, c])), [connectors]);

  // -- data --------------------------------------------------------------------------

  const showNotifications = useCallback(async (data: Notification[], integrations: Integration[]) => {
    const labels = new Map<string, string>();
    const known = new Map(integrations.map((i) => [i.name, i]));
    for (const note of data) {
      if (!note.settings_field) continue;
      let label = note.settings_field.replace(/_/g, " ");
      const integration = known.get(note.integration);
      if (integration) {
        try {
          const detail = await connectorDetail(integration.connector);
          label = detail.form_schema.properties[note.settings_field]?.title || label;
        } catch {
          // The fallback label (the setting's name) is shown.
        }
      }
      labels.set(note.id, label);
    }
    if (seen.current) {
      for (const note of data) if (!seen.current.has(note.id)) toast(`New notification: ${note.title}`, { kind: "error" });
    }
    seen.current = new Set(data.map((n) => n.id));
    setNotes(data);
    setFieldLabels(labels);
  }, [toast]);

  const refreshAll = useCallback(async () => {
    const [{ data }, { data: open }] = await Promise.all([
      api<Integration[]>("GET", "/api/v1/integrations"),
      api<Notification[]>("GET", "/api/v1/notifications?status=open&limit=50"),
    ]);
    itemsRef.current = data;
    setItems(data);
    const names = new Set(data.map((i) => i.name));
    setSelected((all) => new Set([...all].filter((n) => names.has(n))));
    await showNotifications(open, data);
  }, [showNotifications]);

  // -- the wizard --------------------------------------------------------------------

  const openWizard = useCallback(async (opening: () => Promise<WizardOpening | null>) => {
    if (wizard && wizardDirty.current) {
      const discard = await confirm(DISCARD_EDITS);
      if (!discard) return;
    }
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const ready = await opening();
    if (!ready) {
      window.history.replaceState(null, "", "#/");
      return;
    }
    opened.current += 1;
    wizardDirty.current = false;
    setWizard({ opening: ready, opener, id: opened.current });
  }, [wizard, confirm]);

  const route = useCallback(async () => {
    const [path = "", query] = window.location.hash.replace(/^#/, "").split("?");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(query || "");
    if (parts[0] === "add") {
      const connectorId = parts[1] || null;
      await openWizard(async () => {
        if (!connectorId) return { mode: "create", connector: null };
        try {
          return { mode: "create", connector: await connectorDetail(connectorId) };
        } catch (error) {
          toast(`The wizard cannot open: ${describeError(error)}`, { kind: "error" });
          return null;
        }
      });
    } else if (parts[0] === "integrations" && parts[1]) {
      const name = parts[1];
      await openWizard(async () => {
        try {
          const { data: integration, etag } = await api<Integration>("GET", `/api/v1/integrations/${seg(name)}`);
          const connector = await connectorDetail(integration.connector);
          const stream = params.get("step") === "streams" ? params.get("stream") || "" : null;
          return { mode: "edit", integration, etag: etag || `W/"${integration.version}"`, connector, field: params.get("field"), stream };
        } catch (error) {
          toast(`Cannot edit '${name}': ${describeError(error)}`, { kind: "error" });
          return null;
        }
      });
    }
  }, [openWizard, toast]);

  const routeRef = useRef(route);
  useEffect(() => {
    routeRef.current = route;
  }, [route]);

  const navigate = useCallback((hash: string) => {
    if (window.location.hash === hash) void routeRef.current();
    else window.location.hash = hash;
  }, []);

  useEffect(() => {
    const onHash = () => void routeRef.current();
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  // -- start and polling -------------------------------------------------------------

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const active = () => Date.now() - launchedAt.current < FAST_POLL_AFTER_LAUNCH_MS
      || (itemsRef.current || []).some((i) => i.status?.last_run && ACTIVE.has(i.status.last_run.status));
    const poll = async () => {
      if (stopped) return;
      if (!document.hidden) await refreshAll().catch(() => undefined);
      timer = setTimeout(poll, active() ? FAST_POLL_MS : SLOW_POLL_MS);
    };
    (async () => {
      try {
        const [all] = await Promise.all([connectorSummaries(), refreshAll()]);
        setConnectors(all);
        setHasToken(true);
      } catch (error) {
        toast(describeError(error), { kind: "error", timeoutMs: 0 });
      }
      await routeRef.current();
      document.body.dataset.ready = "true";
      timer = setTimeout(poll, active() ? FAST_POLL_MS : SLOW_POLL_MS);
    })();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [refreshAll, toast]);

  // -- actions -----------------------------------------------------------------------

  const act = useCallback(async <T,>(work: () => Promise<T>, success?: string): Promise<T | null> => {
    try {
      const result = await work();
      if (success) toast(success, { kind: "success" });
      return result;
    } catch (error) {
      toast(describeError(error), { kind: "error", timeoutMs: 15000 });
      return null;
    } finally {
      await refreshAll().catch(() => undefined);
    }
  }, [refreshAll, toast]);

  const actions: RowActions = useMemo(() => ({
    sync: async (name) => {
      const result = await act(() => api<{ run_id: string; url: string }>("POST", `/api/v1/integrations/${seg(name)}/sync`, { body: {} }));
      if (!result) return;
      launchedAt.current = Date.now();
      toast(`Sync of '${name}' started.`, { kind: "success", action: { label: "Open run", href: result.data.url } });
    },
    edit: (name) => navigate(`#/integrations/${encodeURIComponent(name)}`),
    setEnabled: async (name, enabled) => {
      await act(() => api("POST", `/api/v1/integrations/${seg(name)}/${enabled ? "enable" : "disable"}`), `${enabled ? "Enabled" : "Disabled"} '${name}'.`);
    },
    remove: async (name) => {
      const ok = await confirm({
        title: `Delete ${name}?`,
        message: `This removes '${name}', its settings and its stored secrets, and its assets and schedule from Dagster. Data already synced stays where it is.`,
        confirmLabel: `Delete ${name}`,
        cancelLabel: "Keep it",
      });
      if (!ok) return;
      const done = await act(() => api("DELETE", `/api/v1/integrations/${seg(name)}`), `Deleted '${name}'.`);
      if (done) {
        setSelected((all) => new Set([...all].filter((n) => n !== name)));
        document.getElementById("installed-title")?.focus();
      }
    },
    runs: (name) => setRunsOf(name),
  }), [act, confirm, navigate, toast]);

  const bulk = useCallback(async (action: BulkAction) => {
    const names = [...selected];
    if (!names.length) return;
    const verbs: Record<BulkAction, string> = { enable: "Enabled", disable: "Disabled", sync: "Started a sync of" };
    const result = await act(() => api<BulkResult>("POST", "/api/v1/integrations/bulk", { body: { action, names } }));
    if (!result) return;
    if (action === "sync") launchedAt.current = Date.now();
    const ok = result.data.results.filter((r) => r.ok).map((r) => r.name);
    const failed = result.data.results.filter((r) => !r.ok);
    const parts: string[] = [];
    if (ok.length) parts.push(`${verbs[action]} ${ok.join(", ")}.`);
    if (failed.length) parts.push(`Failed: ${failed.map((r) => `${r.name} (${r.error})`).join("; ")}.`);
    toast(parts.join(" "), { kind: failed.length ? "error" : "success", timeoutMs: failed.length ? 15000 : 8000 });
  }, [act, selected, toast]);

  const dismiss = useCallback(async (note: Notification) => {
    try {
      await api("POST", `/api/v1/notifications/${seg(note.id)}/acknowledge`);
      toast(`Dismissed: ${note.title}`, { kind: "info" });
    } catch (error) {
      toast(describeError(error), { kind: "error" });
    }
    await refreshAll().catch(() => undefined);
    document.getElementById("main")?.focus();
  }, [refreshAll, toast]);

  const scrollTo = (id: string) => {
    const heading = document.getElementById(`${id}-title`);
    heading?.scrollIntoView({ block: "start" });
    heading?.focus();
  };

  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <h1 className="brand">Integrations</h1>
        <nav aria-label="Sections">
          <ul className="nav-links">
            <li><a href="#installed-title" onClick={(event) => { event.preventDefault(); scrollTo("installed"); }}>Installed</a></li>
            <li><a href="#marketplace-title" onClick={(event) => { event.preventDefault(); scrollTo("marketplace"); }}>Marketplace</a></li>
          </ul>
        </nav>
        <div className="topbar-actions">
          <button type="button" id="add-integration" className="primary" onClick={() => navigate("#/add")}>Add integration</button>
          {hasToken ? (
            <button type="button" id="forget-token" onClick={() => { forgetToken(); window.location.reload(); }}>Forget token</button>
          ) : null}
        </div>
      </header>
      <NotificationBar items={notes} fieldLabels={fieldLabels} known={(name) => byName.has(name)}
        openSettings={(name, field) => navigate(`#/integrations/${encodeURIComponent(name)}${field ? `?field=${encodeURIComponent(field)}` : ""}`)}
        dismiss={(note) => void dismiss(note)} />
      <main id="main" tabIndex={-1}>
        <InstalledList items={items} connectors={connectorMap} selected={selected} onSelect={setSelected}
          onBulk={(action) => void bulk(action)} actions={actions} />
        {connectors ? <Marketplace all={connectors} onAdd={(id) => navigate(`#/add/${encodeURIComponent(id)}`)} /> : null}
      </main>
      {wizard ? (
        <Wizard key={wizard.id} opening={wizard.opening} connectors={connectors || []}
          onDirty={(dirty) => { wizardDirty.current = dirty; }}
          onClosed={() => {
            returnFocusTo.current = wizard.opener;
            setWizard(null);
            wizardDirty.current = false;
            if (window.location.hash.startsWith("#/integrations/") || window.location.hash.startsWith("#/add")) {
              window.history.replaceState(null, "", "#/");
            }
          }}
          onSaved={() => void refreshAll().catch(() => undefined)} />
      ) : null}
      {runsOf ? <RunsDialog name={runsOf} onClose={() => setRunsOf(null)} /> : null}
      {prompt ? (
        <TokenDialog key={prompt.id} reason={prompt.reason} onAccepted={(token) => {
          rememberToken(token);
          setHasToken(true);
          setPrompt(null);
          prompt.resolve(token);
        }} />
      ) : null}
    </>
  );
}
