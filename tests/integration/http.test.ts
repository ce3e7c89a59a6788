/** The api over HTTP: CSRF rules, request ids, and health endpoints. */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import superjson from "superjson";
import { createApp } from "../../server/app";
import { freshDatabase } from "../support/db";
import { newUser, testConfig } from "../support/factories";

const { db } = await freshDatabase();
const app = createApp({ db, config: testConfig });
const site = "http://localhost:3000";

/** A tRPC call as the clients send it: the input as plain JSON (answers come in superjson's envelope). */
function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const payload = JSON.stringify(body);
  return app.handle(new Request(`${site}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: payload }));
}

/** What a tRPC response answered, out of superjson's envelope. */
const dataOf = async (response: Response) => superjson.deserialize((await response.json()).result.data);
const errorOf = async (response: Response) => superjson.deserialize<{ message: string; data: Record<string, unknown> }>((await response.json()).error);

describe("CSRF", () => {
  test("a cookie-authenticated mutation from the site itself goes through", async () => {
    const user = await newUser(db);
    const response = await post("/trpc/apiKeys.create", { name: "x" }, { cookie: `qdz_session=${user.sessionToken}`, origin: site });
    expect(response.status).toBe(200);
  });

  test("a cookie-authenticated mutation from another site is refused, and nothing is created", async () => {
    const user = await newUser(db);
    const cookie = `qdz_session=${user.sessionToken}`;
    const response = await post("/trpc/apiKeys.create", { name: "evil" }, { cookie, origin: "https://evil.example" });
    expect(response.status).toBe(403);
    expect((await errorOf(response)).message).toBe("Cross-site request refused.");
    const list = await app.handle(new Request(`${site}/trpc/apiKeys.list`, { headers: { cookie } }));
    expect(await dataOf(list)).toEqual([]);
  });

  test("a cookie-authenticated mutation without Origin is refused", async () => {
    const user = await newUser(db);
    const response = await post("/trpc/apiKeys.create", { name: "x" }, { cookie: `qdz_session=${user.sessionToken}` });
    expect(response.status).toBe(403);
  });

  test("sign-in from another site is refused (login CSRF)", async () => {
    const user = await newUser(db);
    const response = await post("/trpc/auth.login", { email: user.email, password: user.password }, { origin: "https://evil.example" });
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  test("bearer calls need no Origin: they carry no ambient credential", async () => {
    const user = await newUser(db);
    const response = await post("/trpc/apiKeys.create", { name: "cli" }, { authorization: `Bearer ${user.sessionToken}` });
    expect(response.status).toBe(200);
  });
});

describe("errors over HTTP", () => {
  test("carry a request id, the field, and a readable message", async () => {
    const response = await post("/trpc/auth.signup", { email: "nope", password: "0123456789" }, { origin: site });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    const error = await errorOf(response);
    expect(error.message).toBe("Email must be a valid email address.");
    expect(error.data.fieldErrors).toEqual({ email: ["Email must be a valid email address."] });
    expect(error.data.requestId).toBe(response.headers.get("x-request-id"));
  });

  test("malformed JSON is a 400, not a crash", async () => {
    const response = await app.handle(
      new Request(`${site}/trpc/auth.signup`, { method: "POST", headers: { "content-type": "application/json", origin: site }, body: "{not json" }),
    );
    expect(response.status).toBe(400);
  });

  test("a bad bearer credential is a 401", async () => {
    const response = await app.handle(new Request(`${site}/trpc/apiKeys.list`, { headers: { authorization: "Bearer qdz_forged" } }));
    expect(response.status).toBe(401);
  });
});

describe("health", () => {
  test("/healthz answers while the process is up", async () => {
    const response = await app.handle(new Request(`${site}/healthz`));
    expect(await response.json()).toEqual({ status: "ok" });
  });

  test("/readyz is ready when the database is reachable and migrated", async () => {
    const response = await app.handle(new Request(`${site}/readyz`));
    expect(response.status).toBe(200);
    expect((await response.json()).status).toBe("ready");
  });

  test("/readyz is 503 while migrations are missing", async () => {
    const other = await freshDatabase();
    // The app role may only read the migrations table: the owner empties it.
    await other.owner().db.execute(sql`delete from drizzle.__drizzle_migrations`);
    const response = await createApp({ db: other.db, config: testConfig }).handle(new Request(`${site}/readyz`));
    expect(response.status).toBe(503);
    expect((await response.json()).status).toBe("migrating");
  });

  test("/readyz is 503 when the database is unreachable", async () => {
    const other = await freshDatabase();
    await other.close();
    const response = await createApp({ db: other.db, config: testConfig }).handle(new Request(`${site}/readyz`));
    expect(response.status).toBe(503);
    expect((await response.json()).database).toBe("unreachable");
  });
});
