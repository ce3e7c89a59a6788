/** PostgreSQL's SQLSTATE for a unique violation, looked up through drizzle's wrapping. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  type PgLike = { code?: string; constraint_name?: string; cause?: unknown } | undefined;
  for (let e = error as PgLike; e; e = e.cause as PgLike) {
    if (e.code === "23505") return constraint === undefined || e.constraint_name === constraint;
  }
  return false;
}
