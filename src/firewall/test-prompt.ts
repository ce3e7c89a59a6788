import type { AccountContext } from "../context";
import { evaluate } from "./evaluate";
import { firewallOf } from "./internal";
import { type TestPromptInput, testPromptInput } from "./schemas";

/** The "test this prompt" box: the firewall's verdict on one user message. Records nothing. */
export async function testPrompt(ctx: AccountContext, input: TestPromptInput) {
  const { firewallId, text } = testPromptInput.parse(input);
  const firewall = await firewallOf(ctx, firewallId);
  const result = evaluate(firewall.rules, { texts: [{ field: "prompt", text }], messageCount: 1 });
  return { ...result, redactedText: result.redactedTexts?.[0]?.text ?? null };
}
