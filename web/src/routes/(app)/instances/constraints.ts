/** The api's rule for a region name (`src/instances/schemas.ts`), checked as the chip is typed. */
export function regionProblem(region: string): string | null {
  return /^[a-z0-9-]{1,32}$/.test(region) ? null : "A region is 1–32 lower-case letters, digits or '-', such as local or eu-west.";
}

/** A whole number as typed ("32 768" and "32,768" read as 32768): undefined when left empty, "invalid" outside [min, max]. */
export function parseWhole(text: string, min: number, max: number): number | undefined | "invalid" {
  if (text.trim() === "") return undefined;
  const n = Number(text.trim().replaceAll(/[,_\s]/g, ""));
  return Number.isInteger(n) && n >= min && n <= max ? n : "invalid";
}

/** Minimum VRAM as typed in the placement constraints (GiB). */
export const parseMinVram = (text: string) => parseWhole(text, 1, 10_000);
export const minVramProblem = "Enter a whole number of GiB.";
