// The page's entry point: the token prompt, the catalog cache, routing between the
// marketplace, the wizard and the installed list, and polling for status.
//
// Routes (the fragment, so that the page itself stays one static file):
//   #/add                         the wizard at step 1
//   #/add/{connector}             the wizard with that connector chosen
//   #/integrations/{name}         the wizard editing that integration
//   #/integrations/{name}?field=F ... opened at setting F (a notification's action)

import { api, checkToken, forgetToken, rememberToken, seg, setTokenPrompt, storedToken } from "./api.js";
import { InstalledList } from "./installed.js";
import { Marketplace } from "./marketplace.js";
import { NotificationBar } from "./notifications.js";
import { interceptEscape, setUpConfirmDialog, toast, trapFocus } from "./ui.js";
import { Wizard } from "./wizard.js";

const FAST_POLL_MS = 2000;
const SLOW_POLL_MS = 15000;

function byId(id) {
  return document.getElementById(id);
}

/** Connector summaries (once) and details (once per connector). */
const catalog = {
  summariesPromise: null,
  details: new Map(),
  summaries() {
    if (!this.summariesPromise) {
      this.summariesPromise = api("GET", "/api/v1/connectors").then((r) => r.data).catch((error) => {
        this.summariesPromise = null;
        throw error;
      });
    }
    return this.summariesPromise;
  },
  detail(id) {
    if (!this.details.has(id)) {
      const loading = api("GET", `/api/v1/connectors/${seg(id)}`).then((r) => r.data).catch((error) => {
        this.details.delete(id);
        throw error;
      });
      this.details.set(id, loading);
    }
    return this.details.get(id);
  },
};

/** Ask for the API token in a modal; resolves once the API accepts it. */
function promptForToken(reason) {
  const dialog = byId("token-dialog");
  const form = byId("token-form");
  const input = byId("token-input");
  const error = byId("token-error");
  const submit = byId("token-submit");
  const showError = (text) => {
    error.textContent = text || "";
    error.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  showError(reason);
  return new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      const candidate = input.value.trim();
      if (!candidate) {
        showError("Enter the token.");
        input.focus();
        return;
      }
      submit.disabled = true;
      let accepted = false;
      try {
        accepted = await checkToken(candidate);
      } catch {
        showError("The API cannot be reached: check that the platform is running.");
        submit.disabled = false;
        return;
      }
      submit.disabled = false;
      if (!accepted) {
        showError("The API does not accept this token.");
        input.select();
        return;
      }
      rememberToken(candidate);
      input.value = "";
      showError(null);
      form.onsubmit = null;
      dialog.close();
      byId("forget-token").hidden = false;
      resolve(candidate);
    };
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}

function setUpTokenDialog() {
  const dialog = byId("token-dialog");
  trapFocus(dialog);
  // Nothing works without a token: Escape keeps the prompt open and says so.
  interceptEscape(dialog, () => {
    const error = byId("token-error");
    error.textContent = "The page needs the API token to show anything.";
    error.hidden = false;
  });
  byId("forget-token").addEventListener("click", () => {
    forgetToken();
    window.location.reload();
  });
  byId("forget-token").hidden = !storedToken();
}

async function main() {
  setTokenPrompt(promptForToken);
  setUpTokenDialog();
  setUpConfirmDialog();

  const installed = new InstalledList({
    catalog,
    onEdit: (name) => navigate(`#/integrations/${encodeURIComponent(name)}`),
  });
  const notifications = new NotificationBar({
    catalog,
    integrations: () => installed.byName(),
    openSettings: (name, field) => navigate(
      `#/integrations/${encodeURIComponent(name)}${field ? `?field=${encodeURIComponent(field)}` : ""}`,
    ),
  });
  const refreshAll = async () => {
    await installed.refresh();
    await notifications.refresh();
  };
  const wizard = new Wizard({
    catalog,
    onSaved: () => refreshAll().catch(() => {}),
  });
  const marketplace = new Marketplace({
    catalog,
    onAdd: (connectorId) => navigate(`#/add/${encodeURIComponent(connectorId)}`),
  });

  function navigate(hash) {
    if (window.location.hash === hash) route();
    else window.location.hash = hash;
  }

  async function route() {
    const [path, query] = window.location.hash.replace(/^#/, "").split("?");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(query || "");
    try {
      if (parts[0] === "add") {
        await wizard.openCreate(parts[1] || null);
      } else if (parts[0] === "integrations" && parts[1]) {
        const opened = await wizard.openEdit(parts[1], params.get("field"));
        if (!opened) window.history.replaceState(null, "", "#/");
      }
    } catch (error) {
      toast(`The wizard cannot open: ${error.summary || String(error)}`, { kind: "error" });
      window.history.replaceState(null, "", "#/");
    }
  }

  byId("add-integration").addEventListener("click", () => navigate("#/add"));
  for (const link of document.querySelectorAll("[data-scroll]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const heading = byId(`${link.dataset.scroll}-title`);
      heading.setAttribute("tabindex", "-1");
      heading.scrollIntoView({ block: "start" });
      heading.focus();
    });
  }
  window.addEventListener("hashchange", () => route());

  await Promise.all([marketplace.init(), refreshAll()]).catch((error) => {
    toast(error.summary || String(error), { kind: "error", timeoutMs: 0 });
  });
  await route();

  const poll = async () => {
    if (!document.hidden) await refreshAll().catch(() => {});
    setTimeout(poll, installed.active ? FAST_POLL_MS : SLOW_POLL_MS);
  };
  setTimeout(poll, installed.active ? FAST_POLL_MS : SLOW_POLL_MS);
  document.body.dataset.ready = "true";
}

main();
