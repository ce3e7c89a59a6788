import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
// Type-only: the web bundle gets the router's types, never its code.
import type { AppRouter } from "../../../src/trpc/router";
import { TRPC_MAX_BATCH_CALLS, transformer } from "../../../src/trpc/wire";

/** The typed client for the api on this origin; the session cookie rides along. Batches stay within the api's limit. */
export const trpc = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: "/trpc", transformer, maxItems: TRPC_MAX_BATCH_CALLS })],
});

export type Outputs = inferRouterOutputs<AppRouter>;
export type Me = NonNullable<Outputs["auth"]["me"]>;

export interface ErrorDetails {
  /** Readable, for a toast or an alert. */
  message: string;
  /** The tRPC code (BAD_REQUEST, CONFLICT, …), or NETWORK when the api could not be reached. */
  code: string;
  /** One message per input field, for inline errors. */
  fieldErrors: Record<string, string>;
  /** Every refused input at its full path (`rules.1.options.pattern`), for forms with lists. */
  issues: { path: string; message: string }[];
}

/** Turns whatever a call threw into what a form shows: field messages inline, the rest in an alert. */
export function describeError(error: unknown): ErrorDetails {
  if (error instanceof TRPCClientError) {
    const data = (error as TRPCClientError<AppRouter>).data;
    const fieldErrors: Record<string, string> = {};
    for (const [field, messages] of Object.entries(data?.fieldErrors ?? {})) {
      const first = (messages as string[] | undefined)?.[0];
      if (first) fieldErrors[field] = first;
    }
    // A domain error names one field and its message is the whole story.
    if (data?.field && !fieldErrors[data.field]) fieldErrors[data.field] = error.message;
    // Without a response body (the api was down, a proxy answered) there is no code.
    if (!data) return { message: "Could not reach QDivZero Compute. Check your connection and try again.", code: "NETWORK", fieldErrors, issues: [] };
    return { message: error.message, code: data.code, fieldErrors, issues: data.issues ?? [] };
  }
  return { message: "Something went wrong. Try again.", code: "UNKNOWN", fieldErrors: {}, issues: [] };
}

/** The message for a form-level alert: null when every field error can be shown next to one of `fields`. */
export function formMessage(details: ErrorDetails, fields: string[]): string | null {
  const claimed = Object.keys(details.fieldErrors).filter((field) => fields.includes(field));
  return claimed.length > 0 ? null : details.message;
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof TRPCClientError && (error as TRPCClientError<AppRouter>).data?.code === "UNAUTHORIZED";
}
