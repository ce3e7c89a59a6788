import type { OpenApiDocument } from "#lib/openapi.ts";
import type { PageLoad } from "./$types";

/** The document the api publishes: the page shows exactly what scripts read. */
export const load: PageLoad = async ({ fetch }) => {
  const response = await fetch("/openapi.json");
  return { document: (await response.json()) as OpenApiDocument };
};
