import type { Services } from "../server/services";
import { requestInstall } from "../src/runtimes/installs";
import { listRuntimes } from "../src/runtimes/list";
import * as tools from "./openapi/account-tools-responses";
import { type Operation, operation } from "./rest-operations";

/** Serving runtimes, and building one on the platform's machine: the verbs tRPC's `runtimes` router calls. */
export function runtimeOperations(services: Services): Operation[] {
  return [
    operation({
      method: "get",
      path: "/v1/runtimes",
      operationId: "listRuntimes",
      tag: "Runtimes",
      summary: "Each runtime, what serves its pods here (its real binary, or the reference runtime) and any build's progress",
      scope: "read",
      response: tools.runtimeList,
      handle: async ({ ctx }) => ({ data: await listRuntimes(ctx.db) }),
    }),
    operation({
      method: "post",
      path: "/v1/runtimes/{id}/install",
      operationId: "installRuntime",
      tag: "Runtimes",
      summary: "Start building a runtime (llama.cpp) on the platform's machine; follow it with GET /v1/runtimes",
      description:
        "Owners only: an API key acts as a member, so this needs an owner's session (`qdz login`'s token as the Bearer). 409 while a build is already running; a runtime that cannot be built here is a 400.",
      scope: "full",
      response: tools.runtimeInstall,
      errors: [409],
      handle: ({ ctx, id }) => requestInstall(ctx, services.jobs, id),
    }),
  ];
}
