import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/cli/errors";
import { formatEur, formatSignedEur, parseEur } from "../../src/cli/money";

/** The usage error `parseEur` throws for `text` (exit code 2). */
function refusal(text: string): UsageError {
  try {
    parseEur(text);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return error as UsageError;
  }
  throw new Error(`parseEur('${text}') was accepted`);
}

describe("parseEur", () => {
  test.each([
    ["50", 5000],
    ["50.5", 5050],
    ["50,50", 5050],
    ["50,5", 5050],
    ["0.1", 10],
    ["0.01", 1],
    ["12.34", 1234],
    ["1000", 100_000],
    ["007", 700],
    [" 25 ", 2500],
    ["€25", 2500],
    ["25 €", 2500],
  ])("'%s' is %d cents", (text, cents) => {
    expect(parseEur(text)).toBe(cents);
  });

  test("reads the digits, never a float: amounts that floats get wrong are exact", () => {
    // 0.29 * 100 === 28.999999999999996 and 1.005 * 100 === 100.49999999999999 in floating point.
    expect(parseEur("0.29")).toBe(29);
    expect(parseEur("19.99")).toBe(1999);
    expect(parseEur("4.35")).toBe(435);
    for (let cents = 1; cents <= 10_000; cents++) {
      const text = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
      expect(parseEur(text)).toBe(cents);
    }
  });

  test("thousands separators are refused, not guessed: '1,000' is 1 € in some countries and 1000 € in others", () => {
    expect(refusal("1,000.00").message).toContain("without a thousands separator, such as 1000");
    expect(refusal("1.000,00").message).toContain("without a thousands separator");
    expect(refusal("1,000").message).toContain("leave it out (such as 1000)");
    expect(refusal("1.000").message).toContain("more than 2 decimals");
  });

  test.each([
    ["1.234", "'1.234' has more than 2 decimals"],
    ["12.345", "'12.345' has more than 2 decimals"],
    ["-5", "'-5' is negative"],
    ["−5", "is negative"],
    ["abc", "'abc' is not an amount in EUR. Write it like 50, 50.5 or 50,50."],
    ["", "No amount given"],
    ["   ", "No amount given"],
    ["50.", "is not an amount"],
    [".5", "is not an amount"],
    ["+5", "is not an amount"],
    ["1e3", "is not an amount"],
    ["5 0", "is not an amount"],
    ["0x10", "is not an amount"],
    ["0", "'0' is zero"],
    ["0.00", "is zero"],
    ["99999999999999999999", "is too large"],
  ])("'%s' is refused: %s", (text, message) => {
    expect(refusal(text).message).toContain(message);
  });
});

describe("formatEur", () => {
  test.each([
    [0, "€0.00"],
    [1, "€0.01"],
    [2500, "€25.00"],
    [5050, "€50.50"],
    [123_456_789, "€1,234,567.89"],
    [-375, "-€3.75"],
  ])("%d cents is %s", (cents, text) => {
    expect(formatEur(cents)).toBe(text);
  });

  test("exact beyond what cents / 100 could carry", () => {
    expect(formatEur(Number.MAX_SAFE_INTEGER)).toBe("€90,071,992,547,409.91");
  });

  test("parses back what it prints", () => {
    for (const cents of [1, 10, 99, 100, 1234, 5050, 99_999]) expect(parseEur(formatEur(cents).replace(/,/g, ""))).toBe(cents);
  });
});

describe("formatSignedEur", () => {
  test.each([
    [2500, "+€25.00"],
    [-375, "-€3.75"],
    [0, "€0.00"],
  ])("%d cents is %s", (cents, text) => {
    expect(formatSignedEur(cents)).toBe(text);
  });
});
