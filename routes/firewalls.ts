import type { Services } from "../server/services";
import { attachFirewall } from "../src/firewall/attach";
import { createFirewall } from "../src/firewall/create";
import { listFirewallEvents } from "../src/firewall/events";
import { getFirewall, listFirewalls } from "../src/firewall/list";
import { deleteFirewall } from "../src/firewall/remove";
import { createFirewallInput, firewallAttachBody, firewallEventsQuery, testPromptInput, updateFirewallInput } from "../src/firewall/schemas";
import { testPrompt } from "../src/firewall/test-prompt";
import { updateFirewall } from "../src/firewall/update";
import * as fw from "./openapi/firewall-responses";
import * as out from "./openapi/responses";
import { type Operation, operation } from "./rest-operations";

type EventsPage = Awaited<ReturnType<typeof listFirewallEvents>>;
/** The verb's numeric cursor as the string every REST page carries. */
const eventPage = (page: EventsPage) => ({ data: page.events, next_cursor: page.nextCursor === null ? null : String(page.nextCursor) });

/** Pre-prompt firewalls and their attachments: the verbs tRPC's `firewalls` router calls. */
export function firewallOperations(_services: Services): Operation[] {
  return [
    operation({
      method: "get",
      path: "/v1/firewalls",
      operationId: "listFirewalls",
      tag: "Firewalls",
      summary: "The account's firewalls, newest first, each with the instances it screens",
      scope: "read",
      response: fw.firewallList,
      handle: async ({ ctx }) => ({ data: await listFirewalls(ctx) }),
    }),
    operation({
      method: "post",
      path: "/v1/firewalls",
      operationId: "createFirewall",
      tag: "Firewalls",
      summary: "Create a firewall: ordered rules that block, redact or flag prompts",
      description:
        "Rules run in order; each has an `id` (named by events and block messages), a `kind`, an `action` and the kind's `options`. A bad rule is a 400 naming it (`rules.<n>.options.pattern`).",
      scope: "full",
      body: createFirewallInput,
      response: fw.firewall,
      status: 201,
      handle: ({ ctx, body }) => createFirewall(ctx, body),
    }),
    operation({
      method: "get",
      path: "/v1/firewalls/{id}",
      operationId: "getFirewall",
      tag: "Firewalls",
      summary: "A firewall, its rules in the order they run, and the instances it screens",
      scope: "read",
      response: fw.firewallWithInstances,
      handle: ({ ctx, id }) => getFirewall(ctx, id),
    }),
    operation({
      method: "patch",
      path: "/v1/firewalls/{id}",
      operationId: "updateFirewall",
      tag: "Firewalls",
      summary: "Change a firewall's name, description, rules (all of them, in order) or whether events keep prompt text",
      description: "Instances it is attached to screen with the new rules from their next prompt.",
      scope: "full",
      body: updateFirewallInput.omit({ id: true }),
      response: fw.firewall,
      handle: ({ ctx, id, body }) => updateFirewall(ctx, { ...body, id }),
    }),
    operation({
      method: "delete",
      path: "/v1/firewalls/{id}",
      operationId: "deleteFirewall",
      tag: "Firewalls",
      summary: "Delete a firewall: the instances it screened forward prompts unscreened; its events are kept",
      scope: "full",
      response: out.deleted,
      handle: async ({ ctx, id }) => {
        await deleteFirewall(ctx, id);
        return { id, deleted: true as const };
      },
    }),
    operation({
      method: "post",
      path: "/v1/firewalls/{id}/test",
      operationId: "testFirewallPrompt",
      tag: "Firewalls",
      summary: "What the firewall does to one prompt (allowed, blocked, redacted, flagged); records nothing",
      description: "A POST so the prompt travels in the body, not in a URL; it changes nothing, so a 'read' key may call it.",
      // As tRPC's `firewalls.test` (src/auth/scopes.ts): it evaluates and records nothing.
      scope: "read",
      body: testPromptInput.omit({ firewallId: true }),
      response: fw.verdict,
      handle: ({ ctx, id, body }) => testPrompt(ctx, { firewallId: id, text: body.text }),
    }),
    operation({
      method: "get",
      path: "/v1/firewalls/{id}/events",
      operationId: "listFirewallEvents",
      tag: "Firewalls",
      summary: "The blocks and flags a firewall recorded, newest first (redactions went through and are not recorded)",
      scope: "read",
      query: firewallEventsQuery,
      response: fw.firewallEventPage,
      handle: async ({ ctx, id, query }) => eventPage(await listFirewallEvents(ctx, { firewallId: id, ...query })),
    }),
    operation({
      method: "post",
      path: "/v1/instances/{id}/firewall",
      operationId: "attachFirewall",
      tag: "Firewalls",
      summary: "Put a firewall in front of an instance, replacing the one it had: every prompt to it is screened",
      scope: "full",
      body: firewallAttachBody,
      response: fw.attachment,
      handle: ({ ctx, id, body }) => attachFirewall(ctx, { instanceId: id, firewallId: body.firewallId }),
    }),
    operation({
      method: "delete",
      path: "/v1/instances/{id}/firewall",
      operationId: "detachFirewall",
      tag: "Firewalls",
      summary: "Take the firewall away from an instance: its prompts go through unscreened",
      scope: "full",
      response: fw.attachment,
      handle: ({ ctx, id }) => attachFirewall(ctx, { instanceId: id, firewallId: null }),
    }),
    operation({
      method: "get",
      path: "/v1/instances/{id}/firewall/events",
      operationId: "listInstanceFirewallEvents",
      tag: "Firewalls",
      summary: "The blocks and flags recorded for an instance's prompts, newest first",
      scope: "read",
      query: firewallEventsQuery,
      response: fw.firewallEventPage,
      handle: async ({ ctx, id, query }) => eventPage(await listFirewallEvents(ctx, { instanceId: id, ...query })),
    }),
  ];
}
