import { z } from "zod";
import { createApiKey, listApiKeys, revokeApiKey } from "../../api-keys/keys";
import { apiKeyId, createApiKeyInput } from "../../api-keys/schemas";
import { accountProcedure, router, userProcedure } from "../init";

export const apiKeysRouter = router({
  // People make and revoke keys; a key never manages keys (it could outlive its maker's revocation).
  create: userProcedure.input(createApiKeyInput).mutation(({ ctx, input }) => createApiKey(ctx.account, input)),
  list: accountProcedure.query(({ ctx }) => listApiKeys(ctx.account)),
  revoke: userProcedure.input(z.object({ id: apiKeyId })).mutation(({ ctx, input }) => revokeApiKey(ctx.account, input.id)),
});
