// The wizard's settings form, generated from the connector's JSON Schema by
// react-jsonschema-form, with the page's own templates and widgets: labels, help, the
// message at each field, secrets write-only ("set — leave blank to keep"), advanced
// options collapsed, and the streams field. Object settings are groups of fields, lists
// of objects have add and remove buttons, free-form objects are JSON text, and file
// settings take an uploaded file's text. The same form, without the wizard's own fields,
// is the destination form (a destination's name and its connector's settings).

import Form from "@rjsf/core";
import type {
  ArrayFieldItemTemplateProps,
  ArrayFieldTemplateProps,
  FieldProps,
  FieldTemplateProps,
  ObjectFieldTemplateProps,
  RegistryFieldsType,
  RegistryWidgetsType,
  RJSFSchema,
  UiSchema,
  WidgetProps,
} from "@rjsf/utils";
import { validator } from "@/lib/validator";
import { createContext, useContext, useMemo, useRef, useState, type ChangeEvent, type KeyboardEvent, type ReactNode } from "react";
import { createPortal } from "react-dom";

import {
  fieldId,
  FREQUENCIES,
  ID_PREFIX,
  INTEGRATION_KEYS,
  isFreeFormObject,
  isObjectList,
  isPlainObject,
  isSecret,
  isTextList,
  MAX_TEXT_BYTES,
  valuesToCheck,
  type FormValues,
  type StoredSettings,
  type WizardSchema,
} from "@/lib/settings";
import type { ConnectorDetail, DiscoveredStream, SettingSchema, StreamSelection } from "@/lib/types";

import { StreamsField } from "./StreamsField";

/** What the templates and widgets need beyond rjsf's own props. */
export interface FormView {
  connector: ConnectorDetail;
  /** What is stored (editing): an integration, or a destination; null when creating. */
  integration: (StoredSettings & { streams?: StreamSelection[] }) | null;
  /** The message shown at a field, by key ("config.client_id"), or nothing. */
  messages: Record<string, string>;
  /** The field a notification points at (highlighted). */
  attention: string | null;
  advancedOpen: boolean;
  setAdvancedOpen: (open: boolean) => void;
  cronOpen: boolean;
  setCronOpen: (open: boolean) => void;
  onBlurKey: (key: string) => void;
  /** Where the streams step's fields go (its panel), once it exists. */
  streamsSlot: HTMLElement | null;
  /** The source's discovered streams, when discovered (the streams field lists them). */
  discovered: DiscoveredStream[] | null;
  /** The schedule, set from the frequency choice. */
  setSchedule: (cron: string) => void;
  /** The stream a schema-change notification points at (the streams step opens there). */
  focusStream?: string | null;
  /** Opens the destination form from the destination field ("Configure a new destination…"). */
  onNewDestination?: (() => void) | null;
  /** The form's element id ("wizard-form"), the prefix of its fields' ids ("field") and
   * the legend of the name's group ("Integration"): another form on the page at the same
   * time (the destination form) has its own. */
  formId?: string;
  idPrefix?: string;
  nameLegend?: string;
}

const ViewContext = createContext<FormView | null>(null);

function useView(): FormView {
  const view = useContext(ViewContext);
  if (!view) throw new Error("The settings form's templates are used outside the form");
  return view;
}

/** The key of a field from its id: "field-config-client_id" → "config.client_id". */
export function keyOf(connector: ConnectorDetail, id: string, prefix: string = ID_PREFIX): string | null {
  const keys = ["name", ...INTEGRATION_KEYS, ...Object.keys(connector.form_schema.properties).map((k) => `config.${k}`)];
  return keys.find((key) => fieldId(key, prefix) === id) ?? null;
}

function keyOfPath(path: (string | number)[]): string {
  return path.map(String).join(".");
}

function describedBy(id: string, help: boolean, hint: boolean): string {
  return [help ? `${id}-help` : null, hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
}

const SET_HINT = "Set — leave blank to keep the stored value.";

function secretIsSet(view: FormView, key: string): boolean {
  return key.startsWith("config.") && view.integration?.secrets?.[key.slice(7)] === "set";
}

// -- templates -----------------------------------------------------------------------

function FieldTemplate(props: FieldTemplateProps) {
  const view = useView();
  const { id, label, required, schema, children, hidden, fieldPathId } = props;
  if (hidden) return null;
  const key = keyOfPath(fieldPathId.path);
  const setting = schema as SettingSchema;
  // Groups (the form, the connector's settings, an object's fields, a list of objects)
  // draw their own legend, help and message.
  if (fieldPathId.path.length <= 1 && setting.type === "object") return children;
  if (key === "streams" || (setting.type === "object" && !isFreeFormObject(setting)) || isObjectList(setting)) return children;
  const message = view.messages[key];
  const secretSet = isSecret(setting) && secretIsSet(view, key);
  const hint = secretSet ? SET_HINT : isTextList(setting) ? "One value per line." : null;
  const marker = required ? <span className="required" aria-hidden="true"> *</span> : null;
  const classes = ["field", message ? "invalid" : "", view.attention === key ? "attention" : "", setting.type === "boolean" ? "field-checkbox" : ""];
  const help = setting.description ? <p id={`${id}-help`} className="help">{setting.description}</p> : null;
  const hintText = hint ? <p id={`${id}-hint`} className="hint">{hint}</p> : null;
  const error = <p id={`${id}-error`} className="error" hidden={!message}>{message}</p>;
  if (setting.type === "boolean") {
    return (
      <div className={classes.filter(Boolean).join(" ")} data-field={key}>
        <div className="checkbox-row">{children}<label htmlFor={id}>{label}{marker}</label></div>
        {help}{hintText}{error}
      </div>
    );
  }
  return (
    <div className={classes.filter(Boolean).join(" ")} data-field={key}>
      <label htmlFor={id}>{label}{marker}</label>
      {help}{hintText}{children}{error}
    </div>
  );
}

function AdvancedSlot({ children }: { children: ReactNode }) {
  const slot = useContext(SlotContext);
  return slot ? createPortal(children, slot) : null;
}

const SlotContext = createContext<HTMLElement | null>(null);

/** The legend, help, hint and message of a group of fields (an object or a list). */
function GroupHead({ id, title, required, setting, key_ }: { id: string; title: string; required?: boolean; setting: SettingSchema; key_: string }) {
  const view = useView();
  const message = view.messages[key_];
  const hint = isSecret(setting) && secretIsSet(view, key_) ? SET_HINT : null;
  return (
    <>
      <legend>{title}{required ? <span className="required" aria-hidden="true"> *</span> : null}</legend>
      {setting.description ? <p id={`${id}-help`} className="help">{setting.description}</p> : null}
      {hint ? <p id={`${id}-hint`} className="hint">{hint}</p> : null}
      <p id={`${id}-error`} className="error" hidden={!message}>{message}</p>
    </>
  );
}

function groupProps(view: FormView, id: string, key: string, setting: SettingSchema) {
  const message = view.messages[key];
  const hint = isSecret(setting) && secretIsSet(view, key);
  return {
    id,
    "data-field": key,
    "data-key": key,
    tabIndex: -1,
    "aria-describedby": describedBy(id, Boolean(setting.description), hint),
    "aria-invalid": message ? ("true" as const) : undefined,
    className: ["field-group", message ? "invalid" : "", view.attention === key ? "attention" : ""].filter(Boolean).join(" "),
  };
}

/** An object setting (or one item of a list of objects): its fields in a group. */
function NestedObject(props: ObjectFieldTemplateProps) {
  const view = useView();
  const path = props.fieldPathId.path;
  const key = keyOfPath(path);
  const setting = props.schema as SettingSchema;
  const list = useContext(ListTitleContext);
  const last = path[path.length - 1];
  const item = typeof last === "number";
  const title = item ? `Item ${last + 1}` : props.title;
  return (
    <fieldset {...groupProps(view, props.fieldPathId.$id, key, setting)} aria-label={item ? `${list} item ${last + 1}` : undefined}>
      <GroupHead id={props.fieldPathId.$id} title={title} required={props.required} setting={setting} key_={key} />
      {props.properties.filter((p) => !p.hidden).map((p) => <div key={p.name}>{p.content}</div>)}
    </fieldset>
  );
}

const ListTitleContext = createContext("");

/** A list of objects: its items, each removable, and a button that adds one. */
function ArrayFieldTemplate(props: ArrayFieldTemplateProps) {
  const view = useView();
  const key = keyOfPath(props.fieldPathId.path);
  const setting = props.schema as SettingSchema;
  const title = props.title || setting.title || key;
  return (
    <fieldset {...groupProps(view, props.fieldPathId.$id, key, setting)}>
      <GroupHead id={props.fieldPathId.$id} title={title} required={props.required} setting={setting} key_={key} />
      <ListTitleContext.Provider value={title}>
        {props.items.length ? <ol className="list-items">{props.items}</ol> : <p className="muted">No items yet.</p>}
      </ListTitleContext.Provider>
      {props.canAdd ? (
        <button type="button" className="add-item" aria-label={`Add an item to ${title}`}
          disabled={props.disabled || props.readonly} onClick={props.onAddClick}>
          Add an item
        </button>
      ) : null}
    </fieldset>
  );
}

function ArrayFieldItemTemplate(props: ArrayFieldItemTemplateProps) {
  const title = useContext(ListTitleContext);
  const { buttonsProps } = props;
  return (
    <li className="list-item">
      {props.children}
      {buttonsProps.hasRemove ? (
        <button type="button" className="remove-item" aria-label={`Remove item ${props.index + 1} of ${title}`}
          disabled={buttonsProps.disabled || buttonsProps.readonly} onClick={buttonsProps.onRemoveItem}>
          Remove
        </button>
      ) : null}
    </li>
  );
}

function ObjectFieldTemplate(props: ObjectFieldTemplateProps) {
  const view = useView();
  const byName = new Map(props.properties.map((p) => [p.name, p.content]));
  if (props.fieldPathId.path.length > 1) return <NestedObject {...props} />;
  if (props.fieldPathId.path.length > 0) {
    // The connector's settings: the required ones first, advanced ones in the advanced section.
    const schema = view.connector.form_schema;
    const required = new Set(schema.required || []);
    const names = props.properties.map((p) => p.name);
    const advanced = names.filter((n) => schema.properties[n]?.["x-advanced"]);
    const main = names.filter((n) => !schema.properties[n]?.["x-advanced"]);
    const ordered = [...main.filter((n) => required.has(n)), ...main.filter((n) => !required.has(n))];
    return (
      <>
        <fieldset className="group">
          <legend>{props.title}</legend>
          {ordered.map((n) => <div key={n}>{byName.get(n)}</div>)}
        </fieldset>
        <AdvancedSlot>{advanced.map((n) => <div key={n}>{byName.get(n)}</div>)}</AdvancedSlot>
      </>
    );
  }
  return <RootSections byName={byName} />;
}

function RootSections({ byName }: { byName: Map<string, ReactNode> }) {
  const view = useView();
  const [slot, setSlot] = useState<HTMLElement | null>(null);
  return (
    <SlotContext.Provider value={slot}>
      <div className="form-sections">
        <fieldset className="group"><legend>{view.nameLegend ?? "Integration"}</legend>{byName.get("name")}</fieldset>
        {byName.get("config")}
        <details className="advanced" open={view.advancedOpen}
          onToggle={(event) => view.setAdvancedOpen((event.currentTarget as HTMLDetailsElement).open)}>
          <summary>Advanced options</summary>
          <div ref={setSlot} />
        </details>
      </div>
      {view.streamsSlot ? createPortal(<StreamStepSections byName={byName} />, view.streamsSlot) : null}
    </SlotContext.Provider>
  );
}

/** The streams step's part of the form: what to sync, when and where. */
function StreamStepSections({ byName }: { byName: Map<string, ReactNode> }) {
  const view = useView();
  return (
    <div className="form-sections">
      <fieldset className="group"><legend>What to sync</legend>{byName.get("streams")}{byName.get("start_date")}</fieldset>
      <fieldset className="group">
        <legend>When and where</legend>
        <FrequencyChoice />
        {byName.get("destination")}
        {view.onNewDestination ? (
          <p className="field-action">
            <button type="button" id="wizard-new-destination" onClick={view.onNewDestination}>Configure a new destination…</button>
          </p>
        ) : null}
      </fieldset>
      <fieldset className="group"><legend>Schema changes</legend>{byName.get("schema_policy")}</fieldset>
      <details className="advanced" open={view.cronOpen}
        onToggle={(event) => view.setCronOpen((event.currentTarget as HTMLDetailsElement).open)}>
        <summary>Custom schedule (cron)</summary>
        {byName.get("schedule")}
      </details>
      <details className="advanced">
        <summary>Advanced: how records travel</summary>
        {byName.get("message_format")}
      </details>
    </div>
  );
}

/** The schedule as a frequency in words; "Custom" opens the cron expression. */
function FrequencyChoice() {
  const view = useView();
  const form = useContext(ValuesContext);
  const cron = (form?.schedule || "").trim();
  const known = FREQUENCIES.some(([value]) => value === cron);
  return (
    <div className="field">
      <label htmlFor="field-frequency">Frequency</label>
      <p id="field-frequency-help" className="help">How often Dagster syncs it (UTC). Any cron expression under Custom schedule.</p>
      <select id="field-frequency" aria-describedby="field-frequency-help" value={known ? cron : "custom"}
        onChange={(event) => {
          if (event.target.value === "custom") {
            view.setCronOpen(true);
            setTimeout(() => document.getElementById(fieldId("schedule"))?.focus(), 0);
          } else view.setSchedule(event.target.value);
        }}>
        {FREQUENCIES.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
        <option value="custom">{known ? "Custom (cron expression)…" : `Custom: ${cron || "none"}`}</option>
      </select>
    </div>
  );
}

const ValuesContext = createContext<FormValues | null>(null);

// -- widgets -------------------------------------------------------------------------

interface FieldAriaProps {
  id: string;
  name: string;
  htmlName?: string;
  schema: unknown;
  required?: boolean;
  disabled?: boolean;
  readonly?: boolean;
}

function useFieldAria(props: FieldAriaProps) {
  const view = useView();
  // The name generator makes every field's HTML name its key ("config.streams.0.path").
  const key = props.htmlName || keyOf(view.connector, props.id, view.idPrefix) || props.name;
  const setting = props.schema as SettingSchema;
  const message = view.messages[key];
  const secretSet = isSecret(setting) && secretIsSet(view, key);
  const hint = secretSet || isTextList(setting);
  return {
    key,
    view,
    attrs: {
      id: props.id,
      name: key,
      "data-key": key,
      "aria-describedby": describedBy(props.id, Boolean(setting.description), hint),
      "aria-required": props.required ? ("true" as const) : undefined,
      "aria-invalid": message ? ("true" as const) : undefined,
      disabled: props.disabled || props.readonly,
      onBlur: () => view.onBlurKey(key),
    },
  };
}

function formatSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A file's text (a private key, a certificate, a CSV): uploaded, or pasted. A stored
 * secret is never shown: the field starts blank and says it is set. */
function TextFileWidget(props: WidgetProps) {
  const { attrs } = useFieldAria(props);
  const input = useRef<HTMLInputElement>(null);
  const [note, setNote] = useState("");
  const [refusal, setRefusal] = useState<string | null>(null);
  const label = (props.schema as SettingSchema).title || props.label || props.name;
  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    // Choosing the same file again reads it again.
    event.target.value = "";
    if (!file) return;
    if (file.size > MAX_TEXT_BYTES) {
      setNote("");
      setRefusal(`${file.name} is too large (${file.size.toLocaleString("en-US")} bytes): the largest file accepted is ${MAX_TEXT_BYTES / 1024} KiB (${MAX_TEXT_BYTES.toLocaleString("en-US")} bytes).`);
      return;
    }
    const text = await file.text();
    setRefusal(null);
    setNote(`Read ${file.name} (${formatSize(file.size)}).`);
    props.onChange(text === "" ? undefined : text);
  };
  return (
    <div className="file-field">
      <textarea {...attrs} rows={4} spellCheck={false} autoComplete="off" value={typeof props.value === "string" ? props.value : ""}
        placeholder="Paste the file's text, or upload the file."
        onChange={(event) => {
          setNote("");
          props.onChange(event.target.value === "" ? undefined : event.target.value);
        }} />
      <div className="file-upload">
        <button type="button" disabled={attrs.disabled} onClick={() => input.current?.click()}>Upload a file</button>
        <input ref={input} type="file" id={`${props.id}-file`} hidden aria-label={`Upload a file for ${label}`}
          disabled={attrs.disabled} onChange={(event) => void onFile(event)} />
        <span className="muted" role="status">{note}</span>
      </div>
      {refusal ? <p id={`${props.id}-file-error`} className="error" role="alert">{refusal}</p> : null}
    </div>
  );
}

/** Text, numbers (as text: what was typed stays visible and is checked), dates, URLs and secrets. */
function InputWidget(props: WidgetProps) {
  const { attrs } = useFieldAria(props);
  const setting = props.schema as SettingSchema;
  const secret = isSecret(setting);
  const numeric = setting.type === "integer" || setting.type === "number";
  const type = secret ? "password" : setting.format === "date" ? "date" : setting.format === "uri" ? "url" : "text";
  const onChange = (event: ChangeEvent<HTMLInputElement>) => {
    const raw = event.target.value;
    if (raw.trim() === "") props.onChange(undefined);
    else if (numeric) {
      const text = raw.trim();
      const number = Number(text);
      props.onChange(/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) && Number.isFinite(number) ? number : raw);
    } else props.onChange(secret ? raw : raw);
  };
  return (
    <input {...attrs} type={type} spellCheck={false}
      autoComplete={secret ? "new-password" : "off"}
      inputMode={numeric ? (setting.type === "integer" ? "numeric" : "decimal") : undefined}
      placeholder={setting.placeholder}
      value={props.value === undefined || props.value === null ? "" : String(props.value)}
      onChange={onChange} />
  );
}

function SelectWidget(props: WidgetProps) {
  const { attrs } = useFieldAria(props);
  const setting = props.schema as SettingSchema;
  const labels = setting["x-enum-labels"] || [];
  return (
    <select {...attrs} value={props.value ?? ""} onChange={(event) => props.onChange(event.target.value === "" ? undefined : event.target.value)}>
      {props.required ? null : <option value="">(default)</option>}
      {(setting.enum || []).map((value, index) => <option key={value} value={value}>{labels[index] || value}</option>)}
    </select>
  );
}

function CheckboxWidget(props: WidgetProps) {
  const { attrs } = useFieldAria(props);
  return <input {...attrs} type="checkbox" checked={Boolean(props.value)} onChange={(event) => props.onChange(event.target.checked)} />;
}

/** A list of strings, one per line. */
function LinesWidget(props: WidgetProps) {
  const { attrs } = useFieldAria(props);
  const [text, setText] = useState<string>(Array.isArray(props.value) ? (props.value as string[]).join("\n") : "");
  return (
    <textarea {...attrs} rows={3} spellCheck={false} value={text}
      onChange={(event) => {
        setText(event.target.value);
        const items = event.target.value.split(/[\n,]/).map((item) => item.trim()).filter(Boolean);
        props.onChange(items.length ? items : undefined);
      }} />
  );
}

/** A free-form object (names to values) as JSON text; text that is not a JSON object
 * stays text, which the schema's check reports at the field. */
function JsonObjectField(props: FieldProps) {
  const { attrs } = useFieldAria({
    id: props.fieldPathId.$id, name: props.name, htmlName: props.fieldPathId.name, schema: props.schema,
    required: props.required, disabled: props.disabled, readonly: props.readonly,
  });
  const [text, setText] = useState<string>(() => {
    const value: unknown = props.formData;
    if (typeof value === "string") return value;
    return isPlainObject(value) && Object.keys(value).length ? JSON.stringify(value, null, 2) : "";
  });
  const onChange = (event: ChangeEvent<HTMLTextAreaElement>) => {
    const next = event.target.value;
    setText(next);
    let value: unknown = next;
    if (next.trim() === "") value = undefined;
    else {
      try {
        const parsed: unknown = JSON.parse(next);
        if (isPlainObject(parsed)) value = parsed;
      } catch {
        // Not JSON (yet): the text stays, and the field says what to enter.
      }
    }
    props.onChange(value, props.fieldPathId.path);
  };
  return <textarea {...attrs} rows={4} spellCheck={false} autoComplete="off" placeholder='{"X-Api-Key": "…"}' value={text} onChange={onChange} />;
}

function StreamsFieldAdapter(props: FieldProps) {
  const view = useView();
  return (
    <StreamsField connector={view.connector} initial={view.integration?.streams ?? null} discovered={view.discovered}
      value={(props.formData as FormValues["streams"]) || []}
      message={view.messages.streams}
      focusStream={view.focusStream ?? null}
      onChange={(streams) => props.onChange(streams, props.fieldPathId.path)}
      onBlur={() => view.onBlurKey("streams")} />
  );
}

const WIDGETS: RegistryWidgetsType = {
  TextWidget: InputWidget,
  PasswordWidget: InputWidget,
  DateWidget: InputWidget,
  URLWidget: InputWidget,
  EmailWidget: InputWidget,
  UpDownWidget: InputWidget,
  SelectWidget,
  CheckboxWidget,
  lines: LinesWidget,
  textFile: TextFileWidget,
};
const FIELDS: RegistryFieldsType = { streams: StreamsFieldAdapter, json: JsonObjectField };
const TEMPLATES = { FieldTemplate, ObjectFieldTemplate, ArrayFieldTemplate, ArrayFieldItemTemplate };

/** A field's HTML name is its key: "config.streams.0.path". */
function nameOf(path: (string | number)[]): string {
  return keyOfPath(path);
}

/** How one setting is shown: text lists one value per line, numbers as text (what was
 * typed stays visible), files with an upload, free-form objects as JSON, and the fields
 * of objects and of a list's items likewise. */
export function settingUiSchema(prop: SettingSchema): UiSchema {
  if (isFreeFormObject(prop)) return { "ui:field": "json" };
  if (prop.type === "object") {
    return Object.fromEntries(Object.entries(prop.properties || {}).map(([name, sub]) => [name, settingUiSchema(sub)]));
  }
  if (isObjectList(prop)) return { "ui:options": { orderable: false, copyable: false }, items: settingUiSchema(prop.items as SettingSchema) };
  if (prop.type === "array") return { "ui:widget": "lines" };
  if (prop["x-file"]) return { "ui:widget": "textFile" };
  if (prop.type === "integer" || prop.type === "number") return { "ui:widget": "TextWidget" };
  return {};
}

/** The uiSchema: lists as text areas, the name fixed when editing, the streams field. */
export function wizardUiSchema(connector: ConnectorDetail, editing: boolean): UiSchema {
  const config: UiSchema = {};
  for (const [name, prop] of Object.entries(connector.form_schema.properties)) {
    const ui = settingUiSchema(prop);
    if (Object.keys(ui).length) config[name] = ui;
  }
  return {
    "ui:submitButtonOptions": { norender: true },
    name: editing ? { "ui:disabled": true } : {},
    config,
    streams: { "ui:field": "streams" },
  };
}

// An object that is not required starts empty (not filled with its fields' defaults), so
// that leaving it alone means "not given" — or, for a secret, "keep the stored one".
const DEFAULTS = { emptyObjectFields: "populateRequiredDefaults" } as const;

interface Props extends FormView {
  schema: WizardSchema;
  values: FormValues;
  onChange: (values: FormValues) => void;
  onEnter: () => void;
}

export function SettingsForm({ schema, values, onChange, onEnter, ...view }: Props) {
  const uiSchema = useMemo(() => wizardUiSchema(view.connector, view.integration !== null), [view.connector, view.integration]);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLInputElement;
    if (event.key !== "Enter" || event.nativeEvent.isComposing || target.tagName !== "INPUT") return;
    if (["checkbox", "radio", "button", "submit"].includes(target.type)) return;
    event.preventDefault();
    onEnter();
  };
  return (
    <ViewContext.Provider value={view}>
      <ValuesContext.Provider value={values}>
      <div onKeyDown={onKeyDown}>
      <Form id={view.formId ?? "wizard-form"} schema={schema as unknown as RJSFSchema} uiSchema={uiSchema} formData={values}
        validator={validator} widgets={WIDGETS} fields={FIELDS} templates={TEMPLATES}
        idPrefix={view.idPrefix ?? ID_PREFIX} idSeparator="-" nameGenerator={nameOf} noHtml5Validate showErrorList={false}
        experimental_defaultFormStateBehavior={DEFAULTS}
        onChange={(event) => onChange(event.formData as FormValues)}
        onSubmit={() => onEnter()} />
      </div>
      </ValuesContext.Provider>
    </ViewContext.Provider>
  );
}

/** The messages of the schema's checks for `values`, by field key. */
export function checkValues(schema: WizardSchema, values: FormValues, message: (error: import("@rjsf/utils").RJSFValidationError) => [string, string]): Record<string, string> {
  const { errors } = validator.validateFormData(valuesToCheck(values), schema as unknown as RJSFSchema);
  const out: Record<string, string> = {};
  for (const error of errors) {
    const [key, text] = message(error);
    if (!(key in out)) out[key] = text;
  }
  return out;
}
