// Small DOM helpers shared by the page's modules. Text always goes in through
// textContent (never innerHTML): nothing the API returns is ever parsed as HTML.

/**
 * Create an element: el("button", {type: "button", class: "primary"}, "Save").
 * Attributes whose value is null, undefined or false are left out; `on*` functions
 * become event listeners; children may be strings, nodes, or arrays of them.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Text only a screen reader reads (e.g. the integration a row's button acts on). */
export function hiddenText(text) {
  return el("span", { class: "visually-hidden" }, text);
}

/** `fn`, called at most once per `ms` of quiet. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  "summary",
  "[tabindex]:not([tabindex='-1'])",
].join(",");

/** The elements of `root` that Tab reaches, in order (visible ones only). */
export function focusableIn(root) {
  // Hidden panels and closed <details> render no boxes: only what is shown is reachable.
  return [...root.querySelectorAll(FOCUSABLE)].filter((node) => node.getClientRects().length > 0);
}

/**
 * Keep Tab and Shift+Tab inside `dialog` (a modal <dialog> already makes the page
 * behind it inert; this also stops focus from leaving for the browser's own UI).
 */
export function trapFocus(dialog) {
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const items = focusableIn(dialog);
    if (items.length === 0) {
      event.preventDefault();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    const inside = dialog.contains(active);
    if (event.shiftKey && (active === first || !inside || active === dialog)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !inside)) {
      event.preventDefault();
      first.focus();
    }
  });
}

/**
 * Handle Escape on a modal <dialog> ourselves: `onEscape` decides (e.g. ask first when
 * there are unsaved edits). Cancelling the keydown stops the browser's own close.
 */
export function interceptEscape(dialog, onEscape) {
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    event.stopPropagation();
    onEscape();
  });
  // A close request that still gets through (e.g. a platform back gesture).
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    onEscape();
  });
}

let confirmPending = null;

/**
 * Ask a yes/no question in an accessible modal; resolves true when confirmed.
 * Focus goes to the safe choice (cancel) and back to where it was afterwards.
 */
export function confirmDialog({ title, message, confirmLabel = "OK", cancelLabel = "Cancel", danger = true }) {
  const dialog = document.getElementById("confirm-dialog");
  const ok = document.getElementById("confirm-ok");
  const cancel = document.getElementById("confirm-cancel");
  if (confirmPending) confirmPending(false);
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-message").textContent = message;
  ok.textContent = confirmLabel;
  ok.className = danger ? "danger" : "primary";
  cancel.textContent = cancelLabel;
  const previous = document.activeElement;
  return new Promise((resolve) => {
    const finish = (answer) => {
      confirmPending = null;
      ok.onclick = null;
      cancel.onclick = null;
      if (dialog.open) dialog.close();
      if (previous && previous.isConnected) previous.focus();
      resolve(answer);
    };
    confirmPending = finish;
    ok.onclick = () => finish(true);
    cancel.onclick = () => finish(false);
    dialog.showModal();
    cancel.focus();
  });
}

/** Wire the confirmation dialog once: Escape means "cancel". */
export function setUpConfirmDialog() {
  const dialog = document.getElementById("confirm-dialog");
  trapFocus(dialog);
  interceptEscape(dialog, () => {
    if (confirmPending) confirmPending(false);
  });
}

/**
 * A short message in the live region; `actions` are buttons or links shown with it.
 * Messages with actions stay until closed; the others fade after a while.
 */
export function toast(message, { kind = "info", actions = [], timeoutMs = 8000 } = {}) {
  const region = document.getElementById("toasts");
  const close = el("button", { type: "button", class: "icon-button", "aria-label": "Dismiss message" },
    el("span", { "aria-hidden": "true" }, "×"));
  const item = el("div", { class: `toast toast-${kind}` },
    el("div", { class: "toast-body" },
      el("p", {}, message), actions.length ? el("div", { class: "toast-actions" }, actions) : null),
    close);
  close.addEventListener("click", () => item.remove());
  region.append(item);
  if (!actions.length && timeoutMs > 0) setTimeout(() => item.remove(), timeoutMs);
  return item;
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const ABSOLUTE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** "in 5 minutes" / "2 hours ago". */
export function relativeTime(date, now = new Date()) {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return RELATIVE.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

/** A <time> element: relative text, the absolute date as its title and datetime. */
export function timeElement(iso) {
  if (!iso) return el("span", { class: "muted" }, "—");
  const date = new Date(iso);
  return el("time", { datetime: date.toISOString(), title: ABSOLUTE.format(date) },
    `${relativeTime(date)}`, el("span", { class: "visually-hidden" }, ` (${ABSOLUTE.format(date)})`));
}

/** "1 integration" / "3 integrations". */
export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}
