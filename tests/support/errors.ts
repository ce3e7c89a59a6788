import { expect } from "bun:test";
import { TRPCError } from "@trpc/server";

/** Awaits `promise`, expecting it to fail with the tRPC `code`; returns the error for further checks. */
export async function expectTrpcError(promise: Promise<unknown>, code: TRPCError["code"]): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe(code);
    return error as TRPCError;
  }
  throw new Error(`expected a ${code} error, but the call succeeded`);
}

/** The messages of a rejection and its causes (drizzle wraps PostgreSQL's error in a "Failed query" one). */
export async function rejectionMessages(promise: PromiseLike<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const messages: string[] = [];
    for (let e: any = error; e; e = e.cause) messages.push(String(e.message));
    return messages.join(" <- ");
  }
  throw new Error("expected a rejection, but it succeeded");
}
