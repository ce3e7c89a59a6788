import { getErrorShape, TRPCError, transformTRPCResponse } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { BodyTooLargeError, readBodyWithin } from "../src/request-body";
import type { TrpcContext } from "../src/trpc/init";
import { appRouter } from "../src/trpc/router";
import { TRPC_MAX_BATCH_CALLS } from "../src/trpc/wire";

/**
 * What a /trpc request must pass before tRPC reads it: at most
 * TRPC_MAX_BATCH_CALLS calls, a body of at most `maxBodyBytes`, read here
 * through the capped reader (tRPC's adapter would read any size whole), and
 * input nested no deeper than MAX_JSON_DEPTH. Answers the request tRPC may
 * read (its body already buffered), or the refusal in tRPC's error shape.
 */
export async function admitTrpcRequest(request: Request, requestId: string, maxBodyBytes: number): Promise<Request | Response> {
  const url = new URL(request.url);
  if (url.searchParams.get("batch") === "1") {
    const calls = batchedCalls(url.pathname);
    if (calls > TRPC_MAX_BATCH_CALLS) {
      const message = `A batch may hold at most ${TRPC_MAX_BATCH_CALLS} calls; this one has ${calls}.`;
      return trpcErrorResponse(new TRPCError({ code: "BAD_REQUEST", message }), requestId);
    }
  }
  if (request.method !== "POST") {
    const input = url.searchParams.get("input");
    return input !== null && nestsTooDeep(new TextEncoder().encode(input)) ? tooDeep(requestId) : request;
  }
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await readBodyWithin(request, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return trpcErrorResponse(new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: error.message }), requestId);
    throw error;
  }
  if (nestsTooDeep(body)) return tooDeep(requestId);
  return new Request(request.url, { method: request.method, headers: request.headers, body, signal: request.signal });
}

/** Deeper than any input takes (a firewall's rules, the deepest, nest 6 levels with the batch's envelope). */
const MAX_JSON_DEPTH = 32;

const tooDeep = (requestId: string) =>
  trpcErrorResponse(new TRPCError({ code: "BAD_REQUEST", message: `The input nests deeper than ${MAX_JSON_DEPTH} levels.` }), requestId);

/**
 * Whether JSON text opens more than MAX_JSON_DEPTH arrays or objects at once. A linear scan of the bytes,
 * before JSON.parse: parsing a mebibyte of `[[[[…` holds the event loop for half a second.
 * Multi-byte UTF-8 sequences contain no ASCII bytes, so bytes are compared as characters.
 */
function nestsTooDeep(json: Uint8Array): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === 0x5c)
        i++; // a backslash escapes the next character
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

/** Counted as tRPC splits them: the path after /trpc/, URL-decoded, comma-separated. A path that does not decode is tRPC's to refuse. */
function batchedCalls(pathname: string): number {
  try {
    return decodeURIComponent(pathname.slice(pathname.indexOf("/trpc/") + "/trpc/".length)).split(",").length;
  } catch {
    return 0;
  }
}

/** A refusal answered before tRPC runs, shaped by the router's own error formatter so clients read it like any other. */
function trpcErrorResponse(error: TRPCError, requestId: string): Response {
  const config = appRouter._def._config;
  // The formatter reads only the request id from the context: no caller has been resolved yet.
  const ctx = { requestId } as TrpcContext;
  const shape = getErrorShape({ config, error, type: "unknown", path: undefined, input: undefined, ctx });
  return Response.json(transformTRPCResponse(config, { error: shape }), {
    status: getHTTPStatusCodeFromError(error),
    headers: { "x-request-id": requestId },
  });
}
