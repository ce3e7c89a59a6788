import { sql } from "drizzle-orm";
import { bigserial, index, pgEnum, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, prefixedId, timestamptz } from "./columns";

export const memberRole = pgEnum("member_role", ["owner", "member"]);

/** A billing entity: one balance, many members, and everything they launch. */
export const accounts = pgTable("accounts", {
  id: prefixedId(),
  name: text("name").notNull(),
  ...createdAt,
});

export const users = pgTable(
  "users",
  {
    id: prefixedId(),
    /** Stored lower-cased, so sign-in and the unique index ignore case. */
    email: text("email").notNull(),
    /** argon2id in PHC format, from Bun.password. */
    passwordHash: text("password_hash").notNull(),
    ...createdAt,
  },
  (t) => [uniqueIndex("users_email_key").on(t.email)],
);

export const memberships = pgTable(
  "memberships",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: memberRole("role").notNull(),
    ...createdAt,
  },
  (t) => [primaryKey({ name: "memberships_pkey", columns: [t.accountId, t.userId] }), index("memberships_user_idx").on(t.userId)],
);

export const sessions = pgTable(
  "sessions",
  {
    id: prefixedId(),
    /** SHA-256 of the cookie's token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The account this session acts in; a user may belong to several. */
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    ...createdAt,
    expiresAt: timestamptz("expires_at").notNull(),
  },
  (t) => [uniqueIndex("sessions_token_hash_key").on(t.tokenHash), index("sessions_user_idx").on(t.userId)],
);

export const invites = pgTable(
  "invites",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    role: memberRole("role").notNull(),
    /** Optional: a note of who the owner meant it for; any signed-in user holding the link may accept. */
    email: text("email"),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    ...createdAt,
    expiresAt: timestamptz("expires_at").notNull(),
    acceptedAt: timestamptz("accepted_at"),
    acceptedBy: text("accepted_by").references(() => users.id, { onDelete: "set null" }),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [uniqueIndex("invites_token_hash_key").on(t.tokenHash), index("invites_account_idx").on(t.accountId)],
);

/**
 * Sign-in attempts that did not (yet) succeed, counted per email and per IP to
 * slow down password guessing. A row is written before the password is checked
 * (so parallel guesses count) and removed when that attempt succeeds.
 */
export const loginFailures = pgTable(
  "login_failures",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    email: text("email").notNull(),
    ip: text("ip").notNull(),
    at: timestamptz("at").notNull().default(sql`now()`),
  },
  (t) => [index("login_failures_email_at_idx").on(t.email, t.at), index("login_failures_ip_at_idx").on(t.ip, t.at)],
);

/**
 * Platform operators granted in the database: today only the first person to sign up on a fresh install
 * (no users yet, and OPERATOR_EMAILS unset). Operators named by OPERATOR_EMAILS are config, not rows. A
 * platform-wide role, apart from account roles: it grants no membership in any account.
 */
export const operators = pgTable("operators", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** Why this person is an operator: `first_user` (the first sign-up of a fresh install). */
  grantedBy: text("granted_by").notNull(),
  ...createdAt,
});

/** Sign-ups per client address, so one address cannot mint accounts in bulk. */
export const signupAttempts = pgTable(
  "signup_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ip: text("ip").notNull(),
    at: timestamptz("at").notNull().default(sql`now()`),
  },
  (t) => [index("signup_attempts_ip_at_idx").on(t.ip, t.at)],
);
