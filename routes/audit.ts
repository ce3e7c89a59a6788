import type { Services } from "../server/services";
import { auditEventJson } from "../src/audit/json";
import { listAudit } from "../src/audit/list";
import { auditListQuery } from "../src/audit/schemas";
import * as tools from "./openapi/account-tools-responses";
import { type Operation, operation } from "./rest-operations";

/** The account's audit trail, in the body of `qdz audit --json`. */
export function auditOperations(_services: Services): Operation[] {
  return [
    operation({
      method: "get",
      path: "/v1/audit",
      operationId: "listAudit",
      tag: "Audit",
      summary: "Who changed what in the account, newest first",
      description:
        "Owners see every row; members their own and their API keys'; an API key what its maker would see as a member. Filter by `actor` (an email, a key's prefix, a schedule rule id, or `system`) and `kind` (`instance.stopped`, or `instance` for every kind about instances).",
      scope: "read",
      query: auditListQuery,
      response: tools.auditPage,
      handle: async ({ ctx, query }) => {
        const page = await listAudit(ctx, query);
        return { data: page.events.map(auditEventJson), next_cursor: page.nextCursor };
      },
    }),
  ];
}
