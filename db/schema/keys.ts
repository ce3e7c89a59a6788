import { bigint, index, pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { accounts, users } from "./accounts";
import { createdAt, prefixedId, timestamptz } from "./columns";

/**
 * What a key may do: `inference` only /v1; `read` read-only procedures and REST plus /v1;
 * `full` everything a member may do except managing keys and members, which needs a person.
 */
export const apiKeyScope = pgEnum("api_key_scope", ["inference", "read", "full"]);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The first characters of the key (`qdz_Ab12…`), shown so people can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key; the key is shown once and never stored. */
    secretHash: text("secret_hash").notNull(),
    scope: apiKeyScope("scope").notNull().default("inference"),
    /** The person who made the key; removing them from the account revokes it. */
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    ...createdAt,
    /** Written in batches by the api, so it may lag real use by a few seconds. */
    lastUsedAt: timestamptz("last_used_at"),
    /** Requests made with the key (/v1, tRPC, REST), added in the same batches as `lastUsedAt`. */
    requestCount: bigint("request_count", { mode: "number" }).notNull().default(0),
    /** Revoked keys stay listed for the audit trail; they never authenticate again. */
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_secret_hash_key").on(t.secretHash), index("api_keys_account_idx").on(t.accountId)],
);

export const sshKeys = pgTable(
  "ssh_keys",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, … */
    algorithm: text("algorithm").notNull(),
    /** The key in OpenSSH `authorized_keys` form, normalised to "algorithm base64 name". */
    publicKey: text("public_key").notNull(),
    /** `SHA256:…`, as `ssh-keygen -l` prints it. */
    fingerprint: text("fingerprint").notNull(),
    ...createdAt,
  },
  (t) => [uniqueIndex("ssh_keys_account_fingerprint_key").on(t.accountId, t.fingerprint)],
);
