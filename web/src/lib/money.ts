// The runway in words comes from the api's own forecast rules, so Billing, the instance pages and `qdz balance` say the same.

/** Money is integer EUR cents everywhere; the api's formatting is the one place it becomes text. */
export { formatEur, formatSignedEur } from "../../../src/billing/money-format";
export { formatRunway, runwayPhrase } from "../../../src/metering/forecast";

import { formatEur } from "../../../src/billing/money-format";

/** An hourly rate: `€2.80/h`. */
export function formatEurPerHour(cents: number): string {
  return `${formatEur(cents)}/h`;
}

export type ParsedEur = { ok: true; cents: number } | { ok: false; message: string };

/**
 * An amount as people type it (`50`, `50.5`, `50,50`, `€12.34`) to integer
 * cents, by reading the digits, never through a float (`0.29` is 29 cents,
 * not 28.999…). The same rules as the CLI's `parseEur`: one separator, `.`
 * or `,`, read as the decimal one, with one or two digits after it. A
 * thousands separator is refused rather than guessed, since `1,000` is
 * 1000 € in Dublin and 1 € in Berlin.
 */
export function parseEurToCents(text: string): ParsedEur {
  const refuse = (message: string): ParsedEur => ({ ok: false, message });
  const amount = text.trim().replace(/^€\s*|\s*€$/g, "");
  if (amount === "") return refuse("Enter an amount in EUR, such as 50 or 12.50.");
  if (/^[-−]/.test(amount)) return refuse("Enter a positive amount, such as 50.");
  if (/^\d[\d.,]*$/.test(amount) && (amount.match(/[.,]/g) ?? []).length > 1) {
    return refuse("Write the amount without a thousands separator, such as 1000 or 1000.50.");
  }
  const parts = /^(\d+)(?:[.,](\d+))?$/.exec(amount);
  if (!parts) return refuse("Enter the amount as a number, such as 50, 50.5 or 50,50.");
  const [, euros = "", decimals = ""] = parts;
  if (decimals.length > 2) {
    // Three digits after the separator may be a thousands separator ("1,000"): say how to write that too.
    return refuse(
      decimals.length === 3
        ? "Use at most 2 decimals. If the separator is for thousands, leave it out (such as 1000)."
        : "Use at most 2 decimals: amounts are in whole cents.",
    );
  }
  // Both parts are plain digits: the cents are the digits themselves, read once as an integer.
  const cents = Number(`${euros}${decimals.padEnd(2, "0")}`);
  if (!Number.isSafeInteger(cents)) return refuse("This amount is too large.");
  if (cents === 0) return refuse("Enter an amount above zero.");
  return { ok: true, cents };
}

/** Cents back to what the amount field shows: `5000` → `50`, `5050` → `50.50` (no grouping, so it parses back). */
export function centsToInput(cents: number): string {
  const euros = Math.trunc(cents / 100);
  const rest = cents % 100;
  return rest === 0 ? String(euros) : `${euros}.${String(rest).padStart(2, "0")}`;
}
