import { z } from "zod";
import { type auditActorKind, auditKind } from "../../db/schema";
import { safeString } from "../validation";

export const auditKinds = auditKind.enumValues;
export type AuditKind = (typeof auditKinds)[number];
export type AuditActorKind = (typeof auditActorKind.enumValues)[number];

/** `instance`, `api_key`, …: a kind's subject, which filters by every kind about it. */
export const auditKindGroups = [...new Set(auditKinds.map((kind) => kind.split(".")[0]!))];

/**
 * What changed: the fields before and after, each a small JSON value. Never a secret: record.ts drops any
 * field whose name says it holds one (a key's secret, a token, a password, a webhook's signing secret).
 */
export const auditChanges = z.object({
  before: z.record(z.string(), z.unknown()).optional(),
  after: z.record(z.string(), z.unknown()).optional(),
});
export type AuditChanges = z.infer<typeof auditChanges>;

export const auditListInput = z.object({
  /** An email, an API key's prefix (`qdz_Ab12cdEF`), a schedule rule id, or `system`. */
  actor: safeString().trim().min(1).max(200).optional(),
  /** One kind (`instance.stopped`) or a subject's every kind (`instance`). */
  kind: z.enum([...auditKinds, ...auditKindGroups] as [string, ...string[]]).optional(),
  limit: z.number().int().min(1).max(200).default(50),
  cursor: safeString().max(40).nullish(),
});
export type AuditListInput = z.input<typeof auditListInput>;

/** The same page over REST, where the query string carries text. */
export const auditListQuery = auditListInput.extend({ limit: z.coerce.number().int().min(1).max(200).default(50) });
