import { z } from "zod";
import { safeString } from "../validation";

/** A month's budget in cents: at least €1, at most €10 million. */
const monthlyCents = z
  .number()
  .int("monthlyCents must be whole cents")
  .min(100, "must be at least €1.00")
  .max(1_000_000_000, "a monthly budget is at most €10,000,000.00");

export const budgetScope = z.object({ instanceId: safeString().min(1).max(64).nullish() });

export const setBudgetInput = budgetScope.extend({ monthlyCents, stopRunning: z.boolean().optional() });

export const notificationListInput = z.object({
  limit: z.number().int().min(1).max(100).default(20),
  cursor: safeString().max(200).nullish(),
  unreadOnly: z.boolean().optional(),
});

/** The same page over REST, where the query string carries text: `unreadOnly=true`. */
export const notificationListQuery = notificationListInput.extend({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  unreadOnly: z
    .enum(["true", "false"])
    .transform((value) => value === "true")
    .optional(),
});

export const markReadInput = z.union([z.object({ ids: z.array(safeString().min(1).max(64)).min(1).max(100) }), z.object({ all: z.literal(true) })]);
