// A yes/no question in an accessible modal (Radix AlertDialog): focus goes to the safe
// choice, Escape means "cancel", and focus returns to where it was.

import * as AlertDialog from "@radix-ui/react-alert-dialog";
import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from "react";

export interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel?: string;
  cancelLabel?: string;
  danger?: boolean;
}

type Ask = (options: ConfirmOptions) => Promise<boolean>;

/** Asked before the wizard's unsaved edits are thrown away. */
export const DISCARD_EDITS: ConfirmOptions = {
  title: "Discard your changes?",
  message: "The settings you entered in this wizard are not saved.",
  confirmLabel: "Discard changes",
  cancelLabel: "Keep editing",
};

const ConfirmContext = createContext<Ask>(async () => false);

export function useConfirm(): Ask {
  return useContext(ConfirmContext);
}

export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [question, setQuestion] = useState<ConfirmOptions | null>(null);
  const resolver = useRef<((answer: boolean) => void) | null>(null);
  const previous = useRef<HTMLElement | null>(null);
  const ask = useCallback<Ask>((options) => {
    resolver.current?.(false);
    previous.current = document.activeElement as HTMLElement | null;
    setQuestion(options);
    return new Promise<boolean>((resolve) => {
      resolver.current = resolve;
    });
  }, []);
  const finish = (answer: boolean) => {
    const resolve = resolver.current;
    resolver.current = null;
    setQuestion(null);
    resolve?.(answer);
  };
  return (
    <ConfirmContext.Provider value={ask}>
      {children}
      <AlertDialog.Root open={question !== null} onOpenChange={(open) => { if (!open) finish(false); }}>
        <AlertDialog.Portal>
          <AlertDialog.Overlay className="overlay confirm-overlay" />
          <AlertDialog.Content id="confirm-dialog" className="modal small" aria-labelledby="confirm-title" aria-describedby="confirm-message"
            onCloseAutoFocus={(event) => {
              event.preventDefault();
              const back = previous.current;
              if (back && back.isConnected) back.focus();
            }}>
            <AlertDialog.Title id="confirm-title" className="text-lg font-semibold">{question?.title}</AlertDialog.Title>
            <AlertDialog.Description id="confirm-message" className="my-3">{question?.message}</AlertDialog.Description>
            <div className="actions">
              <AlertDialog.Cancel id="confirm-cancel">{question?.cancelLabel || "Cancel"}</AlertDialog.Cancel>
              <AlertDialog.Action id="confirm-ok" className={question?.danger === false ? "primary" : "danger"}
                onClick={(event) => { event.preventDefault(); finish(true); }}>
                {question?.confirmLabel || "OK"}
              </AlertDialog.Action>
            </div>
          </AlertDialog.Content>
        </AlertDialog.Portal>
      </AlertDialog.Root>
    </ConfirmContext.Provider>
  );
}
