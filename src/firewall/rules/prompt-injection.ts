import { phrase, type Span, spansOf } from "./spans";

/**
 * Curated prompt-injection and jailbreak phrasings. Spaces in a phrase
 * match any run of whitespace; the list is deliberately about explicit
 * instructions to drop the system prompt, not topics, to keep false
 * positives rare.
 */
export const promptInjectionPatterns: readonly string[] = [
  "(?:ignore|skip|bypass) (?:all |any )?(?:of )?(?:the |your |my )?(?:previous|prior|preceding|above|earlier|foregoing) (?:instructions?|prompts?|rules|directions|directives|guidelines)",
  "disregard (?:all |any )?(?:of )?(?:the |your )?(?:previous |prior |above |earlier )?(?:system prompt|system message|instructions?|rules|guidelines)",
  "forget (?:all |everything )?(?:of )?(?:your |the |previous |prior |above )+(?:instructions?|rules|guidelines|system prompt)",
  "override (?:your |the )(?:system prompt|safety|instructions?|rules|guidelines)",
  "you are now (?:DAN|in developer mode|jailbroken|unrestricted|unfiltered|uncensored)",
  "do anything now",
  "DAN mode",
  "(?:enable|enter|activate|switch to) developer mode",
  "(?:reveal|show|print|repeat|output|leak|tell me|display) (?:me )?(?:your|the) (?:full |entire |original |exact )?(?:system|initial|hidden|secret) (?:prompt|instructions|message)",
  "pretend (?:that )?you (?:are|have) (?:no|not bound by any) (?:restrictions|rules|filters|guidelines|limits)",
  "act as an? (?:unfiltered|uncensored|unrestricted|jailbroken) (?:ai|assistant|model|chatbot)",
  "from now on,? you (?:will|are going to|must) (?:act|respond|behave) as",
  "without any (?:restrictions|filters|censorship|ethical guidelines)",
  "\\[\\s*jailbreak\\s*\\]|\\[\\s*🔓\\s*jailbreak\\s*\\]",
  // Chat-template tokens smuggled into user text to fake a system turn.
  "<\\|im_start\\|>\\s*system|<<SYS>>|\\[INST\\]",
];

const pattern = new RegExp(promptInjectionPatterns.map((p) => `(?:${phrase(p)})`).join("|"), "giu");

export function findPromptInjection(text: string): Span[] {
  return spansOf(pattern, text);
}
