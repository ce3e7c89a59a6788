import { generateKeyPairSync, type KeyObject } from "node:crypto";
import sshpk from "sshpk";

/** A fresh public key as `ssh-keygen` would print it (algorithm and base64, no comment). */
export function openSshLine(type: "ed25519" | "rsa" | "ec" = "ed25519", options: object = {}): string {
  const { publicKey } = generateKeyPairSync(type as "ed25519", options as never) as unknown as { publicKey: KeyObject };
  return sshpk
    .parseKey(publicKey.export({ type: "spki", format: "pem" }).toString(), "pem")
    .toString("ssh")
    .split(" ")
    .slice(0, 2)
    .join(" ");
}
