// The sign-in dialog: a name and password (the session cookie), or an API token instead
// (kept in this tab's session storage). A modal that stays until the API accepts one.

import * as Dialog from "@radix-ui/react-dialog";
import { useEffect, useRef, useState, type FormEvent } from "react";

import { ApiError, LINK_REFUSED, sentence, signIn, signInWithToken, type SignInRequest } from "@/lib/api";

interface Props {
  request: SignInRequest;
  onSignedIn: () => void;
}

const UNREACHABLE = "The API cannot be reached: check that the platform is running.";

/** "45 seconds" / "2 minutes": a wait, rounded up to what a person reads. */
export function describeWait(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, seconds)} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** What a refused sign-in says: the API's reason and what to do, with the wait after a 429. */
export function signInFailure(error: unknown): string {
  if (!(error instanceof ApiError)) return String(error);
  if (error.status === 0) return UNREACHABLE;
  if (error.status === 429) {
    const wait = error.retryAfter === null ? "" : ` Try again in ${describeWait(error.retryAfter)}.`;
    return wait ? `${sentence(error.detail)}${wait}` : error.summary;
  }
  if (error.status === 401 && !error.instruction && error.error === "HTTPError") return "The name or the password is wrong.";
  return error.summary;
}

export function SignInDialog({ request, onSignedIn }: Props) {
  const [mode, setMode] = useState(request.mode);
  const [error, setError] = useState<string | null>(request.mode === "password" ? request.message : null);
  const [tokenError, setTokenError] = useState<string | null>(request.mode === "token" ? request.message : null);
  const [busy, setBusy] = useState(false);
  const nameInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const tokenInput = useRef<HTMLInputElement>(null);
  const switched = useRef(false);

  // The first field of the way chosen takes the focus (after the switch has rendered).
  useEffect(() => {
    if (!switched.current) return;
    (mode === "token" ? tokenInput : nameInput).current?.focus();
  }, [mode]);

  const choose = (next: "password" | "token") => {
    switched.current = true;
    setMode(next);
  };

  async function submitPassword(event: FormEvent) {
    event.preventDefault();
    const name = nameInput.current?.value.trim() || "";
    const password = passwordInput.current?.value || "";
    if (!name || !password) {
      setError(!name ? "Enter your name." : "Enter your password.");
      (!name ? nameInput : passwordInput).current?.focus();
      return;
    }
    setBusy(true);
    try {
      await signIn({ name, password });
    } catch (failure) {
      setBusy(false);
      setError(signInFailure(failure));
      passwordInput.current?.select();
      passwordInput.current?.focus();
      return;
    }
    setBusy(false);
    if (passwordInput.current) passwordInput.current.value = "";
    onSignedIn();
  }

  async function submitToken(event: FormEvent) {
    event.preventDefault();
    const field = tokenInput.current;
    if (!field) return;
    const candidate = field.value.trim();
    if (!candidate) {
      setTokenError("Enter the token.");
      field.focus();
      return;
    }
    setBusy(true);
    let accepted = false;
    try {
      accepted = await signInWithToken(candidate);
    } catch (failure) {
      setTokenError(failure instanceof ApiError && failure.status !== 0 ? failure.summary : UNREACHABLE);
      setBusy(false);
      return;
    }
    setBusy(false);
    if (!accepted) {
      setTokenError("The API does not accept this token.");
      field.select();
      return;
    }
    field.value = "";
    onSignedIn();
  }

  return (
    <Dialog.Root open>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content id="sign-in-dialog" className="modal small" aria-labelledby="sign-in-title" aria-describedby="sign-in-help"
          onOpenAutoFocus={(event) => {
            event.preventDefault();
            (mode === "token" ? tokenInput : nameInput).current?.focus();
          }}
          onEscapeKeyDown={(event) => {
            event.preventDefault();
            const message = "The page shows nothing until you sign in.";
            if (mode === "token") setTokenError(message);
            else setError(message);
          }}
          onInteractOutside={(event) => event.preventDefault()}>
          <Dialog.Title id="sign-in-title" className="text-lg font-semibold">Sign in</Dialog.Title>
          <Dialog.Description id="sign-in-help" className="my-3">
            {mode === "password" ? (
              <>Sign in with the name and password your admin gave you, or open the one-time sign-in link you were sent.</>
            ) : (
              <>
                Enter an API token: one from <code>integrations tokens create</code>, or the server&apos;s
                {" "}<code>INTEGRATIONS_API_TOKEN</code>. It is kept only in this browser tab&apos;s session storage.
              </>
            )}
          </Dialog.Description>
          <form id="sign-in-form" noValidate onSubmit={submitPassword} hidden={mode !== "password"}>
            <div className="field">
              <label htmlFor="sign-in-name">Name</label>
              <input ref={nameInput} id="sign-in-name" name="username" type="text" autoComplete="username" spellCheck={false}
                autoCapitalize="none" aria-required="true" aria-describedby="sign-in-error" />
            </div>
            <div className="field">
              <label htmlFor="sign-in-password">Password</label>
              <input ref={passwordInput} id="sign-in-password" name="password" type="password" autoComplete="current-password"
                aria-required="true" aria-describedby="sign-in-error" aria-invalid={error ? true : undefined} />
            </div>
            <p id="sign-in-error" className="error" role="alert" hidden={!error}>{error}</p>
            <div className="actions">
              <button type="button" className="link-button" id="use-token" onClick={() => choose("token")}>Use an API token instead</button>
              <button type="submit" className="primary" id="sign-in-submit" disabled={busy}>Sign in</button>
            </div>
          </form>
          <form id="token-form" noValidate onSubmit={submitToken} hidden={mode !== "token"}>
            <div className="field">
              <label htmlFor="token-input">API token</label>
              <input ref={tokenInput} id="token-input" name="token" type="password" autoComplete="off" spellCheck={false}
                aria-describedby="token-error" aria-required="true" aria-invalid={tokenError ? true : undefined} />
              <p id="token-error" className="error" role="alert" hidden={!tokenError}>{tokenError}</p>
            </div>
            <div className="actions">
              <button type="button" className="link-button" id="use-password" onClick={() => choose("password")}>
                Use a name and password instead
              </button>
              <button type="submit" className="primary" id="token-submit" disabled={busy}>Connect</button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

/** What a refused one-time sign-in link says. */
export function linkFailure(error: unknown): string {
  return error instanceof ApiError && error.status === 401 ? LINK_REFUSED : signInFailure(error);
}
