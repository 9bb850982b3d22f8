// Short messages in a live region; those with actions stay until closed, the others fade.

import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export type ToastKind = "info" | "success" | "error";

export interface ToastOptions {
  kind?: ToastKind;
  action?: { label: string; href: string };
  timeoutMs?: number;
}

interface ToastItem extends ToastOptions {
  id: number;
  message: string;
}

type Show = (message: string, options?: ToastOptions) => void;

const ToastContext = createContext<Show>(() => undefined);

export function useToast(): Show {
  return useContext(ToastContext);
}

const KIND_CLASSES: Record<ToastKind, string> = {
  info: "border-slate-300 dark:border-slate-600",
  success: "border-emerald-600",
  error: "border-red-600",
};

export function ToastProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const next = useRef(0);
  const dismiss = useCallback((id: number) => setItems((all) => all.filter((t) => t.id !== id)), []);
  const show = useCallback<Show>((message, options = {}) => {
    next.current += 1;
    const id = next.current;
    setItems((all) => [...all, { id, message, ...options }]);
    const timeout = options.timeoutMs ?? 8000;
    if (!options.action && timeout > 0) setTimeout(() => dismiss(id), timeout);
  }, [dismiss]);
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div id="toasts" className="toasts fixed bottom-4 right-4 z-50 flex w-96 max-w-[calc(100vw-2rem)] flex-col gap-2"
        role="status" aria-live="polite" aria-relevant="additions">
        {items.map((item) => (
          <div key={item.id} className={`toast toast-${item.kind || "info"} flex items-start gap-2 rounded-md border-l-4 bg-white p-3 shadow-lg dark:bg-slate-800 ${KIND_CLASSES[item.kind || "info"]}`}>
            <div className="flex-1">
              <p>{item.message}</p>
              {item.action ? (
                <div className="mt-1">
                  <a href={item.action.href} target="_blank" rel="noopener noreferrer">{item.action.label}</a>
                </div>
              ) : null}
            </div>
            <button type="button" className="icon-button" aria-label="Dismiss message" onClick={() => dismiss(item.id)}>
              <span aria-hidden="true">×</span>
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
