import sshpk from "sshpk";
import { InvalidInputError } from "../errors";

export interface ParsedSshKey {
  algorithm: string;
  /** "algorithm base64" without the comment, as written into authorized_keys. */
  publicKey: string;
  fingerprint: string;
  comment: string | null;
  bits: number;
}

const MIN_RSA_BITS = 2048;

/** Validates an OpenSSH public key line (`ssh-ed25519 AAAA… comment`) with sshpk. */
export function parseSshPublicKey(text: string): ParsedSshKey {
  const line = text.trim();
  if (/PRIVATE KEY/.test(line)) {
    throw new InvalidInputError("This is a private key. Paste the public key instead (the .pub file).", "publicKey");
  }
  if (line.includes("\n")) {
    throw new InvalidInputError("Paste one public key, on one line.", "publicKey");
  }
  let key: sshpk.Key;
  try {
    key = sshpk.parseKey(line, "ssh");
  } catch {
    throw new InvalidInputError("This is not a valid SSH public key. Expected a line like 'ssh-ed25519 AAAAC3Nz… you@laptop'.", "publicKey");
  }
  if (key.type === "rsa" && key.size < MIN_RSA_BITS) {
    throw new InvalidInputError(`RSA keys need at least ${MIN_RSA_BITS} bits; this one has ${key.size}.`, "publicKey");
  }
  if (!["ed25519", "rsa", "ecdsa"].includes(key.type)) {
    throw new InvalidInputError(`${key.type.toUpperCase()} keys are not accepted. Use ed25519, RSA or ECDSA.`, "publicKey");
  }
  const [algorithm, body] = key.toString("ssh").split(" ");
  const comment = line.split(/\s+/).slice(2).join(" ").trim();
  return {
    algorithm: algorithm!,
    publicKey: `${algorithm} ${body}`,
    fingerprint: key.fingerprint("sha256").toString(),
    comment: comment || null,
    bits: key.size,
  };
}
