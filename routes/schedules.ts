import type { Services } from "../server/services";
import { createRules, deleteRule, listRules, scheduleHistory, updateRule } from "../src/schedules/rules";
import { createRulesInput, historyInput, updateRuleInput } from "../src/schedules/schemas";
import * as out from "./openapi/responses";
import { type Operation, operation } from "./rest-operations";

/** An instance's start and stop rules: the verbs tRPC's `schedules` router calls. */
export function scheduleOperations(_services: Services): Operation[] {
  return [
    operation({
      method: "get",
      path: "/v1/instances/{id}/schedules",
      operationId: "listSchedules",
      tag: "Schedules",
      summary: "An instance's rules, with their words, next three runs and last execution",
      scope: "read",
      response: out.scheduleRules,
      handle: async ({ ctx, id }) => ({ data: await listRules(ctx, id) }),
    }),
    operation({
      method: "post",
      path: "/v1/instances/{id}/schedules",
      operationId: "createSchedules",
      tag: "Schedules",
      summary: "Add one rule, or several together (a preset's start and stop)",
      description:
        "Cron (5 fields or `@daily`-style) in an IANA time zone; a bad one is a 400 naming `cron` or `timeZone` (`rules.<n>.cron` when several are given).",
      scope: "full",
      body: createRulesInput.omit({ instanceId: true }),
      response: out.scheduleRules,
      status: 201,
      handle: async ({ ctx, id, body }) => ({ data: await createRules(ctx, id, body.rules) }),
    }),
    operation({
      method: "get",
      path: "/v1/instances/{id}/schedules/history",
      operationId: "listScheduleHistory",
      tag: "Schedules",
      summary: "Every time a rule was due and what came of it, newest first",
      scope: "read",
      query: historyInput.omit({ instanceId: true }),
      response: out.scheduleHistory,
      handle: async ({ ctx, id, query }) => {
        const page = await scheduleHistory(ctx, id, query);
        return { data: page.executions, next_cursor: page.nextCursor };
      },
    }),
    operation({
      method: "patch",
      path: "/v1/schedules/{id}",
      operationId: "updateSchedule",
      tag: "Schedules",
      summary: "Change a rule (its cron, zone, action, note, or enable it)",
      scope: "full",
      body: updateRuleInput.omit({ id: true }),
      response: out.scheduleRule,
      handle: ({ ctx, id, body }) => updateRule(ctx, id, body),
    }),
    operation({
      method: "delete",
      path: "/v1/schedules/{id}",
      operationId: "deleteSchedule",
      tag: "Schedules",
      summary: "Delete a rule (its history stays)",
      scope: "full",
      response: out.ok,
      handle: async ({ ctx, id }) => {
        await deleteRule(ctx, id);
        return { ok: true as const };
      },
    }),
  ];
}
