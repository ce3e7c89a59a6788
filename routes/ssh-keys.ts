import type { Services } from "../server/services";
import { addSshKey, listSshKeys, removeSshKey } from "../src/ssh-keys/keys";
import { addSshKeyInput } from "../src/ssh-keys/schemas";
import * as tools from "./openapi/account-tools-responses";
import * as out from "./openapi/responses";
import { type Operation, operation } from "./rest-operations";

/** The account's SSH public keys, written to every new pod's authorized_keys: the verbs tRPC's `sshKeys` router calls. */
export function sshKeyOperations(_services: Services): Operation[] {
  return [
    operation({
      method: "get",
      path: "/v1/ssh-keys",
      operationId: "listSshKeys",
      tag: "SSH keys",
      summary: "The account's SSH public keys, newest first",
      scope: "read",
      response: tools.sshKeyList,
      handle: async ({ ctx }) => ({ data: await listSshKeys(ctx) }),
    }),
    operation({
      method: "post",
      path: "/v1/ssh-keys",
      operationId: "addSshKey",
      tag: "SSH keys",
      summary: "Add an SSH public key (OpenSSH form, as in `~/.ssh/id_ed25519.pub`); new pods get it",
      description: "A private key, or a key already added, is refused naming `publicKey` (400, 409).",
      scope: "full",
      body: addSshKeyInput,
      response: tools.sshKey,
      status: 201,
      errors: [409],
      handle: ({ ctx, body }) => addSshKey(ctx, body),
    }),
    operation({
      method: "delete",
      path: "/v1/ssh-keys/{id}",
      operationId: "removeSshKey",
      tag: "SSH keys",
      summary: "Remove an SSH key (pods that already have it keep it)",
      scope: "full",
      response: out.deleted,
      handle: async ({ ctx, id }) => {
        await removeSshKey(ctx, id);
        return { id, deleted: true as const };
      },
    }),
  ];
}
