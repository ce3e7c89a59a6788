/** `?next=` after sign-in (issue 14, item 10): honoured for a path of this origin, never for a way off it. */
import { describe, expect, test } from "bun:test";
import { sameOriginPath } from "../../web/src/lib/return-path";

const origin = "http://localhost:3000";

describe("sameOriginPath", () => {
  test.each([
    ["/billing/top-up/success?session_id=cs_dev_abc", "/billing/top-up/success?session_id=cs_dev_abc"],
    ["/dev-checkout/cs_dev_abc", "/dev-checkout/cs_dev_abc"],
    ["/billing?top_up=canceled", "/billing?top_up=canceled"],
    ["/instances/inst_1#logs", "/instances/inst_1#logs"],
    ["/a/../billing", "/billing"],
  ])("%s is honoured as %s", (next, expected) => {
    expect(sameOriginPath(next, origin)).toBe(expected);
  });

  test.each([
    "https://evil.example",
    "https://evil.example/billing",
    `${origin.replace("localhost", "127.0.0.1")}/billing`,
    "//evil.example",
    "//evil.example/billing",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/.//evil.example",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "billing",
    "",
  ])("%p is refused", (next) => {
    expect(sameOriginPath(next, origin)).toBeNull();
  });

  test("no next at all is no path", () => {
    expect(sameOriginPath(null, origin)).toBeNull();
    expect(sameOriginPath(undefined, origin)).toBeNull();
  });
});
