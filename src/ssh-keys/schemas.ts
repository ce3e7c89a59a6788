import { z } from "zod";
import { safeString } from "../validation";

export const addSshKeyInput = z.object({
  publicKey: safeString().min(1, { message: "Paste a public key." }).max(16_384),
  /** Defaults to the key's comment. */
  name: safeString().trim().max(80).optional(),
});

/** A key named by its id (remove). */
export const sshKeyIdInput = z.object({ id: safeString().min(1).max(64) });

export type AddSshKeyInput = z.infer<typeof addSshKeyInput>;
