/**
 * How tRPC calls travel, shared by the api and its clients (web app, CLI).
 * Imports superjson only, so the web bundle can take it.
 */
import type { CombinedDataTransformer } from "@trpc/server";
import superjson from "superjson";

const plainJson = { serialize: (value: unknown) => value, deserialize: (value: unknown) => value };

/**
 * Inputs as plain JSON, outputs as superjson (Dates arrive as Dates).
 * superjson's deserialiser follows a `meta` the sender writes and recurses
 * without bound on a hostile one, so it only ever reads what the api wrote.
 * Input schemas therefore take JSON types only: no Date, Map, Set or bigint.
 */
export const transformer: CombinedDataTransformer = { input: plainJson, output: superjson };

/** The most calls one batched request may carry; more are refused with a 400 before any runs. */
export const TRPC_MAX_BATCH_CALLS = 25;
