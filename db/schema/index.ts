export * from "./accounts";
export * from "./billing";
export * from "./catalog";
export * from "./firewalls";
export * from "./instances";
export * from "./keys";
export * from "./runtime-installs";
export * from "./usage";
