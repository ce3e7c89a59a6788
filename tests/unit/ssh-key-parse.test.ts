import { describe, expect, test } from "bun:test";
import { parseSshPublicKey } from "../../src/ssh-keys/parse";
import { openSshLine } from "../support/ssh-keys";

describe("parseSshPublicKey", () => {
  test("accepts ed25519 with its comment and fingerprint", () => {
    const line = openSshLine("ed25519");
    const key = parseSshPublicKey(`  ${line} ada@laptop \n`);
    expect(key.algorithm).toBe("ssh-ed25519");
    expect(key.publicKey).toBe(line);
    expect(key.comment).toBe("ada@laptop");
    expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  test("accepts RSA of 2048 bits or more and ECDSA", () => {
    expect(parseSshPublicKey(openSshLine("rsa", { modulusLength: 2048 })).algorithm).toBe("ssh-rsa");
    expect(parseSshPublicKey(openSshLine("ec", { namedCurve: "P-256" })).algorithm).toBe("ecdsa-sha2-nistp256");
    expect(parseSshPublicKey(openSshLine("ec", { namedCurve: "P-384" })).algorithm).toBe("ecdsa-sha2-nistp384");
  });

  test("refuses short RSA keys, naming the size", () => {
    expect(() => parseSshPublicKey(openSshLine("rsa", { modulusLength: 1024 }))).toThrow("at least 2048 bits; this one has 1024");
  });

  test("refuses a private key with a hint to paste the .pub file", () => {
    expect(() => parseSshPublicKey("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----")).toThrow(
      "This is a private key",
    );
  });

  test.each([
    ["garbage", "hello world"],
    ["truncated base64", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1I"],
    ["a type that does not match the body", openSshLine("ed25519").replace("ssh-ed25519", "ssh-rsa")],
    ["two keys", `${openSshLine("ed25519")}\n${openSshLine("ed25519")}`],
  ])("refuses %s with a clear message on the publicKey field", (_, text) => {
    try {
      parseSshPublicKey(text);
      throw new Error("accepted");
    } catch (error: any) {
      expect(error.code).toBe("INVALID_INPUT");
      expect(error.field).toBe("publicKey");
    }
  });
});
