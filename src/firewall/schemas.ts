import { z } from "zod";
import { safeString } from "../validation";
import { rulesSchema } from "./rules/schemas";

const name = safeString().trim().min(1, { message: "Give the firewall a name." }).max(80);
const description = safeString().trim().max(500).nullish();
const id = safeString().min(1).max(64);

/** A firewall named by its id (show, delete). */
export const firewallIdInput = z.object({ id });

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

/** The REST attach, with the instance in its path (`POST /v1/instances/{id}/firewall`); detaching is its DELETE. */
export const firewallAttachBody = z.object({ firewallId: id });

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

/**
 * A page of a firewall's (or an instance's) events over REST, where the query string carries text: the cursor is
 * the previous page's `next_cursor`, the id of its last event.
 */
export const firewallEventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: safeString()
    .regex(/^[1-9]\d{0,15}$/, { message: "must be the next_cursor of the previous page" })
    .transform(Number)
    .optional(),
});

export type CreateFirewallInput = z.input<typeof createFirewallInput>;
export type UpdateFirewallInput = z.input<typeof updateFirewallInput>;
export type AttachFirewallInput = z.input<typeof attachFirewallInput>;
export type TestPromptInput = z.input<typeof testPromptInput>;
export type ListEventsInput = z.input<typeof listEventsInput>;
