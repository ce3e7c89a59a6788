import type { AuditEvent } from "./list";

/** One row of the trail in the snake_case scripts read: `qdz audit --json` and GET /v1/audit, one shape from either. */
export function auditEventJson(event: AuditEvent) {
  return {
    id: event.id,
    at: event.at,
    actor: event.actor,
    request_id: event.requestId,
    kind: event.kind,
    subject_id: event.subjectId,
    changes: event.changes,
  };
}
