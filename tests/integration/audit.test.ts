/**
 * The audit trail: every change an actor makes in an account is one append-only row, naming who (a person with
 * their email, a key with its prefix and scope, a schedule rule, the platform), what, about which subject and
 * what changed, without a secret; a refused change leaves none. Driven through tRPC as the web and CLI call it.
 */
import { describe, expect, test } from "bun:test";
import { asc, eq, sql } from "drizzle-orm";
import { accountUsageHourly, auditEvents, scheduleRules } from "../../db/schema";
import { listAudit } from "../../src/audit/list";
import { postEntry } from "../../src/billing/ledger";
import { noJobQueue } from "../../src/jobs/queue";
import { fireDueRules, lifecycleAction } from "../../src/schedules/fire";
import { watchSpend } from "../../src/spend/watch";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { freshDatabase } from "../support/db";
import { expectTrpcError, rejectionMessages } from "../support/errors";
import { contextOf, insertInstanceRow, newUser, type TestUser, trpc } from "../support/factories";

const compute = await startCompute();
const { db } = compute;
const api = (token: string) => trpc(db, token, { jobs: compute.jobs, providers: [compute.provider] });

/** The account's rows, oldest first, as stored. */
const trailOf = (accountId: string) => db.select().from(auditEvents).where(eq(auditEvents.accountId, accountId)).orderBy(asc(auditEvents.id));

/** The rows written while `change` ran. */
async function rowsWritten(accountId: string, change: () => Promise<unknown>) {
  const before = (await trailOf(accountId)).length;
  await change();
  return (await trailOf(accountId)).slice(before);
}

/** Exactly one row was written, and it is this one. */
async function oneRow(accountId: string, change: () => Promise<unknown>) {
  const rows = await rowsWritten(accountId, change);
  expect(rows.map((row) => row.kind)).toHaveLength(1);
  return rows[0]!;
}

const person = (user: TestUser) => ({ actorKind: "user", actorId: user.userId, actorLabel: user.email, actorScope: null, requestId: "req_test" });

describe("each change writes one row with its actor, kind, subject and changes", () => {
  test("sign-up, sign-in, keys, invites and members", async () => {
    const owner = await newUser(db);
    const [signedUp] = await trailOf(owner.accountId);
    expect(signedUp).toMatchObject({ kind: "account.signed_up", actorKind: "user", actorLabel: owner.email, subjectId: owner.userId });

    const signIn = await oneRow(owner.accountId, async () => (await trpc(db)).auth.login({ email: owner.email, password: owner.password, client: "cli" }));
    expect(signIn).toMatchObject({ ...person(owner), kind: "session.signed_in", subjectId: owner.userId });

    const caller = await api(owner.sessionToken);
    let created!: Awaited<ReturnType<typeof caller.apiKeys.create>>;
    const keyRow = await oneRow(owner.accountId, async () => (created = await caller.apiKeys.create({ name: "ci", scope: "full" })));
    expect(keyRow).toMatchObject({ ...person(owner), kind: "api_key.created", subjectId: created.key.id });
    expect(keyRow.changes).toEqual({ after: { name: "ci", prefix: created.key.prefix, scope: "full" } });
    const revoked = await oneRow(owner.accountId, () => caller.apiKeys.revoke({ id: created.key.id }));
    expect(revoked).toMatchObject({
      kind: "api_key.revoked",
      subjectId: created.key.id,
      changes: { before: { scope: "full", revoked: false }, after: { revoked: true } },
    });

    let invite!: Awaited<ReturnType<typeof caller.account.createInvite>>;
    const invited = await oneRow(owner.accountId, async () => (invite = await caller.account.createInvite({ role: "member" })));
    expect(invited).toMatchObject({ ...person(owner), kind: "member.invited", subjectId: invite.id, changes: { after: { role: "member", email: null } } });

    const member = await newUser(db);
    const joined = await oneRow(owner.accountId, async () => (await api(member.sessionToken)).account.acceptInvite({ token: invite.token }));
    expect(joined).toMatchObject({ ...person(member), kind: "member.joined", subjectId: member.userId, changes: { after: { role: "member" } } });

    const promoted = await oneRow(owner.accountId, () => caller.account.setRole({ userId: member.userId, role: "owner" }));
    expect(promoted).toMatchObject({
      kind: "member.role_changed",
      subjectId: member.userId,
      changes: { before: { email: member.email, role: "member" }, after: { role: "owner" } },
    });
    const removed = await oneRow(owner.accountId, () => caller.account.removeMember({ userId: member.userId }));
    expect(removed).toMatchObject({
      ...person(owner),
      kind: "member.removed",
      subjectId: member.userId,
      changes: { after: { member: false, revokedKeys: 0 } },
    });

    // Invited again, the member leaves on their own (their own account is still theirs to sign in to).
    const again = await caller.account.createInvite({ role: "member" });
    const memberApi = await api(member.sessionToken);
    await memberApi.account.acceptInvite({ token: again.token });
    const left = await oneRow(owner.accountId, async () => (await api(member.sessionToken)).account.leave());
    expect(left).toMatchObject({ ...person(member), kind: "member.left", subjectId: member.userId });

    const other = await caller.account.createInvite({ role: "member", email: "someone@example.com" });
    const inviteRevoked = await oneRow(owner.accountId, () => caller.account.revokeInvite({ id: other.id }));
    expect(inviteRevoked).toMatchObject({ kind: "member.invite_revoked", subjectId: other.id });

    // No secret anywhere: not the key, not the session or invite tokens, not the password.
    const everything = JSON.stringify(await trailOf(owner.accountId));
    for (const secret of [created.secret, invite.token, again.token, other.token, owner.password, owner.sessionToken, member.sessionToken]) {
      expect(everything).not.toContain(secret);
    }
  });

  test("an API key is named by its prefix and scope", async () => {
    const owner = await newUser(db);
    const { secret, key } = await (await api(owner.sessionToken)).apiKeys.create({ name: "bot", scope: "full" });
    const row = await oneRow(owner.accountId, async () => (await api(secret)).firewalls.create({ name: "guard" }));
    expect(row).toMatchObject({ kind: "firewall.created", actorKind: "api_key", actorId: key.id, actorLabel: key.prefix, actorScope: "full" });
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  test("launch, stop, start, settings and delete of an instance; top-ups credited by the platform", async () => {
    const { user, api: caller } = await compute.fundedUser();
    const [credit] = (await trailOf(user.accountId)).filter((row) => row.kind === "billing.topup_credited");
    expect(credit).toMatchObject({ actorKind: "system", actorId: null, requestId: null, changes: { after: { amountCents: 10_000, balanceCents: 10_000 } } });

    let launched!: Awaited<ReturnType<typeof caller.instances.launch>>;
    const launch = await oneRow(user.accountId, async () => (launched = await caller.instances.launch({ ...referenceLaunch, name: "audited" })));
    expect(launch).toMatchObject({ ...person(user), kind: "instance.launched", subjectId: launched.id });
    expect(launch.changes).toMatchObject({ after: { name: "audited", hfRepo: referenceLaunch.hfRepo, state: "pending" } });
    await waitFor(
      () => caller.instances.get({ id: launched.id }),
      (i) => i.state === "running",
      20_000,
      "running",
    );

    const stop = await oneRow(user.accountId, () => caller.instances.stop({ id: launched.id }));
    expect(stop).toMatchObject({ kind: "instance.stopped", subjectId: launched.id, changes: { before: { state: "running" }, after: { state: "stopping" } } });
    await waitFor(
      () => caller.instances.get({ id: launched.id }),
      (i) => i.state === "stopped",
      20_000,
      "stopped",
    );

    // A refused change writes nothing: the instance is stopped already.
    expect(await rowsWritten(user.accountId, () => expectTrpcError(caller.instances.stop({ id: launched.id }), "CONFLICT"))).toEqual([]);

    const start = await oneRow(user.accountId, () => caller.instances.start({ id: launched.id }));
    expect(start).toMatchObject({ kind: "instance.started", changes: { before: { state: "stopped" }, after: { state: "pending" } } });

    const settings = await oneRow(user.accountId, () => caller.instances.updateSettings({ id: launched.id, name: "renamed", description: "" }));
    // Only what changed: the description was empty and stays so.
    expect(settings).toMatchObject({ kind: "instance.settings_changed", changes: { before: { name: "audited" }, after: { name: "renamed" } } });

    const deleted = await oneRow(user.accountId, () => caller.instances.delete({ id: launched.id }));
    expect(deleted).toMatchObject({ kind: "instance.deleted", subjectId: launched.id, changes: { after: { deleted: true } } });

    const adjusted = await oneRow(user.accountId, () =>
      postEntry(db, { accountId: user.accountId, kind: "adjustment", amountCents: -250, reference: "adj_audit" }),
    );
    expect(adjusted).toMatchObject({
      actorKind: "system",
      kind: "billing.adjustment_posted",
      changes: { after: { amountCents: -250, reference: "adj_audit" } },
    });
  }, 60_000);

  test("firewalls, schedule rules, budgets and the webhook endpoint", async () => {
    const owner = await newUser(db);
    const caller = await api(owner.sessionToken);
    const instanceId = await insertInstanceRow(db, { accountId: owner.accountId, state: "stopped" });

    let firewall!: Awaited<ReturnType<typeof caller.firewalls.create>>;
    const created = await oneRow(owner.accountId, async () => (firewall = await caller.firewalls.create({ name: "guard" })));
    expect(created).toMatchObject({ kind: "firewall.created", subjectId: firewall.id, changes: { after: { name: "guard", rules: 0 } } });
    const updated = await oneRow(owner.accountId, () => caller.firewalls.update({ id: firewall.id, name: "guard 2" }));
    expect(updated.changes).toMatchObject({ before: { name: "guard" }, after: { name: "guard 2" } });
    const attached = await oneRow(owner.accountId, () => caller.firewalls.attach({ instanceId, firewallId: firewall.id }));
    expect(attached).toMatchObject({
      kind: "firewall.attached",
      subjectId: instanceId,
      changes: { before: { firewallId: null }, after: { firewallId: firewall.id } },
    });
    const detached = await oneRow(owner.accountId, () => caller.firewalls.attach({ instanceId, firewallId: null }));
    expect(detached).toMatchObject({ kind: "firewall.detached", changes: { after: { firewallId: null } } });
    expect(await oneRow(owner.accountId, () => caller.firewalls.delete({ id: firewall.id }))).toMatchObject({
      kind: "firewall.deleted",
      subjectId: firewall.id,
    });

    let rules!: Awaited<ReturnType<typeof caller.schedules.create>>;
    const ruleCreated = await oneRow(
      owner.accountId,
      async () => (rules = await caller.schedules.create({ instanceId, rules: [{ action: "stop", cron: "0 19 * * 1-5", timeZone: "Europe/Berlin" }] })),
    );
    expect(ruleCreated).toMatchObject({
      kind: "schedule.rule_created",
      subjectId: rules[0]!.id,
      changes: { after: { instanceId, action: "stop", cron: "0 19 * * 1-5" } },
    });
    const ruleUpdated = await oneRow(owner.accountId, () => caller.schedules.update({ id: rules[0]!.id, enabled: false }));
    expect(ruleUpdated.changes).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
    expect(await oneRow(owner.accountId, () => caller.schedules.remove({ id: rules[0]!.id }))).toMatchObject({
      kind: "schedule.rule_deleted",
      subjectId: rules[0]!.id,
    });

    const set = await oneRow(owner.accountId, () => caller.budgets.set({ monthlyCents: 5_000 }));
    expect(set).toMatchObject({
      kind: "budget.set",
      subjectId: null,
      changes: { before: { monthlyCents: null }, after: { monthlyCents: 5_000, stopRunning: false } },
    });
    const raised = await oneRow(owner.accountId, () => caller.budgets.set({ monthlyCents: 7_000 }));
    expect(raised.changes).toMatchObject({ before: { monthlyCents: 5_000 }, after: { monthlyCents: 7_000 } });
    expect(await oneRow(owner.accountId, () => caller.budgets.remove({}))).toMatchObject({
      kind: "budget.removed",
      changes: { before: { monthlyCents: 7_000 } },
    });
    // Removing a budget that is not set changes nothing, and says nothing.
    expect(await rowsWritten(owner.accountId, () => caller.budgets.remove({}))).toEqual([]);

    // The endpoint through the verb, with a resolver that answers without DNS (the router's policy resolves for real).
    const { setEndpoint, removeEndpoint } = await import("../../src/webhooks/endpoints");
    const ctx = { ...(await contextOf(db, owner)), requestId: "req_webhook" };
    let endpoint!: Awaited<ReturnType<typeof setEndpoint>>;
    const policy = { allowPrivate: true, resolve: async () => ["127.0.0.1"] };
    const endpointSet = await oneRow(owner.accountId, async () => (endpoint = await setEndpoint(ctx, { url: "http://hooks.example.test/in" }, policy)));
    expect(endpointSet).toMatchObject({
      kind: "webhook.endpoint_set",
      requestId: "req_webhook",
      changes: { after: { url: "http://hooks.example.test/in", enabled: true } },
    });
    expect(await oneRow(owner.accountId, () => caller.webhooks.rotateSecret())).toMatchObject({ kind: "webhook.secret_rotated" });
    const rotated = (await caller.webhooks.get())!.secret!;
    expect(await oneRow(owner.accountId, () => removeEndpoint(ctx))).toMatchObject({ kind: "webhook.endpoint_removed" });
    const everything = JSON.stringify(await trailOf(owner.accountId));
    expect(everything).not.toContain(endpoint.secret!);
    expect(everything).not.toContain(rotated);
  });

  test("a schedule rule's action names the rule; the spend watcher's stop names the platform", async () => {
    const owner = await newUser(db);
    const caller = await api(owner.sessionToken);
    const instanceId = await insertInstanceRow(db, { accountId: owner.accountId, state: "running" });
    const [rule] = await caller.schedules.create({ instanceId, rules: [{ action: "stop", cron: "* * * * *", timeZone: "UTC" }] });
    await db.update(scheduleRules).set({ nextRunAt: sql`now() - interval '5 seconds'` }).where(eq(scheduleRules.id, rule!.id));
    const deps = { jobs: noJobQueue, graceWindowHours: 24, minRunwayHours: 1 };
    const fired = await oneRow(owner.accountId, () => fireDueRules(db, lifecycleAction(deps), { catchUpSeconds: 300 }));
    expect(fired).toMatchObject({
      actorKind: "schedule",
      actorId: rule!.id,
      actorLabel: rule!.id,
      requestId: null,
      kind: "instance.stopped",
      subjectId: instanceId,
    });

    const other = await insertInstanceRow(db, { accountId: owner.accountId, state: "running" });
    await caller.budgets.set({ monthlyCents: 100, stopRunning: true });
    await db.insert(accountUsageHourly).values({ accountId: owner.accountId, hour: sql`date_trunc('hour', now())`, costCents: 150 });
    const watched = await oneRow(owner.accountId, () => watchSpend(db, noJobQueue, { graceWindowHours: 24 }));
    expect(watched).toMatchObject({
      actorKind: "system",
      actorId: null,
      kind: "instance.stopped",
      subjectId: other,
      changes: { after: { state: "stopping", reason: "budget" } },
    });
  });
});

describe("who sees what", () => {
  test("pages newest first without gaps or repeats, filtered by actor and kind; another account's rows never", async () => {
    const owner = await newUser(db);
    const caller = await api(owner.sessionToken);
    for (const name of ["a", "b", "c", "d", "e"]) await caller.firewalls.create({ name });
    const { secret, key } = await caller.apiKeys.create({ name: "bot", scope: "full" });
    await (await api(secret)).firewalls.create({ name: "by key" });
    const stranger = await newUser(db);
    await (await api(stranger.sessionToken)).firewalls.create({ name: "elsewhere" });

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof caller.audit.list>> = await caller.audit.list({ limit: 3, cursor });
      seen.push(...page.events.map((event) => event.id));
      cursor = page.nextCursor;
    } while (cursor);
    const all = (await trailOf(owner.accountId)).map((row) => row.id).reverse();
    expect(seen).toEqual(all);
    expect(all).toHaveLength(8); // signed up, 5 firewalls, the key, the key's firewall

    const byKey = await caller.audit.list({ actor: key.prefix });
    expect(byKey.events.map((event) => [event.kind, event.actor])).toEqual([
      ["firewall.created", { kind: "api_key", id: key.id, label: key.prefix, scope: "full" }],
    ]);
    const byEmail = await caller.audit.list({ actor: owner.email.toUpperCase(), kind: "api_key" });
    expect(byEmail.events.map((event) => event.kind)).toEqual(["api_key.created"]);
    expect((await caller.audit.list({ kind: "firewall.created" })).events).toHaveLength(6);
    expect((await caller.audit.list({ actor: stranger.email })).events).toEqual([]);
    expect(JSON.stringify(await caller.audit.list({ limit: 200 }))).not.toContain("elsewhere");
    await expectTrpcError(caller.audit.list({ cursor: "not-a-cursor" }), "BAD_REQUEST");
    await expectTrpcError(caller.audit.list({ kind: "instance.exploded" }), "BAD_REQUEST");
  });

  test("owners see everyone's rows; a member their own and their keys'; a key its maker's", async () => {
    const owner = await newUser(db);
    const ownerApi = await api(owner.sessionToken);
    const member = await newUser(db);
    const invite = await ownerApi.account.createInvite({ role: "member" });
    await (await api(member.sessionToken)).account.acceptInvite({ token: invite.token });
    // Accepting moved the member's session into the account: a caller made now acts there.
    const memberApi = await api(member.sessionToken);
    await ownerApi.firewalls.create({ name: "owner's" });
    await memberApi.firewalls.create({ name: "member's" });
    const { secret } = await memberApi.apiKeys.create({ name: "member bot", scope: "read" });
    const ownerRows = await ownerApi.audit.list({});
    expect(ownerRows.events.map((event) => event.actor.label)).toEqual([member.email, member.email, owner.email, member.email, owner.email, owner.email]);

    const memberRows = await memberApi.audit.list({});
    expect(memberRows.events.map((event) => event.kind)).toEqual(["api_key.created", "firewall.created", "member.joined"]);
    expect(memberRows.events.every((event) => event.actor.label === member.email)).toBe(true);
    expect((await memberApi.audit.actors()).map((actor) => actor.label)).toEqual([member.email]);
    // A 'read' key may read the trail, as its maker would.
    expect((await (await api(secret)).audit.list({})).events.map((event) => event.kind)).toEqual(["api_key.created", "firewall.created", "member.joined"]);
    // The same holds in the verb, whatever a caller asks for.
    const asMember = await contextOf(db, member);
    expect((await listAudit(asMember, { actor: owner.email })).events).toEqual([]);
  });
});

describe("append-only", () => {
  test("the app role may insert and read audit rows, never update, delete or truncate them", async () => {
    const { accountId } = await newUser(db);
    const [row] = await trailOf(accountId);
    for (const attempt of [
      () => db.update(auditEvents).set({ kind: "account.renamed" }).where(eq(auditEvents.id, row!.id)),
      () => db.delete(auditEvents).where(eq(auditEvents.id, row!.id)),
      () => db.execute(sql`truncate audit_events`),
    ]) {
      expect(await rejectionMessages(attempt())).toContain("permission denied for table audit_events");
    }
    expect(await trailOf(accountId)).toEqual([row!]);
  });

  test("the trigger refuses even the table's owner", async () => {
    const database = await freshDatabase();
    const { accountId } = await newUser(database.db);
    const owner = database.owner().db;
    const [row] = await owner.select().from(auditEvents).where(eq(auditEvents.accountId, accountId));
    expect(await rejectionMessages(owner.update(auditEvents).set({ subjectId: "x" }).where(eq(auditEvents.id, row!.id)))).toContain(
      "audit_events is append-only: UPDATE is not allowed",
    );
    expect(await rejectionMessages(owner.delete(auditEvents).where(eq(auditEvents.id, row!.id)))).toContain("append-only: DELETE");
    expect(await rejectionMessages(owner.execute(sql`truncate audit_events cascade`))).toContain("append-only: TRUNCATE");
  });
});
