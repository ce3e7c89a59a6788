import { UsageError } from "./errors";

/**
 * Amounts as people type them (`50`, `50.5`, `50,50`, `€12.34`) to integer
 * cents, by reading the digits: never through a float, so `0.29` is 29 cents
 * and not 28.999….
 *
 * One separator only, `.` or `,`, read as the decimal separator, with one or
 * two digits after it. A thousands separator is refused rather than guessed:
 * `1,000` is 1000 € in Dublin and 1 € in Berlin, and a top-up must never
 * charge a thousand times what was meant. So `1,000.00` and `1.000` are
 * refused with a message that says to write `1000`.
 */
export function parseEur(text: string): number {
  const shown = `'${text}'`;
  const amount = text.trim().replace(/^€\s*|\s*€$/g, "");
  if (amount === "") throw new UsageError("No amount given. Write it in EUR, such as 50 or 12.50.");
  if (/^[-−]/.test(amount)) throw new UsageError(`${shown} is negative. A top-up is a positive amount in EUR, such as 50.`);
  if (/^\d[\d.,]*$/.test(amount) && (amount.match(/[.,]/g) ?? []).length > 1) {
    throw new UsageError(`${shown} has more than one separator. Write the amount without a thousands separator, such as 1000 or 1000.50.`);
  }
  const parts = /^(\d+)(?:[.,](\d+))?$/.exec(amount);
  if (!parts) throw new UsageError(`${shown} is not an amount in EUR. Write it like 50, 50.5 or 50,50.`);
  const [, euros, decimals = ""] = parts;
  if (decimals.length > 2) {
    throw new UsageError(
      `${shown} has more than 2 decimals; amounts are in whole cents. If the separator is meant for thousands, leave it out (such as 1000).`,
    );
  }
  // Both parts are plain digits: the cents are the digits themselves, read once as an integer.
  const cents = Number(`${euros}${decimals.padEnd(2, "0")}`);
  if (!Number.isSafeInteger(cents)) throw new UsageError(`${shown} is too large.`);
  if (cents === 0) throw new UsageError(`${shown} is zero. A top-up is a positive amount in EUR, such as 50.`);
  return cents;
}

export { formatEur, formatSignedEur } from "../billing/money-format";
