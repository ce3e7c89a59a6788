import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig, projectRoot } from "../../src/config";

describe("config", () => {
  test("works with no settings at all, as on a fresh machine", () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.PUBLIC_URL).toBe("http://localhost:3000");
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.QDZ_DATA_DIR).toBe(`${projectRoot}/.data`);
  });

  test("treats empty strings as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", PORT: "" }).DATABASE_URL).toBeUndefined();
  });

  test("derives the public URL from the port and drops a trailing slash", () => {
    expect(loadConfig({ PORT: "4000" }).PUBLIC_URL).toBe("http://localhost:4000");
    expect(loadConfig({ PUBLIC_URL: "https://compute.example.com/" }).PUBLIC_URL).toBe("https://compute.example.com");
  });

  test("caps image parts per /v1 embeddings request at 16 unless set; only positive integers", () => {
    expect(loadConfig({}).V1_IMAGE_MAX_PER_REQUEST).toBe(16);
    expect(loadConfig({ V1_IMAGE_MAX_PER_REQUEST: "4" }).V1_IMAGE_MAX_PER_REQUEST).toBe(4);
    for (const bad of ["0", "-1", "2.5", "many"]) {
      expect(() => loadConfig({ V1_IMAGE_MAX_PER_REQUEST: bad })).toThrow(/V1_IMAGE_MAX_PER_REQUEST/);
    }
  });

  test("fails with a readable message naming each bad setting", () => {
    const attempt = () => loadConfig({ PORT: "eighty", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain("PORT");
      expect(message).toContain("DATABASE_URL");
      expect(message).toContain("LOG_LEVEL");
    }
  });
});
