// The source's discovered streams to choose from: a filter, select all / none of what is
// shown, and per selected stream its sync mode and the columns to leave out (or to hash,
// where the extractor can). Hundreds of streams stay fast: only the rows in view are
// rendered.

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";

import { fieldId } from "@/lib/settings";
import type { DiscoveredStream, StreamSelection } from "@/lib/types";

const ROW_PX = 44;

interface Props {
  streams: DiscoveredStream[];
  value: StreamSelection[];
  invalid: boolean;
  onChange: (streams: StreamSelection[]) => void;
  onBlur: () => void;
  /** Whether columns can be hashed (the extractor has stream maps). */
  canHash?: boolean;
  /** A stream to open with (a schema-change notification's link): filtered to, columns shown. */
  focusStream?: string | null;
}

/** The selection for `stream`: incremental on its default key when it has one. */
function selectionOf(stream: DiscoveredStream, before?: StreamSelection): StreamSelection {
  const key = before?.replication_key && stream.replication_keys.includes(before.replication_key)
    ? before.replication_key
    : stream.default_replication_key;
  const out: StreamSelection = key ? { name: stream.name, replication_key: key } : { name: stream.name };
  const excluded = (before?.excluded_columns || []).filter((c) => stream.columns.some((col) => col.name === c));
  if (excluded.length) out.excluded_columns = excluded;
  const hashed = (before?.hashed_columns || []).filter((c) => stream.columns.some((col) => col.name === c));
  if (hashed.length) out.hashed_columns = hashed;
  return out;
}

/** The columns a stream cannot leave out: its keys and the ones the source always sends. */
export function requiredColumns(stream: DiscoveredStream, selection: StreamSelection | undefined): Set<string> {
  const key = selection?.replication_key ?? stream.default_replication_key;
  return new Set([
    ...stream.primary_key,
    ...(key ? [key] : []),
    ...stream.columns.filter((c) => c.inclusion === "automatic").map((c) => c.name),
  ]);
}

export function DiscoveredStreams({ streams, value, invalid, onChange, onBlur, canHash = false, focusStream = null }: Props) {
  const focused = focusStream && streams.some((s) => s.name === focusStream) ? focusStream : null;
  const [filter, setFilter] = useState(focused ?? "");
  const [editing, setEditing] = useState<string | null>(focused && value.some((s) => s.name === focused) ? focused : null);
  // One stop for Tab in the list (the row last moved to); the arrow keys move between rows.
  const [activeRow, setActiveRow] = useState(0);
  const focusRow = useRef<number | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const id = fieldId("streams");
  const chosen = useMemo(() => new Map(value.map((s) => [s.name, s])), [value]);
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = streams.filter((s) => words.every((w) => s.name.toLowerCase().includes(w)));
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual returns unmemoizable functions; this component is not compiled
  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    // The scroller's height (20rem) before it is measured: the first rows render at once.
    initialRect: { width: 0, height: 320 },
    estimateSize: () => ROW_PX,
    overscan: 5,
  });

  const active = Math.min(activeRow, Math.max(shown.length - 1, 0));
  useEffect(() => {
    if (focusRow.current === null) return;
    const box = document.getElementById(`${id}-s-${focusRow.current}`);
    if (box) {
      box.focus();
      focusRow.current = null;
    }
  });
  const onListKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    if (target.tagName === "SELECT") return; // its own arrows choose the sync mode
    const moves: Record<string, number> = { ArrowDown: active + 1, ArrowUp: active - 1, Home: 0, End: shown.length - 1, PageDown: active + 8, PageUp: active - 8 };
    if (!(event.key in moves) || shown.length === 0) return;
    event.preventDefault();
    const next = Math.max(0, Math.min(shown.length - 1, moves[event.key] as number));
    setActiveRow(next);
    focusRow.current = next;
    // Until the row is rendered (a far one after scrolling), the list itself holds the
    // focus, so that it is not lost with the row it leaves.
    if (!document.getElementById(`${id}-s-${next}`)) scroller.current?.focus();
    virtualizer.scrollToIndex(next);
  };

  // The selection keeps the source's order.
  const commit = (next: Map<string, StreamSelection>) => onChange(streams.filter((s) => next.has(s.name)).map((s) => next.get(s.name) as StreamSelection));
  const toggle = (stream: DiscoveredStream, on: boolean) => {
    const next = new Map(chosen);
    if (on) next.set(stream.name, selectionOf(stream, chosen.get(stream.name)));
    else next.delete(stream.name);
    commit(next);
  };
  const setAll = (on: boolean) => {
    const next = new Map(chosen);
    for (const stream of shown) {
      if (on && !next.has(stream.name)) next.set(stream.name, selectionOf(stream));
      if (!on) next.delete(stream.name);
    }
    commit(next);
  };
  const update = (name: string, change: Partial<StreamSelection>) => {
    const current = chosen.get(name);
    if (!current) return;
    const next = new Map(chosen);
    const merged: StreamSelection = { ...current, ...change };
    if (!merged.excluded_columns?.length) delete merged.excluded_columns;
    if (!merged.hashed_columns?.length) delete merged.hashed_columns;
    next.set(name, merged);
    commit(next);
  };
  const edited = editing ? streams.find((s) => s.name === editing) : undefined;
  const editedSelection = edited ? chosen.get(edited.name) : undefined;

  return (
    <div className="discovered">
      <div className="discovered-tools">
        <div className="field">
          <label htmlFor={`${id}-filter`}>Filter streams</label>
          <input id={`${id}-filter`} type="search" autoComplete="off" spellCheck={false} value={filter}
            aria-describedby={`${id}-count`} onChange={(event) => setFilter(event.target.value)} />
        </div>
        <div className="discovered-buttons">
          <button type="button" onClick={() => setAll(true)}>Select all shown</button>
          <button type="button" onClick={() => setAll(false)}>Select none of those shown</button>
        </div>
      </div>
      <p id={`${id}-count`} className="muted small" role="status" aria-live="polite">
        {chosen.size} of {streams.length} selected; {shown.length} shown.
      </p>
      <p className="help">Tab enters the list once: the arrow keys (Home, End, Page Up and Down) move between streams, Space selects.</p>
      {/* Keys on the list move between its rows (the checkboxes inside take the focus). */}
      <div ref={scroller} className="stream-scroller" role="group" aria-label="Streams of the source" tabIndex={-1} onKeyDown={onListKey}>
        <div className="relative w-full" ref={(node) => { if (node) node.style.height = `${virtualizer.getTotalSize()}px`; }}>
          {virtualizer.getVirtualItems().map((row) => {
            const stream = shown[row.index];
            if (!stream) return null;
            const selection = chosen.get(stream.name);
            const rowId = `${id}-s-${row.index}`;
            const stop = row.index === active ? 0 : -1;
            return (
              <div key={stream.name} className="discovered-row absolute left-0 w-full" data-stream={stream.name}
                ref={(node) => { if (node) node.style.transform = `translateY(${row.start}px)`; }}>
                <span className="checkbox-row">
                  <input type="checkbox" id={rowId} name="streams" value={stream.name} data-key="streams" checked={Boolean(selection)}
                    tabIndex={stop} onFocus={() => setActiveRow(row.index)}
                    aria-invalid={invalid ? true : undefined} onChange={(event) => toggle(stream, event.target.checked)} onBlur={onBlur} />
                  <label htmlFor={rowId}>{stream.name}</label>
                </span>
                {selection ? (
                  <>
                    <select aria-label={`Sync mode of ${stream.name}`} value={selection.replication_key || ""}
                      tabIndex={stop} onFocus={() => setActiveRow(row.index)}
                      disabled={stream.replication_keys.length === 0}
                      onChange={(event) => update(stream.name, { replication_key: event.target.value || null })}>
                      {stream.replication_keys.length === 0 ? <option value="">Full table (no replication key)</option> : null}
                      {stream.replication_keys.map((key) => <option key={key} value={key}>Incremental on {key}</option>)}
                    </select>
                    <button type="button" aria-expanded={editing === stream.name} aria-controls={`${id}-columns`}
                      tabIndex={stop} onFocus={() => setActiveRow(row.index)}
                      aria-label={`Columns of ${stream.name}${columnNote(selection)}`}
                      onClick={() => setEditing(editing === stream.name ? null : stream.name)}>
                      Columns{columnNote(selection)}
                    </button>
                  </>
                ) : <span className="muted small">{stream.columns.length} columns</span>}
              </div>
            );
          })}
        </div>
      </div>
      {edited && editedSelection ? (
        <fieldset id={`${id}-columns`} className="group columns" aria-label={`Columns of ${edited.name}`}>
          <legend>Columns of {edited.name}</legend>
          <p className="help">
            Unchecked columns are never read or synced. Keys stay: the sync needs them.
            {canHash ? " A hashed column reaches the destination only as a salted SHA-256 digest: joins still work, the raw value never leaves the source's process." : ""}
          </p>
          <div className="column-grid">
            {edited.columns.map((column, index) => {
              const fixed = requiredColumns(edited, editedSelection).has(column.name);
              const left = (editedSelection.excluded_columns || []).includes(column.name);
              const hashed = (editedSelection.hashed_columns || []).includes(column.name);
              const boxId = `${id}-col-${index}`;
              return (
                <span key={column.name} className="checkbox-row" data-column={column.name}>
                  <input type="checkbox" id={boxId} checked={!left} disabled={fixed || column.inclusion === "unsupported"}
                    onChange={(event) => {
                      const rest = (editedSelection.excluded_columns || []).filter((c) => c !== column.name);
                      const unhashed = (editedSelection.hashed_columns || []).filter((c) => c !== column.name);
                      update(edited.name, event.target.checked
                        ? { excluded_columns: rest }
                        : { excluded_columns: [...rest, column.name], hashed_columns: unhashed });
                    }} />
                  <label htmlFor={boxId}>{column.name} <span className="muted small">{column.format || column.type}{fixed ? ", key" : ""}</span></label>
                  {canHash && !fixed && !left && column.inclusion !== "unsupported" ? (
                    <label className="hash-toggle muted small">
                      <input type="checkbox" checked={hashed} aria-label={`Hash ${column.name}`}
                        onChange={(event) => {
                          const rest = (editedSelection.hashed_columns || []).filter((c) => c !== column.name);
                          update(edited.name, { hashed_columns: event.target.checked ? [...rest, column.name] : rest });
                        }} />
                      {" "}hash
                    </label>
                  ) : null}
                </span>
              );
            })}
          </div>
          <button type="button" onClick={() => setEditing(null)}>Done with the columns<span className="sr-only">{` of ${edited.name}`}</span></button>
        </fieldset>
      ) : null}
    </div>
  );
}

/** " (2 left out, 1 hashed)" — what a stream's columns button says beside its name. */
function columnNote(selection: StreamSelection): string {
  const notes = [
    selection.excluded_columns?.length ? `${selection.excluded_columns.length} left out` : null,
    selection.hashed_columns?.length ? `${selection.hashed_columns.length} hashed` : null,
  ].filter(Boolean);
  return notes.length ? ` (${notes.join(", ")})` : "";
}
