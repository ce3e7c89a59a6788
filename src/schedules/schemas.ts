import { z } from "zod";
import { safeString } from "../validation";

const id = safeString().min(1).max(64);

/** Cron and zone are checked by src/schedules/cron.ts, which names what is wrong; here only their size. */
const rule = z.object({
  action: z.enum(["start", "stop"]),
  cron: safeString().min(1).max(100),
  timeZone: safeString().min(1).max(64),
  enabled: z.boolean().optional(),
  note: safeString().max(200).nullish(),
});

export const createRulesInput = z.object({ instanceId: id, rules: z.array(rule).min(1).max(10) });
export const updateRuleInput = rule.partial().extend({ id });
export const previewInput = z.object({ cron: safeString().max(100), timeZone: safeString().max(64) });
export const historyInput = z.object({ instanceId: id, limit: z.coerce.number().int().min(1).max(100).default(20), cursor: safeString().max(24).nullish() });
