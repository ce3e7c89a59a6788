import { imageRefused } from "./refusals";

/**
 * TLS options for an https image fetch. The connection goes to the checked
 * IP, so the URL's host name travels as the server name: it is sent as SNI
 * and the certificate is verified against it. `rejectUnauthorized` is set
 * explicitly so that NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment
 * cannot switch verification off for these fetches.
 */
export function verifiedTls(serverName: string | undefined, ca: string[] | undefined) {
  return { rejectUnauthorized: true, ...(serverName && { serverName }), ...(ca && { ca }) };
}

const untrusted = "its certificate is not signed by a trusted certificate authority";

/** The error codes Bun's fetch gives for failed verification, in the client's words. */
const reasons: Record<string, (host: string) => string> = {
  ERR_TLS_CERT_ALTNAME_INVALID: (host) => `its certificate is not valid for ${host}`,
  HOSTNAME_MISMATCH: (host) => `its certificate is not valid for ${host}`,
  DEPTH_ZERO_SELF_SIGNED_CERT: () => "its certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: () => untrusted,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: () => untrusted,
  UNABLE_TO_GET_ISSUER_CERT: () => untrusted,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: () => untrusted,
  CERT_UNTRUSTED: () => untrusted,
  CERT_HAS_EXPIRED: () => "its certificate has expired",
  CERT_NOT_YET_VALID: () => "its certificate is not valid yet",
  CERT_REVOKED: () => "its certificate is revoked",
  EPROTO: () => "the TLS handshake failed",
};

/** A 400 naming why an https hop failed TLS, or null when `error` is not a TLS failure. */
export function tlsRefusal(error: unknown, where: string, host: string, param: string) {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return null;
  // Codes Bun may add later still read as TLS failures rather than as a generic fetch failure.
  const reason = reasons[code]?.(host) ?? (/CERT|TLS|SSL/.test(code) ? "TLS verification failed" : null);
  if (!reason) return null;
  return imageRefused("image_fetch_tls_failed", `${where} could not be verified over TLS: ${reason} (${code}).`, param);
}
