import type { ZodError, z } from "zod";

/**
 * The one place a schema issue becomes words. Every surface that refuses
 * input (tRPC, the REST routes, the forms that show those refusals) says
 * what is wrong as a sentence about the field in product words — "Account
 * name must be at most 80 characters." — never zod's own "Too big: expected
 * string to have <=80 characters".
 *
 * A message a schema wrote itself ("Enter a valid email address.") wins:
 * zod asks `issueMessage` (installed below as its global error map) only for
 * issues without one. A schema's message that starts in lower case is a
 * predicate about the field ("must not contain NUL characters…") and gets
 * the field's name in front; one that is a whole sentence is kept, with the
 * field named first when it sits inside a list (a rule's pattern).
 */

type Path = readonly PropertyKey[];

/** Keys whose product name is not the key read aloud. */
const FIELD_LABELS: Record<string, string> = {
  accountName: "Account name",
  amount_cents: "Amount",
  monthlyCents: "Monthly budget",
  hfRepo: "Model",
  gpuPreferences: "GPU types",
  maxChars: "Character limit",
  maxMessages: "Message limit",
  maxInputChars: "Character limit for custom patterns",
  publicKey: "Public key",
  success_url: "Success URL",
  cancel_url: "Cancel URL",
  instanceId: "Instance",
  firewallId: "Firewall",
  runtimeId: "Runtime",
  templateId: "Template",
};

/** What one entry of a list is called, for "Pattern of rule 2". */
const ITEM_NOUNS: Record<string, string> = {
  rules: "rule",
  gpuPreferences: "GPU type",
  regions: "region",
  terms: "term",
  categories: "category",
  messages: "message",
  instanceIds: "instance",
};

/** Containers that add nothing a person would say: a rule's `options.pattern` is its pattern. */
const SILENT_KEYS = new Set(["options"]);

const ACRONYMS = new Set(["url", "id", "gpu", "vram", "api", "ssh", "hf", "ip", "eur"]);

function spoken(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((word) => (ACRONYMS.has(word.toLowerCase()) ? word.toUpperCase() : word.toLowerCase()));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function keyLabel(key: string): string {
  return FIELD_LABELS[key] ?? spoken(key);
}

/**
 * The field a path names, as a person would: `accountName` → "Account name",
 * `rules.1.options.pattern` → "Pattern of rule 2", `gpuPreferences.0` → "GPU type 1".
 * Empty for the input as a whole.
 */
export function fieldLabel(path: Path): string {
  let field = "";
  const owners: string[] = [];
  let lastKey = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      const noun = ITEM_NOUNS[lastKey];
      owners.unshift(noun ? `${noun} ${segment + 1}` : `entry ${segment + 1} of ${lastKey ? keyLabel(lastKey).toLowerCase() : "the list"}`);
      field = "";
    } else {
      lastKey = String(segment);
      if (!SILENT_KEYS.has(lastKey)) field = keyLabel(lastKey);
    }
  }
  if (!field) {
    const [item, ...rest] = owners;
    if (!item) return "";
    return [item.charAt(0).toUpperCase() + item.slice(1), ...rest].join(" of ");
  }
  return [field, ...owners].join(" of ");
}

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  date: "a date",
  nan: "a number",
};

const FORMAT_WORDS: Record<string, string> = {
  email: "a valid email address",
  url: "a valid URL",
  uuid: "a valid UUID",
  datetime: "a date and time such as 2025-01-31T09:00:00Z",
  date: "a date such as 2025-01-31",
  time: "a time such as 09:00",
  ipv4: "an IPv4 address",
  ipv6: "an IPv6 address",
  base64: "base64 text",
  jwt: "a JSON Web Token",
};

const quoted = (value: unknown) => (typeof value === "string" ? `'${value}'` : String(value));

function listOf(values: readonly unknown[], conjunction = "or"): string {
  const words = values.map(quoted);
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} ${conjunction} ${words.at(-1)}`;
}

function count(n: number | bigint, one: string, many: string): string {
  return `${n} ${Number(n) === 1 ? one : many}`;
}

function sizeWords(origin: string, n: number | bigint): string {
  if (origin === "string") return count(n, "character", "characters");
  if (origin === "array" || origin === "set") return count(n, "entry", "entries");
  if (origin === "file") return count(n, "byte", "bytes");
  return String(n);
}

/** Sizes counted in things (characters, entries, bytes) rather than measured. */
const counted = (origin: string) => origin === "string" || origin === "array" || origin === "set" || origin === "file";

/** A list has entries; a text or a number is a size. */
const verb = (origin: string) => (origin === "array" || origin === "set" ? "must have" : "must be");

/** The issue as an issue reaches the global error map or sits in a ZodError: both carry code, path and parameters. */
type AnyIssue = z.core.$ZodRawIssue | z.core.$ZodIssue;

function predicate(issue: AnyIssue): string {
  switch (issue.code) {
    case "invalid_type":
      // Before finalising, zod still holds the input: a missing key is "required", not "must be text".
      if ("input" in issue && issue.input === undefined) return "is required";
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case "too_small": {
      const { origin, minimum, inclusive } = issue;
      const exact = "exact" in issue && issue.exact;
      if ((origin === "string" || origin === "array" || origin === "set") && Number(minimum) === 1 && inclusive !== false && !exact) return "must not be empty";
      if (exact) return `${verb(origin)} exactly ${sizeWords(origin, minimum)}`;
      if (origin === "date") return `must be on or after ${new Date(Number(minimum)).toISOString()}`;
      return `${verb(origin)} ${inclusive === false ? "more than" : "at least"} ${sizeWords(origin, minimum)}`;
    }
    case "too_big": {
      const { origin, maximum, inclusive } = issue;
      if ("exact" in issue && issue.exact) return `${verb(origin)} exactly ${sizeWords(origin, maximum)}`;
      if (origin === "date") return `must be on or before ${new Date(Number(maximum)).toISOString()}`;
      return `${verb(origin)} ${inclusive === false ? (counted(origin) ? "fewer than" : "less than") : "at most"} ${sizeWords(origin, maximum)}`;
    }
    case "invalid_format": {
      const format = issue.format;
      if (format === "starts_with" && "prefix" in issue) return `must start with ${quoted(issue.prefix)}`;
      if (format === "ends_with" && "suffix" in issue) return `must end with ${quoted(issue.suffix)}`;
      if (format === "includes" && "includes" in issue) return `must contain ${quoted(issue.includes)}`;
      if (format === "regex") return "is not in the expected format";
      return `must be ${FORMAT_WORDS[format] ?? `a valid ${format}`}`;
    }
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "invalid_value":
      return issue.values.length === 1 ? `must be ${quoted(issue.values[0])}` : `must be one of ${listOf(issue.values)}`;
    case "unrecognized_keys":
      return `has ${issue.keys.length === 1 ? "a field" : "fields"} it does not know: ${listOf(issue.keys, "and")}`;
    case "invalid_union":
      // A discriminated union whose tag matched nothing names the tags it knows.
      if ("options" in issue && Array.isArray(issue.options) && issue.options.length > 0) return `must be one of ${listOf(issue.options)}`;
      return "is not valid";
    case "invalid_key":
      return "has a key that is not valid";
    case "invalid_element":
      return "has an entry that is not valid";
    default:
      // invalid_union (no alternative fits) and custom checks without words of their own.
      return "is not valid";
  }
}

/** A sentence about the field at `path` saying `words` (a predicate, "must be …"). */
function aboutField(path: Path, words: string): string {
  const label = fieldLabel(path);
  if (label) return `${label} ${words}.`;
  // Nothing to name: an unknown key at the top level, or a rule about the whole input.
  return words.startsWith("has ") ? `The request ${words}.` : `The input ${words}.`;
}

/**
 * zod's global error map: the message for an issue whose schema wrote none.
 * Installed once by src/validation.ts, which every input schema imports.
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string {
  return aboutField(issue.path ?? [], predicate(issue));
}

/** One issue of a ZodError as the sentence a person reads: the field named, in product words. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const message = issue.message.trim();
  // zod's fallback when nothing else answered: say it in our words.
  if (!message || message === "Invalid input") return aboutField(issue.path, predicate(issue));
  const label = fieldLabel(issue.path);
  // "must not contain …": a schema's predicate about its field.
  if (/^[a-z]/.test(message)) return aboutField(issue.path, message.replace(/\.$/, ""));
  // A whole sentence inside a list (a rule's pattern) says which entry; at the top level the form puts it by its field.
  if (label && issue.path.some((segment) => typeof segment === "number") && !message.startsWith(label)) return `${label}: ${message}`;
  return message;
}

/** Every issue, one sentence each, for a message that stands alone (an alert, a CLI error, a 400's `message`). */
export function describeIssues(error: ZodError): string {
  return [...new Set(error.issues.map(describeIssue))].join(" ");
}

/** The issues by top-level field, for the forms that show each message under its input. */
export function fieldErrorsOf(error: ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path[0];
    if (key === undefined) continue;
    fields[String(key)] = [...(fields[String(key)] ?? []), describeIssue(issue)];
  }
  return fields;
}

/** Each issue with its full path (`rules.1.options.pattern`), for forms that place messages deeper than a top-level field. */
export function issuesOf(error: ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: describeIssue(issue) }));
}
