import { describe, expect, test } from "bun:test";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { newUser, trpc } from "../support/factories";
import { openSshLine } from "../support/ssh-keys";

const { db } = await freshDatabase();

describe("SSH keys", () => {
  test("a valid key is added under its comment, with its fingerprint, and removed", async () => {
    const api = await trpc(db, (await newUser(db)).sessionToken);
    const line = openSshLine();
    const added = await api.sshKeys.add({ publicKey: `${line} ada@laptop` });
    expect(added).toMatchObject({ name: "ada@laptop", algorithm: "ssh-ed25519", publicKey: line });
    expect(added.fingerprint).toMatch(/^SHA256:/);
    expect((await api.sshKeys.list()).map((k) => k.id)).toEqual([added.id]);
    await api.sshKeys.remove({ id: added.id });
    expect(await api.sshKeys.list()).toEqual([]);
  });

  test("a bad key is refused with a clear message and nothing is stored", async () => {
    const api = await trpc(db, (await newUser(db)).sessionToken);
    const error = await expectTrpcError(api.sshKeys.add({ publicKey: "ssh-ed25519 not-base64!" }), "BAD_REQUEST");
    expect(error.message).toContain("not a valid SSH public key");
    expect(await api.sshKeys.list()).toEqual([]);
  });

  test("the same key twice in one account is a conflict naming its fingerprint", async () => {
    const api = await trpc(db, (await newUser(db)).sessionToken);
    const line = openSshLine();
    const first = await api.sshKeys.add({ publicKey: line, name: "first" });
    const error = await expectTrpcError(api.sshKeys.add({ publicKey: `${line} other comment` }), "CONFLICT");
    expect(error.message).toContain(first.fingerprint);
  });
});
