import { expect, test } from "bun:test";
import { freshDatabase } from "../support/db";
import { users } from "../../db/schema";

test("a fresh database has the schema", async () => {
  const { db } = await freshDatabase();
  expect(await db.select().from(users)).toEqual([]);
});
