import { z } from "zod";
import { safeString } from "../validation";

export const setEndpointInput = z.object({
  /** Judged by the URL policy (`url-policy.ts`), which also caps its length; here only what text can hold. */
  url: safeString().trim().min(1, { message: "Give the URL alerts are POSTed to." }),
  /** Omitted: a new endpoint is enabled, an existing one keeps its setting. */
  enabled: z.boolean().optional(),
});

export const listDeliveriesInput = z.object({
  limit: z.number().int().min(1).max(100).default(20),
  /** The `nextCursor` of the previous page: the id of its last delivery. */
  cursor: safeString().min(1).max(64).optional(),
});

export const deliveryIdInput = z.object({ id: safeString().min(1).max(64) });

export type SetEndpointInput = z.input<typeof setEndpointInput>;
export type ListDeliveriesInput = z.input<typeof listDeliveriesInput>;
