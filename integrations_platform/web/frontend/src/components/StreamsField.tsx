// The streams field: the connector's streams as checkboxes (a long list renders only
// the rows in view, with a filter), or, for connectors whose streams are the source's
// own, a list of names to type. A stream kept from the stored selection keeps its
// replication key and the columns it leaves out.

import { useVirtualizer } from "@tanstack/react-virtual";
import { useMemo, useRef, useState } from "react";

import { fieldId } from "@/lib/settings";
import type { ConnectorDetail, DiscoveredStream, StreamSelection, StreamSpec } from "@/lib/types";

import { DiscoveredStreams } from "./DiscoveredStreams";

/** Above this many streams, the list is filtered and virtualized. */
export const LONG_LIST = 40;
const ROW_PX = 32;

interface Props {
  connector: ConnectorDetail;
  initial: StreamSelection[] | null;
  /** The source's streams, when discovered: then they are the list to choose from. */
  discovered?: DiscoveredStream[] | null;
  value: StreamSelection[];
  message: string | undefined;
  onChange: (streams: StreamSelection[]) => void;
  onBlur: () => void;
  /** A stream to open the list at (a schema-change notification's link). */
  focusStream?: string | null;
}

function parseLines(text: string, stored: Map<string, StreamSelection>): StreamSelection[] {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [name = "", key] = line.split(":").map((part) => part.trim());
    return withStored(name, key || null, stored);
  });
}

function withStored(name: string, key: string | null, stored: Map<string, StreamSelection>): StreamSelection {
  const out: StreamSelection = key ? { name, replication_key: key } : { name };
  const excluded = stored.get(name)?.excluded_columns || [];
  if (excluded.length) out.excluded_columns = excluded;
  return out;
}

export function StreamsField({ connector, initial, discovered, value, message, onChange, onBlur, focusStream = null }: Props) {
  const id = fieldId("streams");
  const stored = useMemo(() => new Map((initial || []).map((s) => [s.name, s])), [initial]);
  const dynamic = connector.dynamic_streams && connector.stream_specs.length === 0;
  const [text, setText] = useState(() => value.map((s) => (s.replication_key ? `${s.name}:${s.replication_key}` : s.name)).join("\n"));
  const errorId = `${id}-error`;
  const helpId = `${id}-help`;
  const error = <p id={errorId} className="error" hidden={!message}>{message}</p>;
  const marker = <span className="required" aria-hidden="true"> *</span>;

  if (discovered) {
    return (
      <fieldset className={`field streams${message ? " invalid" : ""}`} data-field="streams" aria-describedby={`${helpId} ${errorId}`}>
        <legend>Streams{marker}</legend>
        <p id={helpId} className="help">
          What to sync, from the source&apos;s own list; each stream becomes a Dagster asset. Per stream: how it syncs, and the columns to leave out.
        </p>
        <DiscoveredStreams streams={discovered} value={value} invalid={Boolean(message)} onChange={onChange} onBlur={onBlur}
          canHash={Boolean(connector.can_hash_columns)} focusStream={focusStream} />
        {error}
      </fieldset>
    );
  }
  if (dynamic) {
    return (
      <div className={`field${message ? " invalid" : ""}`} data-field="streams">
        <label htmlFor={id}>Streams{marker}</label>
        <p id={helpId} className="help">One per line: {connector.stream_name_help}; add :column for incremental syncs on that column.</p>
        <textarea id={id} name="streams" rows={3} spellCheck={false} aria-required="true" data-key="streams"
          aria-describedby={`${helpId} ${errorId}`} aria-invalid={message ? true : undefined} value={text} onBlur={onBlur}
          onChange={(event) => {
            setText(event.target.value);
            onChange(parseLines(event.target.value, stored));
          }} />
        {error}
      </div>
    );
  }
  const chosen = new Set(value.map((s) => s.name));
  const toggle = (name: string, on: boolean) => {
    const names = new Set(chosen);
    if (on) names.add(name);
    else names.delete(name);
    onChange(connector.stream_specs.filter((s) => names.has(s.name))
      .map((s) => withStored(s.name, stored.get(s.name)?.replication_key || null, stored)));
  };
  return (
    <fieldset className={`field streams${message ? " invalid" : ""}`} data-field="streams" aria-describedby={`${helpId} ${errorId}`}>
      <legend>Streams{marker}</legend>
      <p id={helpId} className="help">What to sync; each stream becomes a Dagster asset.</p>
      {connector.stream_specs.length > LONG_LIST
        ? <LongList specs={connector.stream_specs} chosen={chosen} toggle={toggle} invalid={Boolean(message)} onBlur={onBlur} />
        : connector.stream_specs.map((spec, index) => (
          <StreamRow key={spec.name} spec={spec} id={`${id}-${index}`} checked={chosen.has(spec.name)}
            invalid={Boolean(message)} toggle={toggle} onBlur={onBlur} />
        ))}
      {error}
    </fieldset>
  );
}

interface RowProps {
  spec: StreamSpec;
  id: string;
  checked: boolean;
  invalid: boolean;
  toggle: (name: string, on: boolean) => void;
  onBlur: () => void;
}

function StreamRow({ spec, id, checked, invalid, toggle, onBlur }: RowProps) {
  return (
    <div className="checkbox-row">
      <input type="checkbox" id={id} name="streams" value={spec.name} data-key="streams" checked={checked}
        aria-invalid={invalid ? true : undefined} aria-describedby={spec.description ? `${id}-help` : undefined}
        onChange={(event) => toggle(spec.name, event.target.checked)} onBlur={onBlur} />
      <label htmlFor={id}>{spec.name}</label>
      {spec.description ? <span id={`${id}-help`} className="help inline">{spec.description}</span> : null}
    </div>
  );
}

interface LongListProps {
  specs: StreamSpec[];
  chosen: Set<string>;
  toggle: (name: string, on: boolean) => void;
  invalid: boolean;
  onBlur: () => void;
}

/** Hundreds of streams: a filter, a count, and only the rows in view rendered. */
function LongList({ specs, chosen, toggle, invalid, onBlur }: LongListProps) {
  const [filter, setFilter] = useState("");
  const scroller = useRef<HTMLDivElement>(null);
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = specs.map((spec, index) => ({ spec, index }))
    .filter(({ spec }) => words.every((w) => spec.name.toLowerCase().includes(w)));
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual returns unmemoizable functions; this component is not compiled
  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    // The scroller's height (20rem) before it is measured: the first rows render at once.
    initialRect: { width: 0, height: 320 },
    estimateSize: () => ROW_PX,
    overscan: 10,
  });
  const id = fieldId("streams");
  return (
    <div>
      <div className="field">
        <label htmlFor={`${id}-filter`}>Filter streams</label>
        <input id={`${id}-filter`} type="search" autoComplete="off" spellCheck={false} value={filter}
          onChange={(event) => setFilter(event.target.value)} />
        <p className="muted small" role="status">{chosen.size} of {specs.length} selected; {shown.length} shown.</p>
      </div>
      <div ref={scroller} className="stream-scroller" tabIndex={-1}>
        <div className="relative w-full" ref={(node) => { if (node) node.style.height = `${virtualizer.getTotalSize()}px`; }}>
          {virtualizer.getVirtualItems().map((row) => {
            const item = shown[row.index];
            if (!item) return null;
            return (
              <div key={item.spec.name} className="absolute left-0 w-full"
                ref={(node) => { if (node) node.style.transform = `translateY(${row.start}px)`; }}>
                <StreamRow spec={item.spec} id={`${id}-${item.index}`} checked={chosen.has(item.spec.name)}
                  invalid={invalid} toggle={toggle} onBlur={onBlur} />
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
