import { z } from "zod";
import { rulesSchema } from "./rules/schemas";

const name = z.string().trim().min(1, { message: "Give the firewall a name." }).max(80);
const description = z.string().trim().max(500).nullish();

export const createFirewallInput = z.object({
  name,
  description,
  rules: rulesSchema.default([]),
  storePromptText: z.boolean().default(false),
});

export const updateFirewallInput = z.object({
  id: z.string().min(1),
  name: name.optional(),
  description,
  rules: rulesSchema.optional(),
  storePromptText: z.boolean().optional(),
});

export const attachFirewallInput = z.object({
  instanceId: z.string().min(1),
  /** Null detaches. */
  firewallId: z.string().min(1).nullable(),
});

export const testPromptInput = z.object({
  firewallId: z.string().min(1),
  text: z.string().max(100_000),
});

export const listEventsInput = z
  .object({
    instanceId: z.string().min(1).optional(),
    firewallId: z.string().min(1).optional(),
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
