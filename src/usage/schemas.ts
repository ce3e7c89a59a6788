import { z } from "zod";
import { safeString } from "../validation";
import { timeZoneSchema } from "./time-zone";
import { usageRanges } from "./types";

const range = z.enum(usageRanges).default("30d");
const instanceId = safeString().min(1, { message: "Give the instance's id." }).max(64);

/** tRPC's `usage.account`; the web app passes the viewer's zone. */
export const accountUsageInput = z.object({ range, timeZone: timeZoneSchema });

/** tRPC's `usage.instance`. */
export const instanceUsageInput = accountUsageInput.extend({ instanceId });

/** The verbs take the same, and `now` for tests and benchmarks (else the database's clock). */
const at = { now: z.date().optional() };
export const accountUsageQuery = accountUsageInput.extend(at);
export const instanceUsageQuery = instanceUsageInput.extend(at);

export type AccountUsageQuery = z.input<typeof accountUsageQuery>;
export type InstanceUsageQuery = z.input<typeof instanceUsageQuery>;

/** GET /billing/usage, in the Billing document's snake_case; a script that names no zone gets UTC days. */
export const usageRestQuery = z.object({
  range,
  time_zone: timeZoneSchema.default("UTC"),
  instance_id: instanceId.optional(),
});
