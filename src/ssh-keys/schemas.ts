import { z } from "zod";

export const addSshKeyInput = z.object({
  publicKey: z.string().min(1, { message: "Paste a public key." }).max(16_384),
  /** Defaults to the key's comment. */
  name: z.string().trim().max(80).optional(),
});

export type AddSshKeyInput = z.infer<typeof addSshKeyInput>;
