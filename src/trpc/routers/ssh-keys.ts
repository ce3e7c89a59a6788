import { addSshKey, listSshKeys, removeSshKey } from "../../ssh-keys/keys";
import { addSshKeyInput, sshKeyIdInput } from "../../ssh-keys/schemas";
import { accountProcedure, router } from "../init";

export const sshKeysRouter = router({
  add: accountProcedure.input(addSshKeyInput).mutation(({ ctx, input }) => addSshKey(ctx.account, input)),
  list: accountProcedure.query(({ ctx }) => listSshKeys(ctx.account)),
  remove: accountProcedure.input(sshKeyIdInput).mutation(async ({ ctx, input }) => {
    await removeSshKey(ctx.account, input.id);
    return { ok: true };
  }),
});
