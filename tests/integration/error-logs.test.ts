/** An unexpected error on any surface is logged once, as a structured line with the request id its client was shown. */
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { createApp } from "../../server/app";
import { log } from "../../src/platform/log";
import { freshDatabase } from "../support/db";
import { testConfig } from "../support/factories";

// A database that is gone: every query fails with the driver's own error, as an outage would.
const database = await freshDatabase({ closeAfterAll: false });
await database.close();
const app = createApp({ db: database.db, config: testConfig });
const secret = `qdz_${"x".repeat(43)}`;
const logged = spyOn(log, "error").mockImplementation(() => {});
afterEach(() => logged.mockClear());

describe("unexpected errors are logged with the request id", () => {
  for (const [surface, path, init] of [
    ["tRPC, resolving the caller", "/trpc/apiKeys.list", {}],
    [
      "tRPC, in a procedure",
      "/trpc/auth.login",
      { method: "POST", body: JSON.stringify({ email: "a@example.com", password: "0123456789" }), headers: { origin: "http://localhost:3000" } },
    ],
    ["REST", "/billing/balance", {}],
    ["/v1", "/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "m", messages: [] }) }],
  ] as const) {
    test(surface, async () => {
      // The procedure's call goes without a credential: the database is reached inside it, not before.
      const headers: Record<string, string> = { "content-type": "application/json", ...("headers" in init ? init.headers : {}) };
      if (surface !== "tRPC, in a procedure") headers.authorization = `Bearer ${secret}`;
      const response = await app.handle(new Request(`http://localhost:3000${path}`, { ...init, headers }));
      expect(response.status).toBe(500);
      const requestId = response.headers.get("x-request-id");
      expect(requestId).toMatch(/^req_/);
      expect(await response.text()).not.toContain("CONNECTION");
      expect(logged).toHaveBeenCalledTimes(1);
      const [fields] = logged.mock.calls[0] as unknown as [{ err: unknown; requestId: string }];
      expect(fields.requestId).toBe(requestId!);
      expect(fields.err).toBeInstanceOf(Error);
    });
  }
});
