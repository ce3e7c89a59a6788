import { ProxyError } from "../errors";

/**
 * Why an image in an embeddings request was not used: always a 400 naming
 * the part (`param`, or `input` when there are too many parts) and the
 * reason, since the client can fix it.
 */
export type ImageRefusalCode =
  | "image_url_invalid"
  | "image_url_forbidden_address"
  | "image_url_too_many_redirects"
  | "image_fetch_failed"
  | "image_fetch_timeout"
  | "image_fetch_tls_failed"
  | "image_too_large"
  | "image_not_an_image"
  | "image_count_exceeded";

export const imageRefused = (code: ImageRefusalCode, message: string, param: string) => new ProxyError(400, message, "invalid_request_error", code, param);
