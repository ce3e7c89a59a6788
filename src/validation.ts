import { z } from "zod";

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
