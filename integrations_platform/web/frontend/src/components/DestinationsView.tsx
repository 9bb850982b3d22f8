// The destinations view: where integrations load their data — the built-in destinations
// (jsonl, postgres) and the configured ones, with their connector, the integrations that
// use each, and what the built-in ones are. Editors add a destination (the destination
// form), test, edit and remove one; a viewer sees the list only.

import dynamic from "next/dynamic";
import { useCallback, useEffect, useState } from "react";

import { ApiError, describeError, seg } from "@/lib/api";
import { listDestinations, removeDestination, testSavedDestination, usedByText } from "@/lib/destinations";
import type { Destination } from "@/lib/types";

import { Hidden } from "./common";
import { useConfirm } from "./Confirm";
import type { DestinationOpening } from "./DestinationDialog";
import { useToast } from "./Toasts";
import { TestResult, type TestView } from "./WizardParts";

// The form (and the form library it carries) loads when first opened.
const DestinationDialog = dynamic(() => import("./DestinationDialog").then((m) => m.DestinationDialog), { ssr: false });

interface Props {
  /** Whether the user may change destinations (an editor or an admin). */
  canChange: boolean;
}

interface TestState {
  name: string;
  builtIn: boolean;
  view: TestView | null;
}

export function DestinationsView({ canChange }: Props) {
  const toast = useToast();
  const confirm = useConfirm();
  const [items, setItems] = useState<Destination[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [dialog, setDialog] = useState<{ opening: DestinationOpening; id: number } | null>(null);
  const [test, setTest] = useState<TestState | null>(null);
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);

  useEffect(() => {
    let live = true;
    listDestinations()
      .then((data) => {
        if (!live) return;
        setItems(data);
        setFailure(null);
      })
      .catch((error: unknown) => { if (live) setFailure(describeError(error)); });
    return () => { live = false; };
  }, [version]);

  const open = (opening: DestinationOpening) => {
    setProblem(null);
    setDialog({ opening, id: Date.now() });
  };

  const runTest = async (destination: Destination) => {
    setProblem(null);
    setTest({ name: destination.name, builtIn: destination.built_in, view: null });
    let view: TestView;
    try {
      view = { kind: "outcome", outcome: await testSavedDestination(destination.name) };
    } catch (error) {
      view = { kind: "error", error };
    }
    setTest((now) => (now?.name === destination.name ? { ...now, view } : now));
  };

  const remove = async (destination: Destination) => {
    const ok = await confirm({
      title: `Remove ${destination.name}?`,
      message: `This removes the destination '${destination.name}' and its stored settings and secrets. Data already loaded stays where it is.`,
      confirmLabel: `Remove ${destination.name}`,
      cancelLabel: "Keep it",
    });
    if (!ok) return;
    try {
      await removeDestination(destination.name);
      setProblem(null);
      if (test?.name === destination.name) setTest(null);
      toast(`Removed the destination '${destination.name}'.`, { kind: "success" });
    } catch (error) {
      // In use (409): the message names the integrations that load into it.
      setProblem(error instanceof ApiError ? error.summary : String(error));
    }
    reload();
    document.getElementById("destinations-title")?.focus();
  };

  return (
    <section id="destinations" className="panel" aria-labelledby="destinations-title">
      <div className="section-head">
        <h2 id="destinations-title" tabIndex={-1}>Destinations</h2>
        {canChange ? (
          <button type="button" id="add-destination" className="primary" onClick={() => open({ mode: "create" })}>
            Add a destination
          </button>
        ) : null}
      </div>
      <p className="muted">
        Where integrations load their data. The built-in destinations need no configuring; others are configured once
        here, and any integration can then choose them.
      </p>
      {failure ? <p className="error-summary" role="alert">{failure}</p> : null}
      <p id="destinations-error" className="error-summary" role="alert" hidden={!problem}>{problem}</p>
      {items === null && !failure ? <p className="muted">Loading…</p> : null}
      {items !== null ? (
        <div className="table-wrap">
          <table id="destinations-table" className="installed">
            <caption className="sr-only">Destinations, with their connector and the integrations that load into each</caption>
            <thead>
              <tr>
                <th scope="col">Destination</th>
                <th scope="col">Kind</th>
                <th scope="col">Used by</th>
                <th scope="col">About</th>
                {canChange ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.name} data-destination={d.name} data-connector={d.connector} data-built-in={String(d.built_in)}>
                  <th scope="row">
                    <div className="int-name">
                      {/* eslint-disable-next-line @next/next/no-img-element -- a logo of the API, not a page asset */}
                      <img src={`/api/v1/destination-connectors/${seg(d.connector)}/logo`} alt="" width={28} height={28} />
                      <div>
                        <span className="name">{d.name}</span>
                        <span className="muted small block">{d.label}</span>
                      </div>
                    </div>
                  </th>
                  <td>
                    {d.built_in ? <span className="badge badge-busy">Built in</span> : <span className="badge badge-off">Configured</span>}
                  </td>
                  <td className="used-by">
                    {/* An editor's links open the integration's settings (its destination among them). */}
                    {d.used_by.length && canChange ? (
                      <ul className="row-counts">
                        {d.used_by.map((name) => (
                          <li key={name}>
                            <a href={`#/integrations/${encodeURIComponent(name)}`}>{name}</a>
                          </li>
                        ))}
                      </ul>
                    ) : d.used_by.length ? usedByText(d.used_by) : <span className="muted">{usedByText(d.used_by)}</span>}
                  </td>
                  <td className="about small">{d.note || <span className="muted">—</span>}</td>
                  {canChange ? (
                    <td className="actions">
                      <div className="action-buttons">
                        <button type="button" onClick={() => void runTest(d)}>Test<Hidden>{` ${d.name}`}</Hidden></button>
                        {d.built_in ? null : (
                          <>
                            <button type="button" onClick={() => open({ mode: "edit", name: d.name })}>Edit<Hidden>{` ${d.name}`}</Hidden></button>
                            <button type="button" className="danger-outline" onClick={() => void remove(d)}>Remove<Hidden>{` ${d.name}`}</Hidden></button>
                          </>
                        )}
                      </div>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {test ? (
        <div id="destination-test" className="test-status" role="status" aria-live="polite" aria-busy={test.view ? undefined : true}>
          <p className="result-title">Connection test of {test.name}</p>
          {test.view ? (
            <TestResult view={test.view} onChangeSettings={test.builtIn ? null : () => open({ mode: "edit", name: test.name })} />
          ) : (
            <div className="progress"><progress aria-label={`Testing ${test.name}`} /><span>Testing the connection…</span></div>
          )}
        </div>
      ) : null}
      {dialog ? (
        <DestinationDialog key={dialog.id} opening={dialog.opening}
          onClosed={() => setDialog(null)}
          onSaved={(saved) => {
            toast(`Saved the destination '${saved.name}'.`, { kind: "success" });
            if (test?.name === saved.name) setTest(null);
            reload();
          }} />
      ) : null}
    </section>
  );
}
