import { z } from "zod";
import { safeString } from "../validation";

export const email = safeString().trim().toLowerCase().pipe(z.email().max(254));

// Their messages come from src/validation-messages.ts ("Password must be at least 10 characters.").
export const newPassword = safeString().min(10).max(256);

export const accountName = safeString().trim().min(1).max(80);

export const signupInput = z.object({
  email,
  password: newPassword,
  accountName: accountName.optional(),
});

export const loginInput = z.object({
  email,
  // Not newPassword: an old password shorter than today's rule must still sign in. Only ever hashed, never stored.
  password: z.string().min(1, { message: "Enter your password." }).max(256),
});

export const role = z.enum(["owner", "member"]);

export const createInviteInput = z.object({
  role: role.default("member"),
  email: email.optional(),
});

export const inviteToken = z.string().regex(/^qdzi_[0-9A-Za-z]{43}$/, { message: "This invite link is not valid." });

export type SignupInput = z.infer<typeof signupInput>;
export type LoginInput = z.infer<typeof loginInput>;
export type CreateInviteInput = z.infer<typeof createInviteInput>;
