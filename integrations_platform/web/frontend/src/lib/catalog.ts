// Connector summaries (once) and details (once per connector), shared by the page.

import { api, seg } from "./api";
import type { ConnectorDetail, ConnectorSummary } from "./types";

let summariesPromise: Promise<ConnectorSummary[]> | null = null;
const details = new Map<string, Promise<ConnectorDetail>>();

export function connectorSummaries(): Promise<ConnectorSummary[]> {
  if (!summariesPromise) {
    summariesPromise = api<ConnectorSummary[]>("GET", "/api/v1/connectors").then((r) => r.data).catch((error: unknown) => {
      summariesPromise = null;
      throw error;
    });
  }
  return summariesPromise;
}

export function connectorDetail(id: string): Promise<ConnectorDetail> {
  let loading = details.get(id);
  if (!loading) {
    loading = api<ConnectorDetail>("GET", `/api/v1/connectors/${seg(id)}`).then((r) => r.data).catch((error: unknown) => {
      details.delete(id);
      throw error;
    });
    details.set(id, loading);
  }
  return loading;
}
