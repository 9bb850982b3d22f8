// The API token prompt: a modal that stays until the API accepts a token.

import * as Dialog from "@radix-ui/react-dialog";
import { useRef, useState, type FormEvent } from "react";

import { checkToken } from "@/lib/api";

interface Props {
  reason: string | null;
  onAccepted: (token: string) => void;
}

export function TokenDialog({ reason, onAccepted }: Props) {
  const [error, setError] = useState<string | null>(reason);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const field = input.current;
    if (!field) return;
    const candidate = field.value.trim();
    if (!candidate) {
      setError("Enter the token.");
      field.focus();
      return;
    }
    setBusy(true);
    let accepted = false;
    try {
      accepted = await checkToken(candidate);
    } catch {
      setError("The API cannot be reached: check that the platform is running.");
      setBusy(false);
      return;
    }
    setBusy(false);
    if (!accepted) {
      setError("The API does not accept this token.");
      field.select();
      return;
    }
    field.value = "";
    onAccepted(candidate);
  }

  return (
    <Dialog.Root open>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content id="token-dialog" className="modal small" aria-labelledby="token-title" aria-describedby="token-help"
          onOpenAutoFocus={(event) => { event.preventDefault(); input.current?.focus(); }}
          onEscapeKeyDown={(event) => { event.preventDefault(); setError("The page needs the API token to show anything."); }}
          onInteractOutside={(event) => event.preventDefault()}>
          <form id="token-form" noValidate onSubmit={submit}>
            <Dialog.Title id="token-title" className="text-lg font-semibold">Connect to the API</Dialog.Title>
            <Dialog.Description id="token-help" className="my-3">
              Enter the API token: the file <code>.integrations/api-token</code> that <code>integrations up</code> writes,
              or the server&apos;s <code>INTEGRATIONS_API_TOKEN</code>. It is kept only in this browser tab&apos;s session storage.
            </Dialog.Description>
            <div className="field">
              <label htmlFor="token-input">API token</label>
              <input ref={input} id="token-input" name="token" type="password" autoComplete="off" spellCheck={false}
                aria-describedby="token-error" aria-required="true" aria-invalid={error ? true : undefined} />
              <p id="token-error" className="error" hidden={!error}>{error}</p>
            </div>
            <div className="actions">
              <button type="submit" className="primary" id="token-submit" disabled={busy}>Connect</button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
