import { Elysia } from "elysia";
import type { Services } from "../server/services";
import { accountOperations } from "./account-rest";
import { auditOperations } from "./audit";
import { firewallOperations } from "./firewalls";
import { instanceOperations } from "./instances";
import { billingOperations } from "./openapi/billing";
import { openApiDocument } from "./openapi/document";
import { mountOperations, type Operation } from "./rest-operations";
import { runtimeOperations } from "./runtimes";
import { scheduleOperations } from "./schedules";
import { spendOperations } from "./spend";
import { sshKeyOperations } from "./ssh-keys";

/** Every operation of the REST surface: those mounted here and the billing routes mounted by routes/billing.ts. */
export function restOperations(services: Services): Operation[] {
  return [
    ...instanceOperations(services),
    ...scheduleOperations(services),
    ...accountOperations(services),
    ...firewallOperations(services),
    ...spendOperations(services),
    ...sshKeyOperations(services),
    ...runtimeOperations(services),
    ...auditOperations(services),
    ...billingOperations(),
  ];
}

/** The REST API for scripts, and its OpenAPI 3.1 document at GET /openapi.json (public: it holds no account data). */
export function restApiRoutes(services: Services) {
  const operations = restOperations(services);
  let document: string | undefined;
  return new Elysia({ name: "rest-api" }).use(mountOperations("rest-operations", services, operations)).get("/openapi.json", () => {
    document ??= JSON.stringify(openApiDocument(operations, services.config.PUBLIC_URL));
    return new Response(document, {
      headers: { "content-type": "application/json", "cache-control": "public, max-age=300", "access-control-allow-origin": "*" },
    });
  });
}
