// Small pieces shared by the page: hidden text for screen readers and times in words.

import type { ReactNode } from "react";

import { absoluteTime, relativeTime } from "@/lib/format";

/** Text only a screen reader reads (e.g. the integration a row's button acts on). */
export function Hidden({ children }: { children: ReactNode }) {
  return <span className="sr-only">{children}</span>;
}

/** "2 hours ago", with the absolute date as its title (and for screen readers). */
export function TimeText({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  const date = new Date(iso);
  return (
    <time dateTime={date.toISOString()} title={absoluteTime(date)}>
      {relativeTime(date)}
      <Hidden>{` (${absoluteTime(date)})`}</Hidden>
    </time>
  );
}
