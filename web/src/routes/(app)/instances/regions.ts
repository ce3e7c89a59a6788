/** The api's rule for a region name (`src/instances/schemas.ts`), checked as the chip is typed. */
export function regionProblem(region: string): string | null {
  return /^[a-z0-9-]{1,32}$/.test(region) ? null : "A region is 1–32 lower-case letters, digits or '-', such as local or eu-west.";
}
