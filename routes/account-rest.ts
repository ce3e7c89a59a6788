import type { Services } from "../server/services";
import { listApiKeys } from "../src/api-keys/keys";
import { accountUsage } from "../src/usage/account";
import { instanceUsage } from "../src/usage/instance";
import { accountUsageJson, instanceUsageJson } from "../src/usage/json";
import { usageRestQuery } from "../src/usage/schemas";
import * as out from "./openapi/responses";
import { type Operation, operation } from "./rest-operations";

/** The range and zone of GET /billing/usage; here the instance is in the path or absent. */
const usageQuery = usageRestQuery.omit({ instance_id: true });

/** Usage (the same bodies as `qdz usage --json` and GET /billing/usage) and the key list. */
export function accountOperations(_services: Services): Operation[] {
  return [
    operation({
      method: "get",
      path: "/v1/usage",
      operationId: "getAccountUsage",
      tag: "Usage",
      summary: "The account's cost and active time per bucket, from what metering billed",
      scope: "read",
      query: usageQuery,
      response: out.accountUsage,
      handle: async ({ ctx, query }) => accountUsageJson(await accountUsage(ctx, { range: query.range, timeZone: query.time_zone })),
    }),
    operation({
      method: "get",
      path: "/v1/instances/{id}/usage",
      operationId: "getInstanceUsage",
      tag: "Usage",
      summary: "One instance's cost and active time per bucket",
      scope: "read",
      query: usageQuery,
      response: out.instanceUsage,
      handle: async ({ ctx, id, query }) => instanceUsageJson(await instanceUsage(ctx, { instanceId: id, range: query.range, timeZone: query.time_zone })),
    }),
    operation({
      method: "get",
      path: "/v1/keys",
      operationId: "listKeys",
      tag: "Keys",
      summary: "The account's API keys (never their secrets); creating and revoking stay with people signed in",
      scope: "read",
      response: out.apiKeyList,
      handle: async ({ ctx }) => ({ data: await listApiKeys(ctx) }),
    }),
  ];
}
