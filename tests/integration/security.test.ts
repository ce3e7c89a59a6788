/**
 * Tenant isolation, procedure by procedure: another account's id answers
 * exactly like an id that does not exist, and changes nothing.
 */
import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import sshpk from "sshpk";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { newUser, trpc } from "../support/factories";

const { db } = await freshDatabase();

const alice = await newUser(db);
const bob = await newUser(db);
const asAlice = await trpc(db, alice.sessionToken);
const asBob = await trpc(db, bob.sessionToken);

const aliceKey = (await asAlice.apiKeys.create({ name: "alice's" })).key;
const { publicKey } = generateKeyPairSync("ed25519");
const aliceSsh = await asAlice.sshKeys.add({
  publicKey: sshpk.parseKey(publicKey.export({ type: "spki", format: "pem" }).toString(), "pem").toString("ssh"),
  name: "alice's",
});
const aliceInvite = await asAlice.account.createInvite({ role: "member" });

/** Calls `attempt` with another account's id and with an id that does not exist; both must answer alike. */
async function sameAsMissing(attempt: (id: string) => Promise<unknown>, foreignId: string, missingId: string) {
  const foreign = await expectTrpcError(attempt(foreignId), "NOT_FOUND");
  const missing = await expectTrpcError(attempt(missingId), "NOT_FOUND");
  expect(foreign.message.replace(foreignId, "<id>")).toBe(missing.message.replace(missingId, "<id>"));
}

describe("another account's ids answer as missing", () => {
  test("apiKeys.revoke, and alice's key stays active", async () => {
    await sameAsMissing((id) => asBob.apiKeys.revoke({ id }), aliceKey.id, "key_00000000000000000000");
    expect((await asAlice.apiKeys.list())[0]!.revokedAt).toBeNull();
  });

  test("apiKeys.list shows only the caller's keys", async () => {
    expect(await asBob.apiKeys.list()).toEqual([]);
  });

  test("sshKeys.remove, and alice's key stays", async () => {
    await sameAsMissing((id) => asBob.sshKeys.remove({ id }), aliceSsh.id, "ssh_00000000000000000000");
    expect((await asAlice.sshKeys.list()).map((k) => k.id)).toEqual([aliceSsh.id]);
    expect(await asBob.sshKeys.list()).toEqual([]);
  });

  test("account.revokeInvite, and alice's invite stays pending", async () => {
    await sameAsMissing((id) => asBob.account.revokeInvite({ id }), aliceInvite.id, "inv_00000000000000000000");
    expect((await asAlice.account.invites()).map((i) => i.id)).toEqual([aliceInvite.id]);
  });

  test("account.removeMember and setRole on a member of another account", async () => {
    await sameAsMissing((userId) => asBob.account.removeMember({ userId }), alice.userId, "usr_00000000000000000000");
    await sameAsMissing((userId) => asBob.account.setRole({ userId, role: "member" }), alice.userId, "usr_00000000000000000000");
    expect(await asAlice.account.members()).toMatchObject([{ userId: alice.userId, role: "owner" }]);
  });

  test("auth.switchAccount into an account one does not belong to", async () => {
    await sameAsMissing((accountId) => asBob.auth.switchAccount({ accountId }), alice.accountId, "acct_00000000000000000000");
    expect((await asBob.auth.me())!.accountId).toBe(bob.accountId);
  });

  test("account.members and account.get show only the caller's account", async () => {
    expect((await asBob.account.members()).map((m) => m.userId)).toEqual([bob.userId]);
    expect((await asBob.account.get()).id).toBe(bob.accountId);
  });
});

describe("every account procedure needs a caller", () => {
  test.each([
    ["apiKeys.list", (api: any) => api.apiKeys.list()],
    ["apiKeys.create", (api: any) => api.apiKeys.create({ name: "x" })],
    ["sshKeys.list", (api: any) => api.sshKeys.list()],
    ["account.get", (api: any) => api.account.get()],
    ["account.members", (api: any) => api.account.members()],
    ["account.createInvite", (api: any) => api.account.createInvite({ role: "member" })],
    ["account.acceptInvite", (api: any) => api.account.acceptInvite({ token: aliceInvite.token })],
  ])("%s answers UNAUTHORIZED when signed out", async (_, call) => {
    await expectTrpcError(call(await trpc(db)), "UNAUTHORIZED");
  });
});
