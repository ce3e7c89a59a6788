import { ibanValid, luhnValid } from "./checksums";
import type { PiiCategory } from "./schemas";
import { mergeSpans, type Span, spansOf } from "./spans";

// The local part may not follow a word character's `@`-less neighbour: "foo@bar" has no TLD, "@handle" no local part.
const email = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-]|\.[A-Za-z0-9])/g;

/**
 * Phones: international (`+` and 8–15 digits, grouped or not), North American
 * national (`(415) 555-2671`, `415-555-2671`: separators required) and trunk-0
 * national (`020 7946 0958`, `06 12 34 56 78`: 10–11 digits, separators
 * required). A bare run of digits without `+` is never a phone: that is how
 * order numbers, ids and amounts are written.
 */
const phones = [
  /(?<![\w+])\+[1-9][0-9]{0,3}(?:[ .-]?\(?[0-9]{1,5}\)?){1,6}(?![\w])/g,
  /(?<![\w+(-])(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}(?![\w]|-[0-9])/g,
  /(?<![\w+-])0[1-9][0-9]{0,3}(?:[ .-][0-9]{2,6}){1,4}(?![\w]|[.-][0-9])/g,
];

function digitCount(text: string): number {
  return text.replace(/\D/g, "").length;
}

const acceptPhone = [
  (match: string) => digitCount(match) >= 8 && digitCount(match) <= 15,
  () => true,
  (match: string) => digitCount(match) >= 10 && digitCount(match) <= 11,
];

/** IBANs as printed (groups of 4) or compact; checked by country length and mod 97. */
const iban =
  /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])|(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}(?![A-Za-z0-9])/g;

/** 13–19 digits, optionally grouped by single spaces or dashes. */
const card = /(?<![A-Za-z0-9-])[0-9](?:[ -]?[0-9]){12,22}(?![0-9])/g;

/**
 * The longest Luhn-valid card number at the start of `match` that ends on a
 * group boundary, so "4111 1111 1111 1111 2024" keeps the card and not the year.
 */
function cardWithin(match: string): Span | false {
  const digitEnds: number[] = [];
  for (let i = 0; i < match.length; i++) if (match[i]! >= "0" && match[i]! <= "9") digitEnds.push(i + 1);
  const digits = match.replace(/\D/g, "");
  for (let length = Math.min(19, digits.length); length >= 13; length--) {
    const end = digitEnds[length - 1]!;
    if (end !== match.length && match[end] !== " " && match[end] !== "-") continue;
    const separators = new Set(match.slice(0, end).replace(/[0-9]/g, ""));
    // "4111-1111 1111 1111" mixes separators: a card is written one way.
    if (separators.size > 1) continue;
    if (luhnValid(digits.slice(0, length)) && !/^(\d)\1+$/.test(digits.slice(0, length))) return { start: 0, end };
  }
  return false;
}

function ibanWithin(match: string): Span | false {
  // Printed IBANs may be followed by another group of digits ("… 00 1234"): try shorter cuts.
  for (let end = match.length; end >= 15; end = match.lastIndexOf(" ", end - 1)) {
    if (end < 0) break;
    if (ibanValid(match.slice(0, end).replace(/ /g, ""))) return { start: 0, end };
  }
  return false;
}

// Emails need an `@`, the others digits: a text without them is not scanned (most prompts; the /v1 hot path).
const digit = /[0-9]/;

const detectors: Record<PiiCategory, (text: string) => Span[]> = {
  emails: (text) => (text.includes("@") ? spansOf(email, text) : []),
  phones: (text) => (digit.test(text) ? phones.flatMap((pattern, i) => spansOf(pattern, text, acceptPhone[i]!)) : []),
  ibans: (text) => (digit.test(text) ? spansOf(iban, text, ibanWithin) : []),
  cards: (text) => (digit.test(text) ? spansOf(card, text, cardWithin) : []),
};

export function findPii(text: string, categories: readonly PiiCategory[]): Span[] {
  // Detectors overlap ("+1 415 555 2671" is also a national number): one span per place.
  return mergeSpans(categories.flatMap((category) => detectors[category](text)));
}
