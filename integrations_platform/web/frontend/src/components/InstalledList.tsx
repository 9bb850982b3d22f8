// Installed integrations: status, last sync, row counts, next run, open notifications,
// and actions (sync now, runs, edit, enable/disable, delete, open in Dagster), one by one
// or on a selection. A long list renders only the rows in view. Without the right to
// change (a viewer), only the runs and Dagster's page are offered: no selection, no
// action that changes anything.

import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useRef, useState } from "react";

import { seg } from "@/lib/api";
import { describeProgress, plural } from "@/lib/format";
import type { ConnectorSummary, Integration } from "@/lib/types";

import { Hidden, TimeText } from "./common";

export type BulkAction = "enable" | "disable" | "sync";

const RUN_BADGES: Record<string, [string, string]> = {
  SUCCESS: ["Synced", "ok"],
  FAILURE: ["Failed", "fail"],
  STARTED: ["Syncing", "busy"],
  STARTING: ["Starting", "busy"],
  QUEUED: ["Queued", "busy"],
  NOT_STARTED: ["Queued", "busy"],
  CANCELING: ["Canceling", "busy"],
  CANCELED: ["Canceled", "off"],
};
/** Above this many integrations, only the rows in view are rendered. */
export const VIRTUAL_AFTER = 60;
const ROW_ESTIMATE_PX = 76;

export interface RowActions {
  sync: (name: string) => void;
  edit: (name: string) => void;
  setEnabled: (name: string, enabled: boolean) => void;
  remove: (name: string) => void;
  runs: (name: string) => void;
}

interface Props {
  items: Integration[] | null;
  connectors: Map<string, ConnectorSummary>;
  selected: Set<string>;
  onSelect: (names: Set<string>) => void;
  onBulk: (action: BulkAction) => void;
  actions: RowActions;
  /** Whether the user may change integrations (an editor or an admin). */
  canChange: boolean;
}

export function InstalledList({ items, connectors, selected, onSelect, onBulk, actions, canChange }: Props) {
  const selectAll = useRef<HTMLInputElement>(null);
  const count = selected.size;
  const total = items?.length ?? 0;
  useEffect(() => {
    if (selectAll.current) selectAll.current.indeterminate = count > 0 && count < total;
  }, [count, total]);

  const toggle = (name: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(name);
    else next.delete(name);
    onSelect(next);
  };

  return (
    <section id="installed" className="panel" aria-labelledby="installed-title">
      <div className="section-head">
        <h2 id="installed-title" tabIndex={-1}>Installed integrations</h2>
        {canChange ? (
          <div id="bulk-bar" className="bulk-bar" role="toolbar" aria-label="Actions on the selected integrations">
            <span id="bulk-count" className="muted">{count ? `${plural(count, "integration")} selected` : "None selected"}</span>
            <button type="button" data-bulk="enable" disabled={count === 0} onClick={() => onBulk("enable")}>Enable</button>
            <button type="button" data-bulk="disable" disabled={count === 0} onClick={() => onBulk("disable")}>Disable</button>
            <button type="button" data-bulk="sync" disabled={count === 0} onClick={() => onBulk("sync")}>Sync now</button>
          </div>
        ) : null}
      </div>
      {items === null ? <p id="installed-loading" className="muted">Loading…</p> : null}
      {items !== null && items.length === 0 ? (
        <p id="installed-empty">
          {canChange
            ? <>No integration yet. Choose a connector in the marketplace below, or <strong>Add integration</strong> at the top of the page.</>
            : "No integration yet."}
        </p>
      ) : null}
      {items !== null && items.length > 0 ? (
        <div className="table-wrap" id="installed-wrap">
          <table id="installed-table" className="installed" aria-rowcount={items.length > VIRTUAL_AFTER ? items.length + 1 : undefined}>
            <caption className="sr-only">Installed integrations, with their status and actions</caption>
            <thead>
              <tr>
                {canChange ? (
                  <th scope="col" className="select-col">
                    <input ref={selectAll} type="checkbox" id="select-all" aria-label="Select all integrations"
                      checked={count > 0 && count === total}
                      onChange={(event) => onSelect(new Set(event.target.checked ? items.map((i) => i.name) : []))} />
                  </th>
                ) : null}
                <th scope="col">Integration</th>
                <th scope="col">Status</th>
                <th scope="col">Last sync</th>
                <th scope="col">Rows</th>
                <th scope="col">Next run</th>
                <th scope="col">Notifications</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            {items.length > VIRTUAL_AFTER
              ? <VirtualRows items={items} connectors={connectors} selected={selected} toggle={toggle} actions={actions} canChange={canChange} />
              : (
                <tbody id="installed-rows">
                  {items.map((item) => (
                    <Row key={item.name} item={item} connector={connectors.get(item.connector)}
                      selected={selected.has(item.name)} toggle={toggle} actions={actions} canChange={canChange} />
                  ))}
                </tbody>
              )}
          </table>
        </div>
      ) : null}
    </section>
  );
}

interface RowsProps {
  items: Integration[];
  connectors: Map<string, ConnectorSummary>;
  selected: Set<string>;
  toggle: (name: string, on: boolean) => void;
  actions: RowActions;
  canChange: boolean;
}

function VirtualRows({ items, connectors, selected, toggle, actions, canChange }: RowsProps) {
  const columns = canChange ? 8 : 7;
  const body = useRef<HTMLTableSectionElement>(null);
  const [margin, setMargin] = useState(0);
  useLayoutEffect(() => {
    if (body.current) setMargin(body.current.getBoundingClientRect().top + window.scrollY);
  }, []);
  const virtualizer = useWindowVirtualizer({
    count: items.length,
    estimateSize: () => ROW_ESTIMATE_PX,
    overscan: 8,
    scrollMargin: margin,
    getItemKey: (index) => items[index]?.name ?? index,
  });
  const rows = virtualizer.getVirtualItems();
  const before = rows.length ? (rows[0]?.start ?? 0) - virtualizer.options.scrollMargin : 0;
  const after = rows.length ? virtualizer.getTotalSize() - (rows[rows.length - 1]?.end ?? 0) + virtualizer.options.scrollMargin : 0;
  return (
    <tbody id="installed-rows" ref={body} data-virtual="true">
      {before > 0 ? <tr aria-hidden="true"><td colSpan={columns} className="spacer-cell" data-height={before} ref={(cell) => { if (cell) cell.style.height = `${before}px`; }} /></tr> : null}
      {rows.map((row) => {
        const item = items[row.index];
        if (!item) return null;
        return (
          <Row key={row.key} item={item} connector={connectors.get(item.connector)} selected={selected.has(item.name)}
            toggle={toggle} actions={actions} canChange={canChange} index={row.index} measure={virtualizer.measureElement} />
        );
      })}
      {after > 0 ? <tr aria-hidden="true"><td colSpan={columns} className="spacer-cell" ref={(cell) => { if (cell) cell.style.height = `${after}px`; }} /></tr> : null}
    </tbody>
  );
}

interface RowProps {
  item: Integration;
  connector: ConnectorSummary | undefined;
  selected: boolean;
  toggle: (name: string, on: boolean) => void;
  actions: RowActions;
  canChange: boolean;
  index?: number;
  measure?: (node: Element | null) => void;
}

function Row({ item, connector, selected, toggle, actions, canChange, index, measure }: RowProps) {
  const name = item.name;
  const status = item.status || {};
  const run = status.last_run;
  const rowCounts = Object.entries(status.row_counts || {});
  const notes = item.notifications || [];
  const [runText, runKind] = run ? (RUN_BADGES[run.status] || [run.status, "off"]) : ["Never synced", "off"];
  return (
    <tr data-name={name} data-enabled={String(item.enabled)} data-index={index} ref={measure}
      aria-rowindex={index === undefined ? undefined : index + 2}>
      {canChange ? (
        <td className="select-col">
          <input type="checkbox" aria-label={`Select ${name}`} data-select={name} checked={selected}
            onChange={(event) => toggle(name, event.target.checked)} />
        </td>
      ) : null}
      <th scope="row">
        <div className="int-name">
          {/* eslint-disable-next-line @next/next/no-img-element -- a logo of the API, not a page asset */}
          <img src={connector ? connector.logo_url : `/api/v1/connectors/${seg(item.connector)}/logo`} alt="" width={28} height={28} />
          <div>
            <span className="name">{name}</span>
            <span className="muted small block">{connector ? connector.label : item.connector}</span>
          </div>
        </div>
      </th>
      <td className="status">
        <div className="badges">
          {item.enabled ? <span className="badge badge-on">Enabled</span> : <span className="badge badge-off">Disabled</span>}
          <span className={`badge badge-${runKind}`} data-run-status={run ? run.status : "none"}>{runText}</span>
        </div>
        {run?.progress ? <p className="small muted progress" data-progress={run.progress.total}>{describeProgress(run.progress)}</p> : null}
      </td>
      <td className="last-sync">
        {run ? <TimeText iso={run.ended_at || run.started_at} /> : <span className="muted">Never</span>}
        {run ? (
          <div>
            <a href={run.url} target="_blank" rel="noopener noreferrer" className="small">Open run<Hidden>{` of ${name}`}</Hidden></a>
          </div>
        ) : null}
      </td>
      <td className="rows">
        {rowCounts.length ? (
          <ul className="row-counts">
            {rowCounts.map(([stream, count]) => (
              <li key={stream} data-stream={stream}>
                <span className="stream">{stream}</span>: <span className="count">{count.toLocaleString()}</span>
              </li>
            ))}
          </ul>
        ) : <span className="muted">—</span>}
      </td>
      <td className="next-run">
        {item.enabled ? <TimeText iso={status.next_run_at} /> : <span className="muted">Paused (disabled)</span>}
      </td>
      <td className="notes">
        {notes.length ? (
          <div>
            <span className="badge badge-fail">{plural(notes.length, "open")}</span>
            <p className="small">{notes[0]?.title}</p>
          </div>
        ) : <span className="muted">None</span>}
      </td>
      <td className="actions">
        <div className="action-buttons">
          {canChange ? (
            <button type="button" disabled={!item.enabled} onClick={() => actions.sync(name)}>Sync now<Hidden>{` ${name}`}</Hidden></button>
          ) : null}
          <button type="button" onClick={() => actions.runs(name)}>Runs<Hidden>{` of ${name}`}</Hidden></button>
          {canChange ? (
            <>
              <button type="button" onClick={() => actions.edit(name)}>Edit<Hidden>{` ${name}`}</Hidden></button>
              <button type="button" onClick={() => actions.setEnabled(name, !item.enabled)}>
                {item.enabled ? "Disable" : "Enable"}<Hidden>{` ${name}`}</Hidden>
              </button>
              <button type="button" className="danger-outline" onClick={() => actions.remove(name)}>Delete<Hidden>{` ${name}`}</Hidden></button>
            </>
          ) : null}
          <a className="button-link" href={item.links?.dagster} target="_blank" rel="noopener noreferrer">
            Open in Dagster<Hidden>{` (${name})`}</Hidden>
          </a>
        </div>
      </td>
    </tr>
  );
}
