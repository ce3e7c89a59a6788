import type { Services } from "../server/services";
import { notificationJsonWithRead } from "../src/notifications/json";
import { listNotifications, markRead } from "../src/notifications/list";
import { listBudgets, removeBudget, setBudgetAndWatch } from "../src/spend/budgets";
import { budgetJson } from "../src/spend/json";
import { budgetScope, markReadInput, notificationListQuery, setBudgetInput } from "../src/spend/schemas";
import * as tools from "./openapi/account-tools-responses";
import { type Operation, operation } from "./rest-operations";

/** Monthly budgets and the account's alerts, in the bodies of `qdz budgets --json` and `qdz notifications --json`. */
export function spendOperations(services: Services): Operation[] {
  return [
    operation({
      method: "get",
      path: "/v1/budgets",
      operationId: "listBudgets",
      tag: "Budgets",
      summary: "The account's monthly budget and its instances', each with this UTC month's spend",
      scope: "read",
      response: tools.budgets,
      handle: async ({ ctx }) => {
        const found = await listBudgets(ctx);
        return { account: found.account && budgetJson(found.account), instances: found.instances.map(budgetJson) };
      },
    }),
    operation({
      method: "post",
      path: "/v1/budgets",
      operationId: "setBudget",
      tag: "Budgets",
      summary: "Set or change a monthly budget: the account's (without `instanceId`; owners only) or one instance's",
      description:
        "At 100 % an instance's budget stops that instance; the account's refuses new launches, and with `stopRunning` stops running instances too. A budget set below this month's spend acts at once. An API key acts as a member, so only a signed-in owner can set the account's budget.",
      scope: "full",
      body: setBudgetInput,
      response: tools.budget,
      errors: [404],
      handle: async ({ ctx, body }) => budgetJson(await setBudgetAndWatch(ctx, services.jobs, body)),
    }),
    operation({
      method: "delete",
      path: "/v1/budgets",
      operationId: "removeBudget",
      tag: "Budgets",
      summary: "Remove a monthly budget: one instance's with `instanceId`, else the account's (owners only)",
      description: "Removing a budget that is not set changes nothing and answers the same.",
      scope: "full",
      query: budgetScope,
      response: tools.budgetRemoved,
      errors: [404],
      handle: async ({ ctx, query }) => {
        await removeBudget(ctx, query);
        return { instance_id: query.instanceId ?? null, removed: true as const };
      },
    }),
    operation({
      method: "get",
      path: "/v1/notifications",
      operationId: "listNotifications",
      tag: "Notifications",
      summary: "The account's alerts (budgets, runway, grace window, refunds, failed runs), newest first, with the unread count",
      scope: "read",
      query: notificationListQuery,
      response: tools.notificationPage,
      handle: async ({ ctx, query }) => {
        const page = await listNotifications(ctx, query);
        return { data: page.notifications.map(notificationJsonWithRead), unread: page.unread, next_cursor: page.nextCursor };
      },
    }),
    operation({
      method: "post",
      path: "/v1/notifications/read",
      operationId: "markNotificationsRead",
      tag: "Notifications",
      summary: "Mark notifications read: `{ids: [...]}` or `{all: true}`",
      description: "Ids of another account's notifications change nothing; the answer is the unread count left.",
      scope: "full",
      body: markReadInput,
      response: tools.unread,
      handle: async ({ ctx, body }) => ({ unread: await markRead(ctx, body) }),
    }),
  ];
}
