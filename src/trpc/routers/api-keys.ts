import { z } from "zod";
import { createApiKey, listApiKeys, revokeApiKey } from "../../api-keys/keys";
import { apiKeyId, createApiKeyInput } from "../../api-keys/schemas";
import { accountProcedure, router } from "../init";

export const apiKeysRouter = router({
  create: accountProcedure.input(createApiKeyInput).mutation(({ ctx, input }) => createApiKey(ctx.account, input)),
  list: accountProcedure.query(({ ctx }) => listApiKeys(ctx.account)),
  revoke: accountProcedure.input(z.object({ id: apiKeyId })).mutation(({ ctx, input }) => revokeApiKey(ctx.account, input.id)),
});
