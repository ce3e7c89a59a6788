import { z } from "zod";
import { API_KEY_SCOPES } from "../auth/scopes";
import { safeString } from "../validation";

export const createApiKeyInput = z.object({
  name: safeString().trim().min(1, { message: "Give the key a name, such as where it is used." }).max(80),
  // The narrowest by default: a key pasted into an app can then only run inference.
  scope: z.enum(API_KEY_SCOPES, { message: `Choose one of ${API_KEY_SCOPES.map((s) => `'${s}'`).join(", ")}.` }).default("inference"),
});

export const apiKeyId = z.string().regex(/^key_[0-9A-Za-z]{20}$/, { message: "Not an API key id." });

/** What callers pass: the scope may be left out (the verb parses, so the default lives here only). */
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;
