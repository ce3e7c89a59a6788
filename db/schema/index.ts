export * from "./accounts";
export * from "./keys";
