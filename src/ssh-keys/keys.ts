import { and, desc, eq } from "drizzle-orm";
import { sshKeys } from "../../db/schema";
import type { AccountContext } from "../context";
import { ConflictError, NotFoundError } from "../errors";
import { newId } from "../ids";
import { isUniqueViolation } from "../platform/pg-errors";
import { parseSshPublicKey } from "./parse";
import type { AddSshKeyInput } from "./schemas";

/** SSH keys of the account: written to every new pod's authorized_keys at first boot. */
export async function addSshKey(ctx: AccountContext, input: AddSshKeyInput) {
  const parsed = parseSshPublicKey(input.publicKey);
  try {
    const [row] = await ctx.db
      .insert(sshKeys)
      .values({
        id: newId("sshKey"),
        accountId: ctx.accountId,
        name: input.name || parsed.comment || `${parsed.algorithm} key`,
        algorithm: parsed.algorithm,
        publicKey: parsed.publicKey,
        fingerprint: parsed.fingerprint,
      })
      .returning();
    return row!;
  } catch (error) {
    if (isUniqueViolation(error, "ssh_keys_account_fingerprint_key")) {
      throw new ConflictError(`This key (${parsed.fingerprint}) is already added.`, "publicKey");
    }
    throw error;
  }
}

export async function listSshKeys(ctx: AccountContext) {
  return ctx.db.select().from(sshKeys).where(eq(sshKeys.accountId, ctx.accountId)).orderBy(desc(sshKeys.createdAt));
}

export async function removeSshKey(ctx: AccountContext, keyId: string) {
  const removed = await ctx.db
    .delete(sshKeys)
    .where(and(eq(sshKeys.id, keyId), eq(sshKeys.accountId, ctx.accountId)))
    .returning({ id: sshKeys.id });
  if (removed.length === 0) throw new NotFoundError("SSH key", keyId);
}
