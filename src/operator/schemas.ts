import { z } from "zod";
import { safeString } from "../validation";

export const accountsPageInput = z.object({
  limit: z.number().int().min(1).max(100).default(25),
  /** The last account id of the previous page. */
  cursor: safeString().max(64).nullish(),
});
export type AccountsPageInput = z.input<typeof accountsPageInput>;

export const adjustmentInput = z.object({
  accountId: safeString().min(1).max(64),
  /** Signed cents: a credit is positive, a correction that takes money back negative. */
  amountCents: z
    .number()
    .int({ message: "must be a whole number of cents" })
    .refine((cents) => cents !== 0, { message: "must not be zero" })
    .refine((cents) => Math.abs(cents) <= 100_000_000, { message: "must be at most €1,000,000.00 either way" }),
  reason: safeString().trim().min(1, { message: "say why this adjustment is made" }).max(500),
  /** Chosen by the client once per adjustment (`adj:<uuid>`), so a retried request posts it once. */
  reference: z.string().regex(/^adj:[0-9a-f-]{36}$/i, { message: "must be adj:<uuid>" }),
});
export type AdjustmentInput = z.infer<typeof adjustmentInput>;

export const resolveReviewInput = z.object({ id: z.number().int().positive() });
