import { badRequest } from "./errors";
import { hexDigest, rngFor } from "./hash";
import { valueFromSchema } from "./json-schema";
import type { ChatMessage, Tool, ToolChoice } from "./schemas";
import { tokenize } from "./text";

export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Which tools a request calls, the way a model would decide but predictably:
 * `none` calls nothing; a named function calls it; `required` calls the tools
 * the last user message mentions, or one picked from the hash if it mentions
 * none; `auto` (the default when tools are given) calls the mentioned tools
 * and otherwise answers in text. Several mentioned tools are called in one
 * turn unless `parallel_tool_calls` is false. Once tool results follow the
 * last user message, `auto` answers in text, so an agent loop ends.
 */
export function chooseTools(
  tools: readonly Tool[],
  choice: ToolChoice | null | undefined,
  messages: readonly ChatMessage[],
  parallel: boolean,
  seed: string,
): Tool[] {
  if (tools.length === 0) {
    if (choice && choice !== "none") throw badRequest("'tool_choice' is only allowed when 'tools' are specified.", "tool_choice");
    return [];
  }
  if (choice === "none") return [];
  if (choice && typeof choice === "object") {
    const named = tools.find((tool) => tool.function.name === choice.function.name);
    if (!named) throw badRequest(`Tool '${choice.function.name}' named in 'tool_choice' is not in 'tools'.`, "tool_choice.function.name");
    return [named];
  }
  const answered = messages
    .slice(messages.findLastIndex((message) => message.role === "user") + 1)
    .some((message) => message.role === "tool" || message.role === "function");
  if (choice !== "required" && answered) return [];
  const mentioned = mentionedTools(tools, lastUserText(messages));
  const calls = parallel ? mentioned : mentioned.slice(0, 1);
  if (calls.length > 0) return calls;
  return choice === "required" ? [rngFor(seed, "required-tool").pick(tools)] : [];
}

/** A tool counts as mentioned by its exact name or with its underscores and dashes read as spaces. */
export function mentionedTools(tools: readonly Tool[], text: string): Tool[] {
  const lower = text.toLowerCase();
  return tools.filter((tool) => {
    const name = tool.function.name.toLowerCase();
    return [name, name.replace(/[_-]+/g, " ")].some((form) => new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(form)}(?![\\p{L}\\p{N}_])`, "u").test(lower));
  });
}

export function lastUserText(messages: readonly ChatMessage[]): string {
  const last = messages.findLast((message) => message.role === "user");
  return last ? messageText(last) : "";
}

export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (!content) return "";
  return content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n");
}

/** Arguments built from the function's JSON-schema parameters, as compact JSON. */
export function toolCallFor(tool: Tool, seed: string, position: number): PlannedToolCall {
  const parameters = tool.function.parameters ?? { type: "object", properties: {} };
  const value = valueFromSchema(parameters, rngFor(seed, "tool-arguments", String(position), tool.function.name));
  return {
    id: `call_${hexDigest(seed, "tool-call-id", String(position)).slice(0, 24)}`,
    name: tool.function.name,
    arguments: JSON.stringify(value),
  };
}

/** How arguments are streamed: the same tokens as text, so each delta is a token or two. */
export function argumentPieces(argumentsJson: string): string[] {
  return tokenize(argumentsJson);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
