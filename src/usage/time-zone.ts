import { z } from "zod";
import { InvalidInputError } from "../errors";
import { safeString } from "../validation";

/** A zone's name, not a fixed offset (`+05:30` has no daylight saving time, so its days would not be the viewer's). */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/** The zone's own spelling (`europe/berlin` → `Europe/Berlin`), or null when it is not an IANA time zone. */
export function canonicalTimeZone(name: string): string | null {
  if (!IANA_NAME.test(name)) return null;
  try {
    return Temporal.Now.zonedDateTimeISO(name).timeZoneId;
  } catch {
    return null;
  }
}

const message = (name: string) => `'${name}' is not an IANA time zone; use a name such as Europe/Berlin, America/New_York or UTC.`;

/** For callers that skip the schema (the CLI's default, tests): the canonical zone, or an error naming `field`. */
export function requireTimeZone(name: string, field = "timeZone"): string {
  const zone = canonicalTimeZone(name);
  if (!zone) throw new InvalidInputError(message(name), field);
  return zone;
}

/** An IANA time zone, canonicalised; the error names the field it sits in, whatever the surface calls it. */
export const timeZoneSchema = safeString()
  .max(64)
  .transform((name, ctx) => {
    const zone = canonicalTimeZone(name);
    if (zone) return zone;
    ctx.addIssue({ code: "custom", message: message(name) });
    return z.NEVER;
  });
