/** The logger: JSON lines with the request id as a field, and no secret in any of them. */
import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { CENSOR, createLogger } from "../../src/platform/log";

/** A logger writing JSON into memory, and the lines it wrote, parsed. */
function capture() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ destination, pretty: false, level: "debug" });
  const raw = () => chunks.join("");
  const lines = () =>
    raw()
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, raw, lines };
}

const apiKey = `qdz_${"A1b2C3d4".repeat(5)}xyz`;
const sessionToken = `qdzs_${"Z9y8X7w6".repeat(5)}abc`;

describe("redaction", () => {
  test("an Authorization header, a cookie and a set-cookie are censored in a request's headers, logged alone or as a field", () => {
    const { logger, raw, lines } = capture();
    const headers = { authorization: `Bearer ${apiKey}`, cookie: `qdz_session=${sessionToken}`, "set-cookie": "s=1", accept: "application/json" };
    logger.info({ req: { method: "POST", headers } }, "request");
    logger.info({ headers }, "headers");
    expect(raw()).not.toContain(apiKey);
    expect(raw()).not.toContain(sessionToken);
    const censored = { authorization: CENSOR, cookie: CENSOR, "set-cookie": CENSOR, accept: "application/json" };
    const [request, alone] = lines();
    expect(request!.req).toEqual({ method: "POST", headers: censored });
    expect(alone!.headers).toEqual(censored);
  });

  test("token, password, api key and agent token fields are censored at the top and below", () => {
    const { logger, raw, lines } = capture();
    logger.warn({ token: "t-secret", password: "hunter22", run: { agentToken: "qdza_x", apiKey: "k-secret" }, instanceId: "inst_1" }, "fields");
    for (const secret of ["t-secret", "hunter22", "qdza_x", "k-secret"]) expect(raw()).not.toContain(secret);
    expect(lines()[0]).toMatchObject({ token: CENSOR, password: CENSOR, run: { agentToken: CENSOR, apiKey: CENSOR }, instanceId: "inst_1" });
  });

  test("a secret inside a message or an error's message and stack is censored; a failed query's parameters too", () => {
    const { logger, raw, lines } = capture();
    logger.error(`upstream echoed ${apiKey}`);
    const failed = new DrizzleQueryError("select * from sessions where token_hash = $1", ["hash-of-a-session-token"], new Error("connection reset"));
    logger.error({ err: failed, requestId: "req_q" }, "query failed");
    logger.error({ err: new Error(`bad key ${sessionToken}`) }, "error");
    expect(raw()).not.toContain(apiKey.slice(4));
    expect(raw()).not.toContain(sessionToken.slice(5));
    expect(raw()).not.toContain("hash-of-a-session-token");
    const [message, query, error] = lines();
    expect(message!.msg).toBe(`upstream echoed qdz_${CENSOR}`);
    expect(query!.err).toMatchObject({
      type: "DrizzleQueryError",
      message: `Failed query: select * from sessions where token_hash = $1\nparams: ${CENSOR}`,
      query: "select * from sessions where token_hash = $1",
      cause: { type: "Error", message: "connection reset" },
    });
    expect((error!.err as { stack: string }).stack).toContain(`qdzs_${CENSOR}`);
  });

  test("an error's objects are left out: a driver's connection (options, socket, timers) is never walked", () => {
    const { logger, raw, lines } = capture();
    const timer = setTimeout(() => {}, 1000);
    const error = Object.assign(new Error("write CONNECTION_ENDED"), { code: "CONNECTION_ENDED", options: { pass: "db-password", timer } });
    logger.error({ err: error }, "connection ended");
    clearTimeout(timer);
    expect(raw()).not.toContain("db-password");
    expect(lines()[0]!.err).toMatchObject({ type: "Error", code: "CONNECTION_ENDED", message: "write CONNECTION_ENDED" });
  });
});

describe("lines", () => {
  test("each is one JSON object with the level's name, an ISO time and the request id of its request", () => {
    const { logger, lines } = capture();
    const request = logger.child({ requestId: "req_abc123", accountId: "acct_1" });
    request.info("handled");
    request.error({ err: new Error("boom") }, "failed");
    const [info, error] = lines();
    expect(info).toMatchObject({ level: "info", requestId: "req_abc123", accountId: "acct_1", msg: "handled" });
    expect(new Date(info!.time as string).toISOString()).toBe(info!.time as string);
    expect(error).toMatchObject({ level: "error", requestId: "req_abc123", msg: "failed", err: { message: "boom" } });
  });

  test("below the level, nothing is written", () => {
    const { logger, raw } = capture();
    logger.level = "warn";
    logger.info("quiet");
    expect(raw()).toBe("");
  });
});
