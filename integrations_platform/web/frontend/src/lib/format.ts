// Dates and counts in words.

import type { RunProgress } from "./types";

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** "in 5 minutes" / "2 hours ago". */
export function relativeTime(date: Date, now: Date = new Date()): string {
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") return format.format(Math.round(seconds / size), unit);
  }
  return "";
}

/** "6 Dec 2026, 14:05". */
export function absoluteTime(date: Date): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** "1 integration" / "3 integrations". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A sentence: capitalised, ending with a full stop. */
export function capitalise(text: string): string {
  const value = String(text || "");
  const start = value.charAt(0).toUpperCase() + value.slice(1);
  return /[.!?]$/.test(start) ? start : `${start}.`;
}

/** A running sync's rows so far: "12,000 rows so far (1,200 rows/s)". */
export function describeProgress(progress: RunProgress): string {
  const rate = Math.round(progress.rows_per_s).toLocaleString();
  return `${progress.total.toLocaleString()} rows so far (${rate} rows/s)`;
}
