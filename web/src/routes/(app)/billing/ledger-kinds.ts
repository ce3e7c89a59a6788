import type { Outputs } from "#lib/trpc.ts";

export type LedgerKind = Outputs["billing"]["ledger"]["entries"][number]["kind"];

/** The ledger's kinds in the product's words, in the order the filter lists them. */
export const kindLabels: Record<LedgerKind, string> = { topup: "Top-up", debit: "Usage", refund: "Refund", adjustment: "Adjustment" };

/** A `?kind=` value the ledger knows, or undefined (all kinds) for anything else. */
export function ledgerKind(value: string | null): LedgerKind | undefined {
  return value !== null && Object.hasOwn(kindLabels, value) ? (value as LedgerKind) : undefined;
}
