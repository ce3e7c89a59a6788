/** A ledger entry as the billing REST API (and `qdz ledger --json`) shows it, in the Billing document's snake_case. */
export function ledgerEntryJson(entry: {
  id: string;
  kind: string;
  amountCents: number;
  reference: string;
  instanceId: string | null;
  description: string | null;
  createdAt: Date | string;
}) {
  return {
    id: entry.id,
    kind: entry.kind,
    amount_cents: entry.amountCents,
    currency: "eur",
    reference: entry.reference,
    instance_id: entry.instanceId,
    description: entry.description,
    created_at: entry.createdAt,
  };
}
