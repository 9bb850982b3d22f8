// Destinations as data: the form of one (its name and the connector's settings, from the
// destination connector's JSON Schema), the request bodies built from what was entered
// (secrets only when typed: a blank one keeps the stored value), the wizard's choices of
// destination, and how a destination is named on the page — as pure functions, so that
// they are tested alone.

import { api, seg } from "./api";
import {
  BUILT_IN_DESTINATIONS,
  configSchema,
  configToSend,
  fieldOrder,
  initialConfig,
  type DestinationChoice,
  type FormValues,
  type WizardSchema,
} from "./settings";
import type { ConnectorDetail, Destination, DestinationConnectorDetail, DestinationConnectorSummary, JsonValue, TestOutcome } from "./types";

/** The API's rule for a destination's name (service/destinations.py). */
export const DESTINATION_NAME_PATTERN = "^[a-z][a-z0-9_]{0,31}$";

/** A destination connector as the settings form takes a connector: its settings, and no
 * streams (the form's streams field is the wizard's only). */
export function formConnector(detail: DestinationConnectorDetail): ConnectorDetail {
  return {
    id: detail.id,
    label: detail.label,
    category: detail.category,
    description: detail.description,
    logo_url: detail.logo_url,
    docs_url: detail.docs_url ?? null,
    tier: detail.tier,
    form_schema: detail.form_schema,
    streams: [],
    stream_specs: [],
    dynamic_streams: false,
    default_schedule: "",
  };
}

/** The JSON Schema of the destination form: its name, then the connector's settings (on
 * edit, a secret already set is not required). */
export function destinationSchema(connector: ConnectorDetail, stored: Destination | null): WizardSchema {
  return {
    type: "object",
    required: ["name"],
    properties: {
      name: {
        type: "string",
        title: "Destination name",
        pattern: DESTINATION_NAME_PATTERN,
        "x-pattern-message": "Use lower-case letters, digits and underscores, starting with a letter (at most 32).",
        description: stored
          ? "The name cannot change: integrations load into it by this name."
          : "Lower-case letters, digits and underscores, e.g. warehouse. Integrations name it as their destination.",
      },
      config: configSchema(connector, stored),
    },
  };
}

/** The form's keys in the order its fields are shown: the name, then the settings. */
export function destinationFieldOrder(connector: ConnectorDetail): string[] {
  return fieldOrder(connector).filter((key) => key === "name" || key.startsWith("config."));
}

/** What the form starts with: the stored settings (never a secret), else the defaults. */
export function destinationInitialValues(connector: ConnectorDetail, stored: Destination | null): FormValues {
  return { name: stored?.name, config: initialConfig(connector, stored) };
}

/** The body of POST /api/v1/destinations: the settings that differ from the defaults. */
export function destinationCreateBody(connector: ConnectorDetail, values: FormValues): { name: string; connector: string; config: Record<string, JsonValue> } {
  return { name: (values.name || "").trim(), connector: connector.id, config: configToSend(connector, null, values) };
}

/** The body of PATCH /api/v1/destinations/{name}: only the settings changed (null: back
 * to the default), only the secrets typed in, and the version read (a stale one is
 * refused). */
export function destinationUpdateBody(connector: ConnectorDetail, stored: Destination, values: FormValues): { config: Record<string, JsonValue>; version: number } {
  return { config: configToSend(connector, stored, values), version: stored.version };
}

/** The request testing the entered settings: a new destination's with its connector
 * (nothing is stored), or a saved one's with the edits merged as a save would. */
export function destinationTestRequest(connector: ConnectorDetail, stored: Destination | null, values: FormValues): { path: string; body: { config: Record<string, JsonValue> } } {
  if (stored) {
    return { path: `/api/v1/destinations/${seg(stored.name)}/test`, body: { config: configToSend(connector, stored, values) } };
  }
  return { path: `/api/v1/destination-connectors/${seg(connector.id)}/test`, body: { config: configToSend(connector, null, values) } };
}

/** A destination in words: "warehouse — PostgreSQL". */
export function destinationText(destination: Pick<Destination, "name" | "label">): string {
  return `${destination.name} — ${destination.label}`;
}

/** The destination field's choices: every destination (built-in first, as listed), and
 * the current ones (the stored, the chosen) even if the list lacks them; the built-in
 * ones when there is no list. */
export function destinationChoices(list: Destination[] | null, ...current: (string | null | undefined)[]): DestinationChoice[] {
  const choices: DestinationChoice[] = list ? list.map((d) => [d.name, destinationText(d)]) : [...BUILT_IN_DESTINATIONS];
  for (const name of current) {
    if (name && !choices.some(([value]) => value === name)) choices.push([name, name]);
  }
  return choices;
}

/** Which integrations load into a destination, in words. */
export function usedByText(usedBy: string[]): string {
  return usedBy.length ? usedBy.join(", ") : "No integration";
}

/** Field errors a connection test reports in its outcome (a configuration failure). */
export function outcomeFieldErrors(outcome: TestOutcome): Record<string, string> {
  const details = (outcome.details || {}) as { field_errors?: unknown };
  const errors = details.field_errors;
  if (!errors || typeof errors !== "object" || Array.isArray(errors)) return {};
  return Object.fromEntries(Object.entries(errors as Record<string, unknown>).filter(([, v]) => typeof v === "string")) as Record<string, string>;
}

// -- calls to the API ------------------------------------------------------------------

export async function listDestinations(): Promise<Destination[]> {
  return (await api<Destination[]>("GET", "/api/v1/destinations")).data;
}

export async function getDestination(name: string): Promise<Destination> {
  return (await api<Destination>("GET", `/api/v1/destinations/${seg(name)}`)).data;
}

export async function listDestinationConnectors(): Promise<DestinationConnectorSummary[]> {
  return (await api<DestinationConnectorSummary[]>("GET", "/api/v1/destination-connectors")).data;
}

export async function getDestinationConnector(id: string): Promise<DestinationConnectorDetail> {
  return (await api<DestinationConnectorDetail>("GET", `/api/v1/destination-connectors/${seg(id)}`)).data;
}

/** Save the form: create a destination, or update `stored`. */
export async function saveDestination(connector: ConnectorDetail, stored: Destination | null, values: FormValues): Promise<Destination> {
  const { data } = stored
    ? await api<Destination>("PATCH", `/api/v1/destinations/${seg(stored.name)}`, { body: destinationUpdateBody(connector, stored, values) })
    : await api<Destination>("POST", "/api/v1/destinations", { body: destinationCreateBody(connector, values) });
  return data;
}

/** Test the form's settings (see destinationTestRequest). */
export async function testDestinationSettings(connector: ConnectorDetail, stored: Destination | null, values: FormValues): Promise<TestOutcome> {
  const { path, body } = destinationTestRequest(connector, stored, values);
  return (await api<TestOutcome>("POST", path, { body })).data;
}

/** Test a saved destination as it is stored. */
export async function testSavedDestination(name: string): Promise<TestOutcome> {
  return (await api<TestOutcome>("POST", `/api/v1/destinations/${seg(name)}/test`)).data;
}

export async function removeDestination(name: string): Promise<void> {
  await api("DELETE", `/api/v1/destinations/${seg(name)}`);
}
