/**
 * How long a balance lasts at the live burn rate. Pure and dependency-free: the api, the CLI and the
 * web app (which imports this file) read the same forecast and the same words.
 */

/**
 * Whole seconds `balanceCents` pays for at `burnCentsPerHour`: null while nothing burns, 0 once the
 * balance is used up (from there the grace window applies, not a runway).
 */
export function runwaySeconds(balanceCents: number, burnCentsPerHour: number): number | null {
  if (burnCentsPerHour <= 0) return null;
  if (balanceCents <= 0) return 0;
  // Integer arithmetic floored once: exact while balance × 3600 stays below 2^53 (25 billion euros).
  return Math.floor((balanceCents * 3600) / burnCentsPerHour);
}

/**
 * Short: less than the minimum runway a launch needs (`MIN_RUNWAY_HOURS`), so the account could not launch
 * what it runs now, and the running instances reach the grace window within that time.
 */
export function isLowRunway(runway: number | null, minRunwayHours: number): boolean {
  return runway !== null && runway < minRunwayHours * 3600;
}

/**
 * How long a balance lasts, as a forecast: rounded to what matters at
 * each scale ("45 min", "3 h 12 min", "2 d 4 h", "12 days").
 */
export function formatRunway(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  if (days < 7) return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
  return `${days} days`;
}

/** The runway in a phrase, as the CLI and the web app say it: "~3 h 12 min", "under a minute", "used up". */
export function runwayPhrase(seconds: number): string {
  if (seconds <= 0) return "used up";
  return seconds < 60 ? "under a minute" : `~${formatRunway(seconds)}`;
}
