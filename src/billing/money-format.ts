/**
 * Money as text: integer EUR cents become `€25.00` or `-€3.75` in one place. Pure and dependency-free: the
 * api's alerts, the CLI and the web app (which imports this file) write amounts the same way.
 */

const eur = new Intl.NumberFormat("en-IE", { style: "currency", currency: "EUR" });
const signedEur = new Intl.NumberFormat("en-IE", { style: "currency", currency: "EUR", signDisplay: "exceptZero" });

/** `1234` → `"1234e-2"`: Intl reads a numeric string as an exact decimal, where `cents / 100` would round large amounts. */
const decimal = (cents: number) => `${cents}e-2` as Intl.StringNumericLiteral;

/** `2500` → `€25.00`, `-375` → `-€3.75`. */
export function formatEur(cents: number): string {
  return eur.format(decimal(cents));
}

/** Ledger amounts: `+€25.00`, `-€3.75`, so credits and debits read apart at a glance. */
export function formatSignedEur(cents: number): string {
  return signedEur.format(decimal(cents));
}
