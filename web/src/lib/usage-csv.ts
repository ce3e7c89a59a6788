import type { UsageBucket } from "./usage";

/**
 * The Usage CSV, made in the browser from the very buckets on screen, so the file and the chart cannot
 * disagree. Money in integer cents and time in whole seconds, as metering billed them (a spreadsheet
 * sums them exactly); bucket bounds as local times with their offset (`2025-12-03T14:00:00+01:00`),
 * readable in the viewer's zone and still unambiguous across a DST change.
 */
export interface CsvColumn<T> {
  header: string;
  value: (bucket: T) => string | number;
}

export const bucketColumns = (timeZone: string): CsvColumn<UsageBucket>[] => {
  const local = localIso(timeZone);
  return [
    { header: "bucket_start", value: (b) => local(b.start) },
    { header: "bucket_end", value: (b) => local(b.end) },
    { header: "cost_cents", value: (b) => b.costCents },
    { header: "billable_seconds", value: (b) => b.billableSeconds },
    { header: "refunded_cents", value: (b) => b.refundedCents },
  ];
};

export function toCsv<T>(rows: T[], columns: CsvColumn<T>[]): string {
  const lines = [columns.map((c) => quote(c.header)), ...rows.map((row) => columns.map((c) => quote(String(c.value(row)))))];
  // RFC 4180: CRLF between records.
  return `${lines.map((cells) => cells.join(",")).join("\r\n")}\r\n`;
}

/** Quotes a cell only when it must be (a comma, a quote, a line break), doubling its quotes. */
function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** An instant as a local ISO 8601 time in `timeZone`, with its UTC offset. */
export function localIso(timeZone: string): (iso: string) => string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "longOffset",
  });
  return (iso) => {
    const p = Object.fromEntries(parts.formatToParts(new Date(iso)).map((part) => [part.type, part.value]));
    // "GMT+01:00", or plain "GMT" at offset zero.
    const offset = p.timeZoneName === "GMT" ? "Z" : (p.timeZoneName ?? "").replace("GMT", "");
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
  };
}

/** `qdz-usage-chat-a-7d-2025-12-03.csv`: what, which range, and the day it was taken, safe as a file name anywhere. */
export function csvFileName(subject: string, range: string, now = new Date()): string {
  const slug =
    subject
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "usage";
  // en-CA writes dates as YYYY-MM-DD; the viewer's own day, not UTC's.
  return `qdz-usage-${slug}-${range}-${new Intl.DateTimeFormat("en-CA").format(now)}.csv`;
}

/** Hands the text to the browser as a file download. */
export function downloadCsv(fileName: string, csv: string): void {
  const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // After the click has been handled: revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}
