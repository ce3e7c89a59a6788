import { z } from "zod";
import { safeString } from "../validation";

/** A URL goes back to the payment provider and into the checkout row: NUL and lone surrogates are refused first. */
export const httpUrl = safeString().pipe(z.url({ protocol: /^https?$/, message: "Must be an http(s) URL." }));

/** The body of POST /billing/checkout, in the Billing document's snake_case. */
export const checkoutInput = z.object({
  amount_cents: z.number({ message: "Must be a whole number of cents." }).int({ message: "Must be a whole number of cents." }),
  currency: safeString()
    .transform((value) => value.toLowerCase())
    .pipe(z.literal("eur", { message: "Only EUR is supported." })),
  success_url: httpUrl,
  cancel_url: httpUrl,
});

export type CheckoutInput = z.infer<typeof checkoutInput>;

export const ledgerKinds = ["topup", "debit", "refund", "adjustment"] as const;

export const ledgerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: safeString().max(200).optional(),
  kind: z.enum(ledgerKinds).optional(),
  instance_id: safeString().max(64).optional(),
});

/** POST /billing/debit: the scheduler debits an account, idempotently by reference. */
export const debitInput = z.object({
  account_id: safeString().min(1).max(64),
  /** What to take, as a positive number of cents. */
  amount_cents: z.number().int().positive({ message: "Must be a positive whole number of cents." }),
  reference: safeString().min(1).max(200),
  instance_id: safeString().max(64).optional(),
  description: safeString().max(500).optional(),
});
