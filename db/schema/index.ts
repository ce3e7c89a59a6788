export * from "./accounts";
export * from "./keys";
export * from "./billing";
export * from "./catalog";
export * from "./instances";
export * from "./runtime-installs";
export * from "./firewalls";
