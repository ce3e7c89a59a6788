import { z } from "zod";
import { safeString } from "../validation";
import { rulesSchema } from "./rules/schemas";

const name = safeString().trim().min(1, { message: "Give the firewall a name." }).max(80);
const description = safeString().trim().max(500).nullish();
const id = safeString().min(1).max(64);

export const createFirewallInput = z.object({
  name,
  description,
  rules: rulesSchema.default([]),
  storePromptText: z.boolean().default(false),
});

export const updateFirewallInput = z.object({
  id,
  name: name.optional(),
  description,
  rules: rulesSchema.optional(),
  storePromptText: z.boolean().optional(),
});

export const attachFirewallInput = z.object({
  instanceId: id,
  /** Null detaches. */
  firewallId: id.nullable(),
});

export const testPromptInput = z.object({
  firewallId: id,
  // Screened, never stored: a NUL here is text like any other.
  text: z.string().max(100_000),
});

export const listEventsInput = z
  .object({
    instanceId: id.optional(),
    firewallId: id.optional(),
    limit: z.number().int().min(1).max(200).default(50),
    /** The `nextCursor` of the previous page. */
    cursor: z.number().int().positive().optional(),
  })
  .refine((i) => (i.instanceId === undefined) !== (i.firewallId === undefined), { message: "Pass instanceId or firewallId (one of them)." });

export type CreateFirewallInput = z.input<typeof createFirewallInput>;
export type UpdateFirewallInput = z.input<typeof updateFirewallInput>;
export type AttachFirewallInput = z.input<typeof attachFirewallInput>;
export type TestPromptInput = z.input<typeof testPromptInput>;
export type ListEventsInput = z.input<typeof listEventsInput>;
