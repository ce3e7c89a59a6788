/**
 * `qdz audit` against the real platform (supervisor, api, workers) on a fresh database: a person's sign-up,
 * a key, what the key did, as a table and as JSON, filtered by actor and kind, paged with the hint's command;
 * the key's secret is never printed back.
 */
import { describe, expect, test } from "bun:test";
import { randomBase62 } from "../../src/ids";
import { failed, parsed } from "../support/cli-results";
import { freshDatabase } from "../support/db";
import { platformForFile } from "../support/platform";

const TIMEOUT = 60_000;
const PASSWORD = "correct horse battery staple";
const database = await freshDatabase();
const platform = platformForFile({ env: { DATABASE_URL: database.url, DATABASE_OWNER_URL: database.ownerUrl } });

describe("qdz audit", () => {
  test(
    "lists who changed what, newest first, as a table and as JSON; filters by actor and kind; pages",
    async () => {
      const cli = platform.cli();
      const email = `audit-${randomBase62(8).toLowerCase()}@example.com`;
      parsed(await cli(["signup", "--email", email, "--password-stdin", "--json"], { stdin: `${PASSWORD}\n` }));
      const created = parsed(await cli(["keys", "create", "ci", "--scope", "full", "--json"]));
      const asKey = { env: { QDZ_API_KEY: created.secret } };
      expect((await cli(["firewalls", "create", "from ci", "--block-injection"], asKey)).code).toBe(0);

      const all = parsed(await cli(["audit", "--json"]));
      expect(all.next_cursor).toBeNull();
      expect(all.data.map((row: { kind: string }) => row.kind)).toEqual(["firewall.created", "api_key.created", "account.signed_up"]);
      expect(all.data[0]).toMatchObject({
        actor: { kind: "api_key", id: created.key.id, label: created.key.prefix, scope: "full" },
        request_id: expect.stringMatching(/^req_/),
        subject_id: expect.stringMatching(/^fw_/),
        changes: { after: { name: "from ci", rules: 1 } },
      });
      expect(all.data[1]).toMatchObject({
        actor: { kind: "user", label: email, scope: null },
        subject_id: created.key.id,
        changes: { after: { name: "ci", scope: "full" } },
      });
      expect(JSON.stringify(all)).not.toContain(created.secret);

      const table = await cli(["audit"]);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^TIME\s+ACTOR\s+KIND\s+SUBJECT\s+CHANGES$/);
      expect(lines[1]).toMatch(
        new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC  key ${created.key.prefix} \\(full\\)\\s+firewall\\.created\\s+fw_\\w+\\s+`),
      );
      expect(lines[1]).toContain("name=from ci");
      expect(lines[1]).toContain("rules=1");
      expect(lines[2]).toMatch(new RegExp(`UTC  ${email}\\s+api_key\\.created\\s+${created.key.id}\\s+`));
      expect(table.stdout).not.toContain(created.secret);

      const byKey = parsed(await cli(["audit", "--actor", created.key.prefix, "--json"]));
      expect(byKey.data.map((row: { kind: string }) => row.kind)).toEqual(["firewall.created"]);
      const keysOnly = parsed(await cli(["audit", "--kind", "api_key", "--json"]));
      expect(keysOnly.data.map((row: { kind: string }) => row.kind)).toEqual(["api_key.created"]);
      expect((await cli(["audit", "--kind", "firewall.updated"])).stdout).toBe("No activity matches.\n");

      const first = await cli(["audit", "--limit", "2"]);
      expect(first.stderr).toMatch(/^More: qdz audit --limit 2 --cursor \d+\n$/);
      const next = first.stderr.trim().replace("More: qdz audit ", "").split(" ");
      const second = parsed(await cli(["audit", ...next, "--json"]));
      expect(second.data.map((row: { kind: string }) => row.kind)).toEqual(["account.signed_up"]);

      const unknown = failed(await cli(["audit", "--kind", "instance.exploded", "--json"]));
      expect(unknown.message).toStartWith("Kind must be one of ");
      expect(unknown.message).toContain("instance.stopped");
    },
    TIMEOUT,
  );
});
