// The setup wizard: a modal dialog in four labelled steps (connector, settings, test,
// review and save), also used to edit an integration. Keyboard-only usable: focus moves
// to each step's heading, Tab stays inside, Escape asks before discarding edits.

import { api, ApiError, saveIntegration, seg, testSettings } from "./api.js";
import { SettingsForm } from "./form.js";
import { connectorChoices, enterGoesOn, reviewRows, testError, testOutcome } from "./wizard-views.js";
import { confirmDialog, interceptEscape, toast, trapFocus } from "./ui.js";

function byId(id) {
  return document.getElementById(id);
}

export class Wizard {
  /**
   * @param catalog  {summaries(): Promise<list>, detail(id): Promise<detail>}
   * @param onSaved  called with the saved integration's name
   */
  constructor({ catalog, onSaved }) {
    this.catalog = catalog;
    this.onSaved = onSaved;
    this.dialog = byId("wizard");
    this.title = byId("wizard-title");
    this.subtitle = byId("wizard-subtitle");
    this.stepItems = [...document.querySelectorAll("#wizard-steps li")];
    this.panels = [...this.dialog.querySelectorAll("[data-panel]")];
    this.formHost = byId("wizard-form");
    this.summary = byId("wizard-form-summary");
    this.buttons = {
      next: byId("wizard-next"),
      back: byId("wizard-back"),
      save: byId("wizard-save"),
      cancel: byId("wizard-cancel"),
      close: byId("wizard-close"),
      test: byId("wizard-test"),
    };
    this.reset();
    trapFocus(this.dialog);
    interceptEscape(this.dialog, () => this.requestClose());
    this.buttons.next.addEventListener("click", () => this.next());
    this.buttons.back.addEventListener("click", () => this.back());
    this.buttons.save.addEventListener("click", () => this.save());
    this.buttons.cancel.addEventListener("click", () => this.requestClose());
    this.buttons.close.addEventListener("click", () => this.requestClose());
    this.buttons.test.addEventListener("click", () => this.runTest());
    enterGoesOn(this.formHost, () => this.next());
    byId("wizard-connector-search").addEventListener("input", () => this.renderConnectorChoices());
  }

  reset() {
    this.mode = "create";
    this.step = 1;
    this.connector = null;
    this.integration = null;
    this.etag = null;
    this.form = null;
    this.dirty = false;
    this.lastTest = null;
    this.busy = false;
    this.opener = null;
    this.selectedConnector = null;
    this.connectors = [];
  }

  get isOpen() {
    return this.dialog.open;
  }

  // -- opening ---------------------------------------------------------------------

  /** Add an integration; with `connectorId`, that connector is already chosen. */
  async openCreate(connectorId = null) {
    if (this.isOpen && !(await this.confirmDiscard())) return;
    this.cleanUp();
    this.opener = document.activeElement;
    this.mode = "create";
    this.connectors = await this.catalog.summaries();
    this.selectedConnector = connectorId;
    byId("wizard-connector-search").value = "";
    this.renderConnectorChoices();
    this.showModal();
    if (connectorId) {
      const loaded = await this.loadConnector(connectorId);
      if (loaded) {
        this.goTo(2);
        return;
      }
    }
    this.goTo(1);
  }

  /** Edit integration `name`; with `focusKey` (a setting), the form opens at that field. */
  async openEdit(name, focusKey = null) {
    if (this.isOpen && !(await this.confirmDiscard())) return;
    let integration;
    let etag;
    let connector;
    try {
      ({ data: integration, etag } = await api("GET", `/api/v1/integrations/${seg(name)}`));
      connector = await this.catalog.detail(integration.connector);
    } catch (error) {
      toast(error instanceof ApiError ? `Cannot edit '${name}': ${error.summary}` : String(error), { kind: "error" });
      return false;
    }
    this.cleanUp();
    this.opener = document.activeElement;
    this.mode = "edit";
    this.integration = integration;
    this.etag = etag || `W/"${integration.version}"`;
    this.connector = connector;
    this.selectedConnector = connector.id;
    this.buildForm();
    this.showModal();
    this.goTo(2, { focus: !focusKey });
    if (integration.config_error) {
      // The stored settings cannot be decrypted: saving a complete set repairs it in place.
      this.showSummary(
        `The stored settings cannot be read (${integration.config_error}) ` +
          "Enter every setting and secret again to repair it; its history and bookmarks are kept.",
        false,
      );
    } else if (focusKey) {
      const key = this.form.fieldFor(focusKey) ? focusKey : `config.${focusKey}`;
      const field = this.form.fieldFor(key);
      if (field) {
        field.element.classList.add("attention");
        this.showSummary(`Re-enter ${field.label}: the latest notification points at it.`, false);
        field.focus();
      } else {
        this.focusHeading();
      }
    }
    return true;
  }

  showModal() {
    if (!this.dialog.open) this.dialog.showModal();
    this.updateTitle();
  }

  updateTitle() {
    if (this.mode === "edit") {
      this.title.textContent = `Edit ${this.integration.name}`;
      this.subtitle.textContent = this.integration.config_error
        ? `${this.connector.label} integration. Its stored settings cannot be read: enter them all again.`
        : `${this.connector.label} integration. Secrets are never shown: leave them blank to keep them.`;
    } else {
      this.title.textContent = this.connector ? `Add a ${this.connector.label} integration` : "Add an integration";
      this.subtitle.textContent = "Four steps: connector, settings, test, review.";
    }
  }

  // -- step 1: the connector ------------------------------------------------------

  renderConnectorChoices() {
    const words = byId("wizard-connector-search").value.toLowerCase().split(/\s+/).filter(Boolean);
    byId("wizard-connectors").replaceChildren(...connectorChoices(this.connectors, words, this.selectedConnector, (id) => {
      this.selectedConnector = id;
      byId("wizard-connector-error").hidden = true;
    }));
  }

  async loadConnector(id) {
    try {
      const connector = await this.catalog.detail(id);
      if (!this.connector || this.connector.id !== connector.id || !this.form) {
        this.connector = connector;
        this.buildForm();
      }
      this.updateTitle();
      return true;
    } catch (error) {
      const message = byId("wizard-connector-error");
      message.textContent = error instanceof ApiError ? error.summary : String(error);
      message.hidden = false;
      return false;
    }
  }

  buildForm() {
    if (this.form) this.form.clearSecrets();
    this.form = new SettingsForm({
      connector: this.connector,
      integration: this.integration,
      onChange: () => {
        this.dirty = true;
        // A test result speaks for the settings it tested, not for the edited ones.
        this.lastTest = null;
        byId("test-result").replaceChildren();
        this.summary.hidden = true;
      },
    });
    this.formHost.replaceChildren(this.form.element);
    this.summary.hidden = true;
    this.lastTest = null;
    byId("test-result").replaceChildren();
  }

  // -- navigation -------------------------------------------------------------------

  goTo(step, { focus = true } = {}) {
    this.step = step;
    for (const panel of this.panels) panel.hidden = Number(panel.dataset.panel) !== step;
    for (const item of this.stepItems) {
      const n = Number(item.dataset.step);
      item.classList.toggle("current", n === step);
      item.classList.toggle("done", n < step);
      if (n === step) item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
    }
    const first = this.mode === "edit" ? 2 : 1;
    this.buttons.back.hidden = step <= first;
    this.buttons.next.hidden = step === 4;
    this.buttons.save.hidden = step !== 4;
    this.buttons.next.textContent = step === 3 ? "Next: review" : "Next";
    if (step === 4) this.renderReview();
    if (focus) this.focusHeading();
  }

  focusHeading() {
    const heading = byId(`step-${this.step}-title`);
    if (heading) heading.focus();
  }

  async next() {
    if (this.busy) return;
    if (this.step === 1) {
      if (!this.selectedConnector) {
        const message = byId("wizard-connector-error");
        message.textContent = "Choose a connector.";
        message.hidden = false;
        const first = this.dialog.querySelector("input[name=connector]");
        if (first) first.focus();
        return;
      }
      this.busy = true;
      const loaded = await this.loadConnector(this.selectedConnector).finally(() => {
        this.busy = false;
      });
      if (loaded) this.goTo(2);
    } else if (this.step === 2) {
      const invalid = this.form.validateAll();
      if (invalid) {
        const labels = [...this.form.fields.values()]
          .filter((f) => f.element.classList.contains("invalid"))
          .map((f) => f.label);
        this.showSummary(`Fix the highlighted ${labels.length === 1 ? "field" : "fields"}: ${labels.join(", ")}.`);
        invalid.focus();
        return;
      }
      this.summary.hidden = true;
      this.goTo(3);
    } else if (this.step === 3) {
      this.goTo(4);
    }
  }

  back() {
    if (this.busy) return;
    const first = this.mode === "edit" ? 2 : 1;
    if (this.step > first) this.goTo(this.step - 1);
  }

  showSummary(text, isError = true) {
    this.summary.textContent = text;
    this.summary.classList.toggle("note", !isError);
    this.summary.hidden = false;
  }

  // -- step 3: test -----------------------------------------------------------------

  async runTest() {
    if (this.busy) return;
    this.busy = true;
    const status = byId("test-status");
    const progress = byId("test-progress");
    const result = byId("test-result");
    result.replaceChildren();
    progress.hidden = false;
    status.setAttribute("aria-busy", "true");
    // aria-disabled, not disabled: a disabled button would lose the keyboard focus.
    this.buttons.test.setAttribute("aria-disabled", "true");
    try {
      const outcome = await testSettings(this.mode === "edit"
        ? { name: this.integration.name, config: this.form.config() }
        : { connectorId: this.connector.id, config: this.form.config() });
      this.lastTest = { ok: outcome.ok, reason: outcome.reason };
      result.replaceChildren(testOutcome(outcome, () => this.backToField(null)));
    } catch (error) {
      this.lastTest = null;
      if (error instanceof ApiError && error.status === 422) {
        const [shown, unmatched] = this.form.showServerErrors(error.fieldErrors);
        result.replaceChildren(testError(error, shown, unmatched, () => this.backToField(shown[0])));
      } else {
        result.replaceChildren(testError(error, null, null, null));
      }
    } finally {
      progress.hidden = true;
      status.removeAttribute("aria-busy");
      this.buttons.test.removeAttribute("aria-disabled");
      this.busy = false;
    }
  }

  backToField(field) {
    this.goTo(2, { focus: !field });
    if (field) field.focus();
  }

  // -- step 4: review and save ------------------------------------------------------

  renderReview() {
    const test = this.lastTest;
    byId("wizard-review").replaceChildren(...reviewRows(this.form.review(), test));
    const error = byId("wizard-save-error");
    if (!test || !test.ok) {
      error.textContent = test
        ? "The connection test failed: you can save anyway and fix the settings later, or go back."
        : "The connection was not tested: you can save anyway, or go back and test it.";
      error.classList.add("note");
      error.hidden = false;
    } else {
      error.hidden = true;
    }
  }

  async save() {
    if (this.busy) return;
    this.busy = true;
    this.buttons.save.setAttribute("aria-disabled", "true");
    const error = byId("wizard-save-error");
    error.hidden = true;
    error.classList.remove("note");
    try {
      const saved = await saveIntegration(this.mode === "edit"
        ? { name: this.integration.name, etag: this.etag, body: this.form.updateBody() }
        : { body: this.form.createBody() });
      const name = saved.integration.name;
      const later = saved.definitions === "pending"
        ? " Dagster could not be reached: its assets appear when it is back."
        : "";
      this.close();
      toast(`Saved '${name}'.${later}`, { kind: "success" });
      this.onSaved(name);
    } catch (failure) {
      this.showSaveError(failure);
    } finally {
      this.busy = false;
      this.buttons.save.removeAttribute("aria-disabled");
    }
  }

  showSaveError(failure) {
    const error = byId("wizard-save-error");
    if (!(failure instanceof ApiError)) {
      error.textContent = String(failure);
      error.hidden = false;
      return;
    }
    const taken = failure.error === "IntegrationExistsError";
    const fieldErrors = taken ? { name: `${failure.detail}: choose another name` } : failure.fieldErrors;
    if (failure.status === 422 || taken) {
      const [shown, unmatched] = this.form.showServerErrors(fieldErrors);
      if (shown.length) {
        const labels = shown.map((f) => f.label).join(", ");
        const extra = unmatched.length ? ` (${unmatched.join("; ")})` : "";
        this.goTo(2, { focus: false });
        this.showSummary(`The server refused ${shown.length === 1 ? "a setting" : "some settings"}: ${labels}.${extra}`);
        shown[0].focus();
        return;
      }
    }
    error.textContent = failure.error === "ConcurrentUpdateError"
      ? `${failure.summary} Close the wizard and edit it again to see the current settings.`
      : failure.summary;
    error.hidden = false;
  }

  // -- closing ----------------------------------------------------------------------

  async confirmDiscard() {
    if (!this.dirty) return true;
    return confirmDialog({
      title: "Discard your changes?",
      message: "The settings you entered in this wizard are not saved.",
      confirmLabel: "Discard changes",
      cancelLabel: "Keep editing",
    });
  }

  async requestClose() {
    if (!this.isOpen) return;
    if (await this.confirmDiscard()) this.close();
  }

  close() {
    const opener = this.opener;
    if (this.dialog.open) this.dialog.close();
    this.cleanUp();
    if (window.location.hash.startsWith("#/integrations/") || window.location.hash.startsWith("#/add")) {
      window.history.replaceState(null, "", "#/");
    }
    if (opener && opener.isConnected && opener !== document.body) opener.focus();
  }

  /** Forget everything typed, secrets first; the next opening starts fresh. */
  cleanUp() {
    if (this.form) this.form.clearSecrets();
    this.formHost.replaceChildren();
    byId("wizard-review").replaceChildren();
    byId("test-result").replaceChildren();
    byId("wizard-connectors").replaceChildren();
    byId("wizard-save-error").hidden = true;
    byId("wizard-connector-error").hidden = true;
    this.summary.hidden = true;
    this.reset();
  }
}
