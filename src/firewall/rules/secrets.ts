import { type Span, spansOf } from "./spans";

/**
 * Credential formats, by their issuers' documented shapes. Each sits between
 * "not a token character" boundaries so a key inside a longer identifier is
 * not half-matched; look-alikes are ruled out by length and alphabet.
 */
export const secretPatterns: Record<string, { pattern: RegExp; accept?: (match: string) => boolean }> = {
  awsAccessKeyId: { pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
  githubToken: { pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g },
  githubFineGrainedToken: { pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])/g },
  slackToken: { pattern: /(?<![A-Za-z0-9])xox[abp]-[0-9]{6,}-[0-9A-Za-z-]{8,250}(?![A-Za-z0-9-])/g },
  stripeLiveKey: { pattern: /(?<![A-Za-z0-9_])[sr]k_live_[0-9A-Za-z]{20,247}(?![A-Za-z0-9_])/g },
  openAiKey: {
    pattern: /(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])/g,
    // Random keys mix digits and both cases; "sk-some-long-hyphenated-words" does not.
    accept: (match) => /\d/.test(match) && /[a-z]/.test(match) && /[A-Z]/.test(match),
  },
  googleApiKey: { pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g },
  // Header and payload are base64url JSON objects, so both start with `eyJ` (`{"`).
  jwt: { pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_-])/g },
  // A block cut short (no END line) is still a private key: redact to the end of the text.
  privateKey: { pattern: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----(?:[\s\S]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----|[\s\S]*$)/g },
  // This platform's own API keys: `qdz_` and 43 base62 characters.
  qdzApiKey: { pattern: /(?<![A-Za-z0-9_])qdz_[0-9A-Za-z]{43}(?![A-Za-z0-9_])/g },
};

const detectors = Object.values(secretPatterns);

export function findSecrets(text: string): Span[] {
  const spans: Span[] = [];
  for (const { pattern, accept } of detectors) spans.push(...spansOf(pattern, text, accept));
  return spans;
}
