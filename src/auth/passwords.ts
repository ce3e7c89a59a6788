const algorithm = { algorithm: "argon2id" as const, memoryCost: 19456, timeCost: 2 };

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, algorithm);
}

// Verified when the email is unknown, so a wrong email costs as much time as a wrong password.
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  if (hash === undefined) {
    decoyHash ??= hashPassword("decoy password for unknown emails");
    await Bun.password.verify(password, await decoyHash);
    return false;
  }
  return Bun.password.verify(password, hash);
}
