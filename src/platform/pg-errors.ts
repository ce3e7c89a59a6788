/** PostgreSQL's SQLSTATE for a unique violation, looked up through drizzle's wrapping. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let e: any = error; e; e = e.cause) {
    if (e.code === "23505") return constraint === undefined || e.constraint_name === constraint;
  }
  return false;
}
