import { z } from "zod";
import { issueMessage } from "./validation-messages";

// Every schema's issues in product words unless the schema wrote its own (src/validation-messages.ts).
// Here because every input schema imports this module, so no process parses input before it is set.
z.config({ customError: issueMessage });

/**
 * The one string schema for untrusted input. PostgreSQL cannot store NUL in
 * text, and a lone UTF-16 surrogate cannot be encoded as UTF-8: either would
 * reach the database and fail there as an internal error. Refusing them here
 * answers 400 naming the field instead. Chain `.trim()`, `.min()`, `.max()`,
 * `.regex()` on it as on `z.string()`.
 */
export function safeString(message = "must not contain NUL characters or unpaired surrogates") {
  return z.string().refine((value) => !value.includes("\0") && value.isWellFormed(), { message });
}
