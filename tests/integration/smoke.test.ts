import { expect, test } from "bun:test";
import { users } from "../../db/schema";
import { freshDatabase } from "../support/db";

test("a fresh database has the schema", async () => {
  const { db } = await freshDatabase();
  expect(await db.select().from(users)).toEqual([]);
});
