// The page: the sign-in dialog, the marketplace, the wizard, the installed list, the
// notification bar and the run view, with polling for status; the destinations view; for
// admins, the users and audit views. What the signed-in role may not do is not shown.
//
// Routes (the fragment, so that the page stays one static file):
//   #/add                         the wizard at step 1
//   #/add/{connector}             the wizard with that connector chosen
//   #/integrations/{name}         the wizard editing that integration
//   #/integrations/{name}?field=F ... opened at setting F (a notification's action)
//   #/destinations                the destinations (everyone; editors change them)
//   #/users, #/audit              the admins' views
//   #sign-in=TOKEN                a one-time sign-in link (removed from the address at once)

import dynamic from "next/dynamic";
import Head from "next/head";
import { useRouter } from "next/router";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { AuditView } from "@/components/AuditView";
import { ConfirmProvider, DISCARD_EDITS, useConfirm } from "@/components/Confirm";
import { DestinationsView } from "@/components/DestinationsView";
import { InstalledList, type BulkAction, type RowActions } from "@/components/InstalledList";
import { Marketplace } from "@/components/Marketplace";
import { NotificationBar } from "@/components/NotificationBar";
import { linkFailure, SignInDialog } from "@/components/SignInDialog";
import { ToastProvider, useToast } from "@/components/Toasts";
import { roleBadge, UsersView } from "@/components/UsersView";
import type { WizardOpening } from "@/components/Wizard";
import {
  api,
  askToSignIn,
  currentIdentity,
  describeError,
  loadIdentity,
  onIdentityChange,
  seg,
  setSignInPrompt,
  signIn,
  signOut,
  takeSignInLink,
  type SignInRequest,
} from "@/lib/api";
import { connectorDetail, connectorSummaries } from "@/lib/catalog";
import { allows, ROLE_LABELS } from "@/lib/roles";
import type { BulkResult, ConnectorSummary, Integration, Me, Notification } from "@/lib/types";

// The wizard (and the form library it carries) and the run view load when first opened.
const Wizard = dynamic(() => import("@/components/Wizard").then((m) => m.Wizard), { ssr: false });
const RunsDialog = dynamic(() => import("@/components/RunsDialog").then((m) => m.RunsDialog), { ssr: false });

const FAST_POLL_MS = 2000;
const SLOW_POLL_MS = 15000;
const FAST_POLL_AFTER_LAUNCH_MS = 120000;
const ACTIVE = new Set(["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]);

interface Prompt {
  id: number;
  request: SignInRequest;
  resolve: () => void;
}

/** The views of the page's main area (the wizard and the run view open over them). */
type View = "home" | "destinations" | "users" | "audit";
const ADMIN_VIEWS: Record<string, View> = { users: "users", audit: "audit" };

/** Sign in with the one-time link the page was opened with, if any; a refused link asks
 * to sign in, saying why. */
async function followSignInLink(): Promise<boolean> {
  const link = takeSignInLink();
  if (!link) return false;
  try {
    await signIn({ link });
  } catch (error) {
    await askToSignIn({ mode: "password", message: linkFailure(error) });
  }
  return true;
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
  const [me, setMe] = useState<Me | null>(null);
  const [view, setView] = useState<View>("home");
  // Next's router replaces the address it loaded once it is ready (an exported page):
  // the page starts after that, so that a sign-in link taken out of it stays out.
  const { isReady } = useRouter();
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
  const scrollAfterView = useRef<string | null>(null);

  const role = me?.role ?? null;
  const canChange = allows(role, "change");
  const isAdmin = allows(role, "administer");
  // An admin's view, for an admin only (a role taken away by a new sign-in shows home);
  // the destinations, for anyone signed in.
  const shownView: View = view === "destinations" ? (role ? view : "home") : isAdmin ? view : "home";

  // A closed wizard gives the focus back to what opened it (once the dialog is gone).
  useEffect(() => {
    const target = returnFocusTo.current;
    if (wizard || !target) return;
    returnFocusTo.current = null;
    if (target.isConnected && target !== document.body) target.focus();
  }, [wizard]);

  // Installed before the start below asks anything (effects run in this order).
  useEffect(() => {
    let counter = 0;
    const stop = onIdentityChange(setMe);
    setSignInPrompt((request) => new Promise<void>((resolve) => {
      counter += 1;
      setPrompt({ id: counter, request, resolve });
    }));
    return stop;
  }, []);

  // A view opened from the header gets the focus on its heading; the home view's
  // sections are scrolled to once it shows again.
  const shownBefore = useRef<View>("home");
  useEffect(() => {
    if (shownBefore.current === shownView) return;
    shownBefore.current = shownView;
    const target = shownView === "home" ? scrollAfterView.current : shownView;
    scrollAfterView.current = null;
    if (!target) return;
    const heading = document.getElementById(`${target}-title`);
    heading?.scrollIntoView({ block: "start" });
    heading?.focus();
  }, [shownView]);

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
    // A sign-in link opened in a tab already showing the page.
    if (await followSignInLink()) {
      await refreshAll().catch(() => undefined);
      return;
    }
    const [path = "", query] = window.location.hash.replace(/^#/, "").split("?");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(query || "");
    const who = currentIdentity();
    if (parts[0] === "destinations") {
      setView("destinations");
      return;
    }
    const adminView = ADMIN_VIEWS[parts[0] || ""];
    if (adminView) {
      if (allows(who?.role, "administer")) setView(adminView);
      else {
        toast(`Only an admin can open the ${adminView} view.`, { kind: "error" });
        window.history.replaceState(null, "", "#/");
        setView("home");
      }
      return;
    }
    setView("home");
    if ((parts[0] === "add" || parts[0] === "integrations") && !allows(who?.role, "change")) {
      toast("A viewer cannot add or change integrations: ask an admin for the editor role.", { kind: "error" });
      window.history.replaceState(null, "", "#/");
      return;
    }
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
  }, [openWizard, refreshAll, toast]);

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
    if (!isReady) return;
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
        await followSignInLink();
        await loadIdentity();
        const [all] = await Promise.all([connectorSummaries(), refreshAll()]);
        setConnectors(all);
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
  }, [isReady, refreshAll, toast]);

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
    if (shownView !== "home") {
      // Back to the integrations first; the heading is scrolled to once they show.
      scrollAfterView.current = id;
      navigate("#/");
      return;
    }
    const heading = document.getElementById(`${id}-title`);
    heading?.scrollIntoView({ block: "start" });
    heading?.focus();
  };

  const leave = async () => {
    await signOut();
    // A fresh page: nothing of this user's stays on it, and it asks who signs in next.
    window.history.replaceState(null, "", window.location.pathname);
    window.location.reload();
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
            {me ? (
              <li><a href="#/destinations" id="nav-destinations" aria-current={shownView === "destinations" ? "page" : undefined}>Destinations</a></li>
            ) : null}
            {isAdmin ? (
              <>
                <li><a href="#/users" id="nav-users" aria-current={shownView === "users" ? "page" : undefined}>Users</a></li>
                <li><a href="#/audit" id="nav-audit" aria-current={shownView === "audit" ? "page" : undefined}>Audit</a></li>
              </>
            ) : null}
          </ul>
        </nav>
        <div className="topbar-actions">
          {canChange ? (
            <button type="button" id="add-integration" className="primary" onClick={() => navigate("#/add")}>Add integration</button>
          ) : null}
          {me ? (
            <p id="signed-in" className="who" data-role={me.role} data-auth={me.auth}>
              <span className="sr-only">Signed in as </span>
              <span id="signed-in-name" className="who-name">{me.name}</span>
              {" "}<span id="signed-in-role" className={`badge ${roleBadge(me.role)}`}>{ROLE_LABELS[me.role]}</span>
              {me.auth === "token" || me.auth === "service" ? <span className="muted small"> (API token)</span> : null}
              {me.auth === "development" ? <span className="muted small"> (development mode: no sign-in)</span> : null}
            </p>
          ) : null}
          {me && me.auth !== "development" ? (
            <button type="button" id="sign-out" onClick={() => void leave()}>Sign out</button>
          ) : null}
        </div>
      </header>
      <NotificationBar items={notes} fieldLabels={fieldLabels} known={(name) => byName.has(name)} canChange={canChange}
        openSettings={(name, field) => navigate(`#/integrations/${encodeURIComponent(name)}${field ? `?field=${encodeURIComponent(field)}` : ""}`)}
        dismiss={(note) => void dismiss(note)} />
      <main id="main" tabIndex={-1}>
        {shownView === "users" && me ? <UsersView me={me} /> : null}
        {shownView === "audit" ? <AuditView /> : null}
        {shownView === "destinations" ? <DestinationsView canChange={canChange} /> : null}
        {shownView === "home" ? (
          <>
            <InstalledList items={items} connectors={connectorMap} selected={selected} onSelect={setSelected}
              onBulk={(action) => void bulk(action)} actions={actions} canChange={canChange} />
            {connectors ? (
              <Marketplace all={connectors} onAdd={canChange ? (id) => navigate(`#/add/${encodeURIComponent(id)}`) : null} />
            ) : null}
          </>
        ) : null}
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
        <SignInDialog key={prompt.id} request={prompt.request} onSignedIn={() => {
          setPrompt(null);
          prompt.resolve();
        }} />
      ) : null}
    </>
  );
}
