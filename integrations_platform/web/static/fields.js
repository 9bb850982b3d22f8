// One field of the settings form, generated from a JSON Schema property, with the
// client-side checks the schema asks for (required, type, enum, pattern, format,
// minimum/maximum) as the user types. Secrets are never pre-filled.

import { el } from "./ui.js";

export function fieldId(key) {
  return `field-${key.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

function isValidDate(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

/** The message for `raw` (a string) against one JSON Schema property, or null. */
export function checkText(schema, raw) {
  const text = raw.trim();
  if (schema.type === "integer") {
    if (!/^-?\d+$/.test(text)) return "Enter a whole number.";
  } else if (schema.type === "number") {
    if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || !Number.isFinite(Number(text))) {
      return "Enter a number.";
    }
  }
  if (schema.type === "integer" || schema.type === "number") {
    const value = Number(text);
    if (schema.minimum !== undefined && value < schema.minimum) return `Must be at least ${schema.minimum}.`;
    if (schema.maximum !== undefined && value > schema.maximum) return `Must be at most ${schema.maximum}.`;
    return null;
  }
  if (schema.enum && !schema.enum.includes(raw)) return `Choose one of ${schema.enum.join(", ")}.`;
  if (schema.minLength !== undefined && raw.length < schema.minLength) {
    return `Enter at least ${schema.minLength} characters.`;
  }
  if (schema.maxLength !== undefined && raw.length > schema.maxLength) {
    return `Enter at most ${schema.maxLength} characters.`;
  }
  if (schema.pattern && !new RegExp(schema.pattern, "u").test(raw)) {
    return schema["x-pattern-message"] || "This does not have the expected format.";
  }
  switch (schema.format) {
    case "uri": {
      let url = null;
      try {
        url = new URL(text);
      } catch {
        url = null;
      }
      if (!url || !["http:", "https:"].includes(url.protocol) || !url.host) {
        return "Enter a web address such as https://example.my.salesforce.com.";
      }
      return null;
    }
    case "date":
      return isValidDate(text) ? null : "Enter a date as YYYY-MM-DD, e.g. 2024-01-01.";
    case "date-time":
      return /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
        && !Number.isNaN(Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text))
        ? null
        : "Enter a date and time such as 2024-01-01T00:00:00Z.";
    case "email":
      return /^[^\s@]+@[^\s@]+$/.test(text) ? null : "Enter an email address.";
    default:
      return null;
  }
}

/** One input of the form, with its label, help, and error message. */
export class Field {
  constructor({ key, schema, required, secretSet = false, initial, group, disabled = false }) {
    this.key = key;
    this.schema = schema;
    this.required = required;
    this.secret = Boolean(schema["x-secret"] || schema.writeOnly);
    this.secretSet = secretSet;
    this.initial = initial;
    this.group = group;
    this.disabled = disabled;
    this.touched = false;
    this.serverError = null;
    this.id = fieldId(key);
    this.onInput = () => {};
    this.element = this.render();
  }

  get label() {
    return this.schema.title || this.key;
  }

  get kind() {
    const { type, format } = this.schema;
    if (type === "boolean") return "checkbox";
    if (this.schema.enum) return "select";
    if (type === "array") return "list";
    if (this.secret) return "password";
    if (type === "integer" || type === "number") return "number";
    if (format === "date") return "date";
    if (format === "uri") return "url";
    return "text";
  }

  render() {
    const helpId = `${this.id}-help`;
    const hintId = `${this.id}-hint`;
    const errorId = `${this.id}-error`;
    const described = [];
    const help = this.schema.description
      ? el("p", { id: helpId, class: "help" }, this.schema.description)
      : null;
    if (help) described.push(helpId);
    let hint = null;
    if (this.secret && this.secretSet) {
      hint = el("p", { id: hintId, class: "hint" }, "Set — leave blank to keep the stored value.");
      described.push(hintId);
    } else if (this.kind === "list") {
      hint = el("p", { id: hintId, class: "hint" }, "One value per line.");
      described.push(hintId);
    }
    described.push(errorId);
    this.error = el("p", { id: errorId, class: "error", hidden: true });
    const common = {
      id: this.id,
      name: this.key,
      "aria-describedby": described.join(" "),
      "aria-required": this.required && !(this.secret && this.secretSet) ? "true" : null,
      disabled: this.disabled,
      "data-key": this.key,
    };
    const marker = this.required && !(this.secret && this.secretSet)
      ? [el("span", { class: "required", "aria-hidden": "true" }, " *")]
      : [];
    if (this.kind === "checkbox") {
      this.input = el("input", { ...common, type: "checkbox" });
      this.input.checked = Boolean(this.initial ?? this.schema.default ?? false);
      return el("div", { class: "field field-checkbox", dataset: { field: this.key } },
        el("div", { class: "checkbox-row" }, this.input, el("label", { for: this.id }, this.label, ...marker)),
        help, hint, this.error);
    }
    if (this.kind === "select") {
      this.input = el("select", common,
        this.required ? null : el("option", { value: "" }, "(default)"),
        this.schema.enum.map((value, index) => el("option", { value },
          (this.schema["x-enum-labels"] || [])[index] || value)));
      this.input.value = this.initial ?? this.schema.default ?? (this.required ? this.schema.enum[0] : "");
    } else if (this.kind === "list") {
      this.input = el("textarea", { ...common, rows: 3, spellcheck: "false" });
      this.input.value = Array.isArray(this.initial) ? this.initial.join("\n") : "";
    } else {
      const attrs = { ...common, type: this.kind, spellcheck: "false" };
      if (this.kind === "password") {
        // Never offered to or filled from a password manager; never pre-filled.
        attrs.autocomplete = "new-password";
      } else {
        attrs.autocomplete = "off";
      }
      if (this.kind === "number") {
        // A text input: a number input hides what was typed when it is not a number,
        // and the check as you type must say so.
        attrs.type = "text";
        attrs.inputmode = this.schema.type === "integer" ? "numeric" : "decimal";
      }
      if (this.schema.placeholder) attrs.placeholder = this.schema.placeholder;
      this.input = el("input", attrs);
      if (!this.secret) {
        const start = this.initial ?? this.schema.default;
        this.input.value = start === undefined || start === null ? "" : String(start);
      }
    }
    return el("div", { class: "field", dataset: { field: this.key } },
      el("label", { for: this.id }, this.label, ...marker), help, hint, this.input, this.error);
  }

  /** What the user entered: a string, or a boolean for a checkbox. */
  raw() {
    return this.kind === "checkbox" ? this.input.checked : this.input.value;
  }

  /** The typed value, or undefined when left empty. */
  value() {
    const raw = this.raw();
    if (this.kind === "checkbox") return raw;
    if (this.kind === "list") {
      const items = raw.split(/[\n,]/).map((item) => item.trim()).filter(Boolean);
      return items.length ? items : undefined;
    }
    if (raw.trim() === "") return undefined;
    if (this.schema.type === "integer") return Number.parseInt(raw.trim(), 10);
    if (this.schema.type === "number") return Number(raw.trim());
    return this.secret ? raw : raw.trim();
  }

  /** The client-side problem with the current value, or null. */
  check({ submitting = false } = {}) {
    const raw = this.raw();
    if (this.kind === "checkbox") return null;
    if (raw.trim() === "") {
      const keeps = this.secret && this.secretSet;
      return this.required && !keeps && (submitting || this.touched) ? "Required." : null;
    }
    if (this.kind === "list") return null;
    return checkText(this.schema, raw);
  }

  /** Show (or clear, with null) the message at the field. */
  setError(message, { server = false } = {}) {
    if (server) this.serverError = message;
    const shown = message || this.serverError;
    this.error.textContent = shown ? shown : "";
    this.error.hidden = !shown;
    if (shown) {
      this.input.setAttribute("aria-invalid", "true");
    } else {
      this.input.removeAttribute("aria-invalid");
    }
    this.element.classList.toggle("invalid", Boolean(shown));
  }

  validate(options) {
    const problem = this.check(options);
    this.setError(problem);
    return !problem && !this.serverError;
  }

  wire(onChange) {
    const changed = () => {
      this.serverError = null;
      this.validate();
      onChange(this);
    };
    this.input.addEventListener("input", changed);
    this.input.addEventListener("change", changed);
    this.input.addEventListener("blur", () => {
      this.touched = true;
      this.validate();
    });
  }

  focus() {
    const details = this.element.closest("details");
    if (details) details.open = true;
    this.input.focus();
  }

  /** Forget what was typed into a secret input. */
  clearSecret() {
    if (this.secret) this.input.value = "";
  }
}
