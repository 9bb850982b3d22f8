// The run view: an integration's recent runs and the redacted log of the one chosen,
// in a modal with two tabs.

import * as Dialog from "@radix-ui/react-dialog";
import * as Tabs from "@radix-ui/react-tabs";
import { useEffect, useState } from "react";

import { api, describeError, seg } from "@/lib/api";
import type { LogLine, RunSummary } from "@/lib/types";

import { describeProgress } from "@/lib/format";

import { TimeText } from "./common";

interface Props {
  name: string;
  onClose: () => void;
}

export function RunsDialog({ name, onClose }: Props) {
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [log, setLog] = useState<LogLine[] | null>(null);
  const [tab, setTab] = useState("runs");
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api<RunSummary[]>("GET", `/api/v1/integrations/${seg(name)}/runs?limit=20`)
      .then(({ data }) => { if (live) setRuns(data); })
      .catch((error: unknown) => { if (live) setFailure(describeError(error)); });
    return () => { live = false; };
  }, [name]);

  useEffect(() => {
    if (!chosen) return;
    let live = true;
    api<LogLine[]>("GET", `/api/v1/integrations/${seg(name)}/runs/${seg(chosen)}/logs`)
      .then(({ data }) => { if (live) setLog(data); })
      .catch((error: unknown) => { if (live) setFailure(describeError(error)); });
    return () => { live = false; };
  }, [name, chosen]);

  return (
    <Dialog.Root open onOpenChange={(open) => { if (!open) onClose(); }}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content id="runs-dialog" className="modal wizard" aria-describedby="runs-subtitle">
          <div className="wizard-head">
            <div>
              <Dialog.Title className="text-xl font-semibold">Runs of {name}</Dialog.Title>
              <Dialog.Description id="runs-subtitle" className="muted">Recent syncs, and the log of each (secrets are redacted).</Dialog.Description>
            </div>
            <Dialog.Close className="icon-button" aria-label="Close"><span aria-hidden="true">×</span></Dialog.Close>
          </div>
          {failure ? <p className="error-summary" role="alert">{failure}</p> : null}
          <Tabs.Root value={tab} onValueChange={setTab} className="mt-3">
            <Tabs.List className="tabs" aria-label="Runs and log">
              <Tabs.Trigger value="runs" className="tab">Runs</Tabs.Trigger>
              <Tabs.Trigger value="log" className="tab" disabled={!chosen}>Log</Tabs.Trigger>
            </Tabs.List>
            <Tabs.Content value="runs" className="tab-panel">
              {runs === null && !failure ? <p className="muted">Loading…</p> : null}
              {runs !== null && runs.length === 0 ? <p>No run yet: <strong>Sync now</strong> starts one.</p> : null}
              {runs !== null && runs.length > 0 ? (
                <table className="installed runs">
                  <thead>
                    <tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Ended</th><th scope="col">Rows</th><th scope="col">Log</th></tr>
                  </thead>
                  <tbody>
                    {runs.map((run) => (
                      <tr key={run.run_id} data-run={run.run_id}>
                        <th scope="row"><a href={run.url} target="_blank" rel="noopener noreferrer"><code>{run.run_id.slice(0, 8)}</code></a></th>
                        <td><span className="badge" data-run-status={run.status}>{run.status}</span></td>
                        <td><TimeText iso={run.ended_at || run.started_at} /></td>
                        <td>
                          {Object.values(run.row_counts || {}).reduce((a, b) => a + b, 0).toLocaleString()}
                          {run.progress ? <span className="small muted block" data-progress={run.progress.total}>{describeProgress(run.progress)}</span> : null}
                        </td>
                        <td>
                          <button type="button" onClick={() => { setLog(null); setChosen(run.run_id); setTab("log"); }}>
                            Show log<span className="sr-only">{` of run ${run.run_id.slice(0, 8)}`}</span>
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </Tabs.Content>
            <Tabs.Content value="log" className="tab-panel">
              {chosen && log === null && !failure ? <p className="muted">Loading the log…</p> : null}
              {log !== null ? (
                <pre id="run-log" className="run-log" tabIndex={0} aria-label={`Log of run ${chosen ?? ""}`}>
                  {log.map((line) => `${line.timestamp ?? ""} ${line.level.padEnd(7)} ${line.step ? `[${line.step}] ` : ""}${line.message}`).join("\n")}
                </pre>
              ) : null}
            </Tabs.Content>
          </Tabs.Root>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
