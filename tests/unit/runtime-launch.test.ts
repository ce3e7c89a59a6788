import { describe, expect, test } from "bun:test";
import type { RuntimeConfig } from "../../db/schema";
import { expandEnvRefs } from "../../src/providers/seam";
import { renderLaunch } from "../../src/runtimes/launch";

const llamaCpp: RuntimeConfig = {
  runtimeId: "llama.cpp",
  templateId: null,
  image: "ghcr.io/ggml-org/llama.cpp@sha256:204d",
  command: [
    "llama-server",
    "--model",
    "{model_file}",
    "--alias",
    "{served_model_name}",
    "--host",
    "{host}",
    "--port",
    "{port}",
    "--ctx-size",
    "{context_length}",
  ],
  localBinary: "llama-server",
  port: 8080,
  healthPath: "/health",
  ports: [],
  contextLength: 4096,
};

const subject = {
  podId: "pod_1",
  instanceId: "inst_1",
  runId: "run_1",
  gpuType: "L4",
  gpuCount: 1,
  sshAuthorizedKeys: ["ssh-ed25519 AAAA ada"],
  agent: { controlUrl: "https://api.example.com", token: "qdza_secret" },
  hubEndpoint: "https://huggingface.co",
};

describe("a runtime rendered into a launch, once, for every provider", () => {
  test("the model's facts fill the catalog's placeholders; the pod's network and files are $(QDZ_…) references to its env", () => {
    const launch = renderLaunch({
      ...subject,
      config: llamaCpp,
      serving: { servedModelName: "qwen", model: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", modelFile: "q4.gguf", task: "chat" },
    });
    expect(launch.command).toEqual([
      "llama-server",
      "--model",
      "$(QDZ_MODEL_DIR)/q4.gguf",
      "--alias",
      "qwen",
      "--host",
      "$(QDZ_HOST)",
      "--port",
      "$(QDZ_PORT_RUNTIME)",
      "--ctx-size",
      "4096",
    ]);
    expect(launch.ports).toEqual([{ name: "runtime", port: 8080, protocol: "http" }]);
    expect(launch.healthPath).toBe("/health");
    expect(launch.env).toMatchObject({
      QDZ_HOST: "0.0.0.0",
      QDZ_PORT_RUNTIME: "8080",
      QDZ_MODEL_DIR: "/models",
      QDZ_MODEL_DOWNLOAD: JSON.stringify({ hubEndpoint: "https://huggingface.co", repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", file: "q4.gguf" }),
      QDZ_AGENT_TOKEN: "qdza_secret",
      QDZ_CONTROL_URL: "https://api.example.com",
      QDZ_HEALTH_URL: "http://127.0.0.1:8080/health",
    });
    // In a container, the argv the runtime gets:
    expect(expandEnvRefs(launch.command!, launch.env)).toContain("/models/q4.gguf");
    expect(expandEnvRefs(launch.command!, launch.env).slice(5, 9)).toEqual(["--host", "0.0.0.0", "--port", "8080"]);
  });

  test("a plain template pod runs its image's entrypoint with its ports, and no health check", () => {
    const launch = renderLaunch({
      ...subject,
      config: {
        ...llamaCpp,
        runtimeId: null,
        templateId: "pytorch",
        command: [],
        port: null,
        healthPath: null,
        ports: [
          { port: 22, name: "ssh" },
          { port: 8888, name: "jupyter" },
        ],
      },
      serving: null,
    });
    expect(launch.command).toBeNull();
    expect(launch.healthPath).toBeNull();
    expect(launch.ports).toEqual([
      { name: "ssh", port: 22, protocol: "tcp" },
      { name: "jupyter", port: 8888, protocol: "http" },
    ]);
    expect(launch.env).toMatchObject({ QDZ_PORT_SSH: "22", QDZ_PORT_JUPYTER: "8888" });
  });
});

describe("$(NAME) expansion, as Kubernetes does it", () => {
  test("known variables expand, $$( escapes, unknown ones are left as written", () => {
    expect(expandEnvRefs(["--port=$(PORT)", "$$(PORT)", "$(NOPE)", "$(PORT)$(PORT)", "$PORT"], { PORT: "8080" })).toEqual([
      "--port=8080",
      "$(PORT)",
      "$(NOPE)",
      "80808080",
      "$PORT",
    ]);
  });
});
