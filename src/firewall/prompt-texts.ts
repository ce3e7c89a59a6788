import type { PromptTexts } from "./evaluate";

/** The /v1 endpoints a firewall screens, as the proxy names them. */
export type ScreenedEndpoint = "chat/completions" | "completions" | "embeddings";

type Path = (string | number)[];

export interface LocatedText {
  path: Path;
  text: string;
}

function fieldOf(path: Path): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? key : `.${key}`)).join("");
}

function textParts(parts: unknown[], base: Path, out: LocatedText[]) {
  parts.forEach((part, i) => {
    if (typeof part === "string") out.push({ path: [...base, i], text: part });
    else if (isObject(part) && part.type === "text" && typeof part.text === "string") out.push({ path: [...base, i, "text"], text: part.text });
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Every piece of text a request body sends to the model: chat messages'
 * string content and text parts, the completion prompt (string or list) and
 * embedding inputs (strings and text parts). Token-id arrays and images carry
 * no text to screen; a body of the wrong shape yields what it has, since the
 * runtime answers malformed requests itself.
 */
export function locateTexts(endpoint: ScreenedEndpoint, body: unknown): { located: LocatedText[]; messageCount: number } {
  const located: LocatedText[] = [];
  if (!isObject(body)) return { located, messageCount: 0 };
  if (endpoint === "chat/completions") {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    messages.forEach((message, i) => {
      if (!isObject(message)) return;
      if (typeof message.content === "string") located.push({ path: ["messages", i, "content"], text: message.content });
      else if (Array.isArray(message.content)) textParts(message.content, ["messages", i, "content"], located);
    });
    return { located, messageCount: messages.length };
  }
  const key = endpoint === "completions" ? "prompt" : "input";
  const value = body[key];
  if (typeof value === "string") {
    located.push({ path: [key], text: value });
    return { located, messageCount: 1 };
  }
  if (!Array.isArray(value)) return { located, messageCount: 0 };
  textParts(value, [key], located);
  // A list of token ids is one prompt; a list of strings or parts is one per item.
  return { located, messageCount: value.every((v) => typeof v === "number") ? 1 : value.length };
}

export function promptTextsOf(located: LocatedText[], messageCount: number): PromptTexts {
  return { texts: located.map(({ path, text }) => ({ field: fieldOf(path), text })), messageCount };
}

/** Writes each redacted text back at its path (in place). */
export function writeTexts(body: unknown, located: LocatedText[], texts: string[]): void {
  located.forEach(({ path }, i) => {
    let target = body as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
    target[path.at(-1)!] = texts[i];
  });
}
