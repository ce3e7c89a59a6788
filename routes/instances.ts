import type { Services } from "../server/services";
import type { Caller } from "../src/auth/caller";
import { InvalidInputError } from "../src/errors";
import { launchInstance, launchOnce } from "../src/instances/launch";
import { checkLaunch } from "../src/instances/launch-check";
import { launchDepsOf } from "../src/instances/launch-deps";
import { launchKey } from "../src/instances/launch-keys";
import { byWhom, deleteMany, requestStart, requestStop, stopMany } from "../src/instances/lifecycle";
import { instanceEventPage, listInstancePage } from "../src/instances/pages";
import {
  idempotencyKey,
  idsInput,
  instanceEventsQuery,
  instanceListQuery,
  launchCheckInput,
  launchInput,
  logsQuery,
  settingsInput,
} from "../src/instances/schemas";
import { updateSettings } from "../src/instances/settings";
import { instanceDetail, instanceLogs, listItem } from "../src/instances/views";
import { meteredInstance } from "../src/metering/metered";
import * as out from "./openapi/responses";
import { Answer, type Operation, operation } from "./rest-operations";

const who = (caller: Caller, bulk = "") => `${byWhom(caller.actor, caller.user?.email)}${bulk}`;

/** The instance REST routes: the verbs tRPC's `instances` router calls, for scripts in any language. */
export function instanceOperations(services: Services): Operation[] {
  const deps = launchDepsOf(services);
  const lifecycle = { jobs: services.jobs, graceWindowHours: services.config.GRACE_WINDOW_HOURS, minRunwayHours: services.config.MIN_RUNWAY_HOURS };

  const get = (path: string, operationId: string, summary: string) =>
    operation({
      method: "get",
      path,
      operationId,
      tag: "Instances",
      summary,
      scope: "read",
      response: out.instanceDetail,
      handle: ({ ctx, id }) => instanceDetail(ctx, id),
    });
  const stop = (path: string, operationId: string, summary: string) =>
    operation({
      method: "post",
      path,
      operationId,
      tag: "Instances",
      summary,
      description: "Billing stops at the request; the pod is released by a job. 409 names the state when the instance cannot stop.",
      scope: "full",
      response: out.instance,
      errors: [409],
      handle: async ({ ctx, id }) => listItem(await requestStop(ctx, services.jobs, id, `stopped ${who(ctx.caller)}`)),
    });

  return [
    operation({
      method: "get",
      path: "/v1/instances",
      operationId: "listInstances",
      tag: "Instances",
      summary: "List instances, newest first",
      scope: "read",
      query: instanceListQuery,
      response: out.instancePage,
      handle: ({ ctx, query }) => listInstancePage(ctx, query),
    }),
    operation({
      method: "post",
      path: "/v1/instances",
      operationId: "launchInstance",
      tag: "Instances",
      summary: "Launch an instance",
      description:
        "The Launch page's input. With an `Idempotency-Key` header, a retry with the same key and body answers the instance the first attempt made (200, `Idempotent-Replayed: true`) and never makes a second; the same key with another body is a 409.",
      scope: "full",
      body: launchInput,
      idempotencyKey: true,
      response: out.instance,
      status: 201,
      errors: [402, 409],
      handle: async ({ ctx, request, body }) => {
        const header = request.headers.get("idempotency-key");
        if (header === null) return new Answer(listItem(await launchInstance(ctx, deps, body)), 201);
        const key = idempotencyKey.safeParse(header);
        if (!key.success) throw new InvalidInputError("The Idempotency-Key header must be 1–255 visible ASCII characters.", "Idempotency-Key");
        const { instance, replayed } = await launchOnce(ctx, deps, body, launchKey(key.data, body));
        return new Answer(listItem(instance), replayed ? 200 : 201, replayed ? { "idempotent-replayed": "true" } : {});
      },
    }),
    operation({
      method: "post",
      path: "/v1/instances/stop",
      operationId: "stopInstances",
      tag: "Instances",
      summary: "Stop several instances in one transaction",
      description:
        "All the stops commit together; instances that cannot stop are listed in `skipped`. One id of another account (or unknown) fails the whole request with a 404.",
      scope: "full",
      body: idsInput,
      response: out.bulkResult,
      errors: [404],
      handle: ({ ctx, body }) => stopMany(ctx, services.jobs, body.ids, `stopped ${who(ctx.caller)} (bulk)`),
    }),
    get("/v1/instances/{id}", "getInstance", "An instance: its settings, timeline, placement and runs"),
    operation({
      method: "patch",
      path: "/v1/instances/{id}",
      operationId: "updateInstance",
      tag: "Instances",
      summary: "Change an instance's settings",
      scope: "full",
      body: settingsInput,
      response: out.instance,
      errors: [409],
      handle: async ({ ctx, id, body }) => listItem(await updateSettings(ctx, id, body)),
    }),
    operation({
      method: "delete",
      path: "/v1/instances/{id}",
      operationId: "deleteInstance",
      tag: "Instances",
      summary: "Delete an instance (a live pod is stopped first)",
      scope: "full",
      response: out.deleted,
      handle: async ({ ctx, id }) => {
        await deleteMany(ctx, services.jobs, [id], `deleted ${who(ctx.caller)}`);
        return { id, deleted: true as const };
      },
    }),
    operation({
      method: "post",
      path: "/v1/instances/{id}/start",
      operationId: "startInstance",
      tag: "Instances",
      summary: "Start a stopped instance",
      description: "The same billing rules as a launch: 402 when the balance cannot cover the minimum runway, 409 naming the state when it cannot start.",
      scope: "full",
      response: out.instance,
      errors: [402, 409],
      handle: async ({ ctx, id }) => listItem(await requestStart(ctx, lifecycle, id, `started ${who(ctx.caller)}`)),
    }),
    stop("/v1/instances/{id}/stop", "stopInstance", "Stop an instance"),
    operation({
      method: "get",
      path: "/v1/instances/{id}/metered",
      operationId: "getInstanceMetering",
      tag: "Instances",
      summary: "Billed seconds, rate, charge so far and the ledger's debits and refunds (as `qdz instances show --metered`)",
      scope: "read",
      response: out.metered,
      handle: ({ ctx, id }) => meteredInstance(ctx, id),
    }),
    operation({
      method: "get",
      path: "/v1/instances/{id}/events",
      operationId: "listInstanceEvents",
      tag: "Instances",
      summary: "An instance's timeline, oldest first",
      scope: "read",
      query: instanceEventsQuery,
      response: out.instanceEventPage,
      handle: ({ ctx, id, query }) => instanceEventPage(ctx, id, query),
    }),
    operation({
      method: "get",
      path: "/v1/instances/{id}/logs",
      operationId: "getInstanceLogs",
      tag: "Instances",
      summary: "The last lines of the runtime's (or the agent's) output",
      scope: "read",
      query: logsQuery,
      response: out.instanceLogs,
      handle: ({ ctx, id, query }) => instanceLogs(ctx, services.providers, id, query),
    }),
    // The Pods document's words for the same two routes.
    get("/v1/rentals/{id}", "getRental", "A rental: the same answer as GET /v1/instances/{id}"),
    stop("/v1/rentals/{id}/stop", "stopRental", "Stop a rental: the same answer as POST /v1/instances/{id}/stop"),
    operation({
      method: "post",
      path: "/v1/models/validate",
      operationId: "validateLaunch",
      tag: "Instances",
      summary: "Check a launch without launching",
      description:
        "The Launch page's check: the model against the runtime and GPUs, and whether (and where, at what price) it can be placed now with live capacity. Nothing is created.",
      scope: "read",
      body: launchCheckInput,
      response: out.launchCheck,
      handle: ({ body }) => checkLaunch(services.db, deps, body),
    }),
  ];
}
