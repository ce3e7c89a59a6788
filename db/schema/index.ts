export * from "./accounts";
export * from "./keys";
export * from "./billing";
