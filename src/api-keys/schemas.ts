import { z } from "zod";

export const createApiKeyInput = z.object({
  name: z.string().trim().min(1, { message: "Give the key a name, such as where it is used." }).max(80),
});

export const apiKeyId = z.string().regex(/^key_[0-9A-Za-z]{20}$/, { message: "Not an API key id." });

export type CreateApiKeyInput = z.infer<typeof createApiKeyInput>;
