// The marketplace: connector cards from the catalog, with search, a category filter and a
// tier filter (answered by GET /api/v1/connectors?q=&category=&tier=); each card shows its
// tier: "Verified" (synced end to end in the project's tests) or "Community". A card's "Add" opens the wizard
// (only for those who may change integrations).

import { useEffect, useMemo, useRef, useState } from "react";

import { api, describeError } from "@/lib/api";
import { plural } from "@/lib/format";
import type { ConnectorSummary } from "@/lib/types";

import { Hidden } from "./common";

interface Props {
  all: ConnectorSummary[];
  /** Opens the wizard with the connector chosen; null hides the cards' "Add" (a viewer). */
  onAdd: ((connectorId: string) => void) | null;
}

export function Marketplace({ all, onAdd }: Props) {
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [tier, setTier] = useState("");
  const [found, setFound] = useState<{ items: ConnectorSummary[]; q: string; category: string; tier: string } | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const request = useRef(0);
  const categories = useMemo(() => [...new Set(all.map((c) => c.category))].sort(), [all]);

  useEffect(() => {
    const query = q.trim();
    const id = ++request.current;
    if (!query && !category && !tier) return;
    const timer = setTimeout(async () => {
      const params = new URLSearchParams();
      if (query) params.set("q", query);
      if (category) params.set("category", category);
      if (tier) params.set("tier", tier);
      try {
        const { data } = await api<ConnectorSummary[]>("GET", `/api/v1/connectors?${params.toString()}`);
        if (id === request.current) {
          setFound({ items: data, q: query, category, tier });
          setFailure(null);
        }
      } catch (error) {
        if (id === request.current) setFailure(describeError(error));
      }
    }, query ? 200 : 0);
    return () => clearTimeout(timer);
  }, [q, category, tier, all]);

  // Without a search or a filter, every connector (no request needed).
  const filtered = Boolean(q.trim() || category || tier);
  const shown = filtered && found ? found : { items: all, q: "", category: "", tier: "" };
  let count: string;
  if (failure && filtered) count = failure;
  else if (shown.items.length === 0) {
    count = `No ${shown.tier ? `${shown.tier} ` : ""}connector matches${shown.q ? ` "${shown.q}"` : ""}${shown.category ? ` in ${shown.category}` : ""}.`;
  } else if (shown.q || shown.category || shown.tier) {
    count = `${plural(shown.items.length, "connector")} ${shown.items.length === 1 ? "matches" : "match"}.`;
  } else {
    count = `${plural(shown.items.length, "connector")} available.`;
  }

  return (
    <section id="marketplace" className="panel" aria-labelledby="marketplace-title">
      <h2 id="marketplace-title" tabIndex={-1}>Marketplace</h2>
      <form id="marketplace-filters" className="filters" role="search" aria-label="Connectors" noValidate
        onSubmit={(event) => event.preventDefault()}>
        <div className="filter">
          <label htmlFor="connector-search">Search connectors</label>
          <input type="search" id="connector-search" name="q" autoComplete="off" spellCheck={false}
            aria-describedby="connector-search-help" value={q} onChange={(event) => setQ(event.target.value)} />
          <p id="connector-search-help" className="help">Name, category or what it syncs, e.g. &quot;crm&quot;.</p>
        </div>
        <div className="filter">
          <label htmlFor="connector-category">Category</label>
          <select id="connector-category" name="category" value={category} onChange={(event) => setCategory(event.target.value)}>
            <option value="">All categories</option>
            {categories.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </div>
        <div className="filter">
          <label htmlFor="connector-tier">Tier</label>
          <select id="connector-tier" name="tier" value={tier} onChange={(event) => setTier(event.target.value)}>
            <option value="">All tiers</option>
            <option value="verified">Verified</option>
            <option value="community">Community</option>
          </select>
        </div>
      </form>
      <p id="marketplace-count" className="muted" role="status" aria-live="polite">{count}</p>
      <ul id="connector-grid" className="cards" aria-labelledby="marketplace-title">
        {shown.items.map((c) => (
          <li key={c.id} className="card" data-connector={c.id}>
            <div className="card-head">
              {/* eslint-disable-next-line @next/next/no-img-element -- a logo of the API, not a page asset */}
              <img src={c.logo_url} alt="" width={40} height={40} />
              <div>
                <h3 className="card-title">{c.label}</h3>
                <p className="category">
                  {c.category}{" "}
                  <span className={`badge tier-${c.tier ?? "community"}`} data-tier={c.tier ?? "community"}
                    title={c.tier === "verified"
                      ? "Synced end to end in this project's tests"
                      : "Installs, with a form from the plugin's own description"}>
                    {c.tier === "verified" ? "Verified" : "Community"}
                  </span>
                </p>
              </div>
            </div>
            <p className="card-description">{c.description}</p>
            {c.streams.length ? <p className="muted small">Streams: {c.streams.join(", ")}</p> : null}
            <div className="card-actions">
              {onAdd ? (
                <button type="button" className="primary" onClick={() => onAdd(c.id)}>
                  Add<Hidden>{` ${c.label}`}</Hidden>
                </button>
              ) : null}
              {c.docs_url ? (
                <a href={c.docs_url} target="_blank" rel="noopener noreferrer">Docs<Hidden>{` of ${c.label}`}</Hidden></a>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
