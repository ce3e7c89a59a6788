import { z } from "zod";
import { addSshKey, listSshKeys, removeSshKey } from "../../ssh-keys/keys";
import { addSshKeyInput } from "../../ssh-keys/schemas";
import { safeString } from "../../validation";
import { accountProcedure, router } from "../init";

export const sshKeysRouter = router({
  add: accountProcedure.input(addSshKeyInput).mutation(({ ctx, input }) => addSshKey(ctx.account, input)),
  list: accountProcedure.query(({ ctx }) => listSshKeys(ctx.account)),
  remove: accountProcedure.input(z.object({ id: safeString().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    await removeSshKey(ctx.account, input.id);
    return { ok: true };
  }),
});
