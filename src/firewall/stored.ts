import type { StoredFirewallRule } from "../../db/schema";
import type { Rule } from "./rules/schemas";

/**
 * A firewall row (or a selection of its columns) with its rules as the domain
 * types them. The one place the jsonb column is read as `Rule[]`: every write
 * goes through `rulesSchema`, so the shape holds. Not parsed again on read:
 * rules saved under an older schema (a JavaScript-only pattern) must still
 * load, and evaluation treats such a pattern as unscreened.
 */
export function withRules<Row extends { rules: StoredFirewallRule[] }>(row: Row): WithRules<Row> {
  // Retyped, neither copied nor parsed. That a `Rule` fits the column is checked where rows are
  // written: `create` and `update` hand parsed rules to drizzle.
  return row as unknown as WithRules<Row>;
}

export type WithRules<Row> = Omit<Row, "rules"> & { rules: Rule[] };
