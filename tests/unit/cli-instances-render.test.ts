import { describe, expect, test } from "bun:test";
import { progressBar, progressKey, progressLine, settle } from "../../src/cli/commands/instances/progress";
import {
  type Assessment,
  currentRun,
  type Detail,
  failureMessage,
  formatGiB,
  formatParameters,
  gpuLabel,
  renderAssessment,
  renderBulk,
  renderDetail,
  renderInstanceTable,
  renderRunning,
} from "../../src/cli/commands/instances/render";

const SERVER = "http://localhost:3000";
const booting = (phase: string, progress: number | null, message = "…") => ({ phase, progress, message, at: "2025-01-31T14:05:00.000Z" });

function detail(overrides: Partial<Detail> = {}): Detail {
  return {
    id: "inst_abc",
    name: null,
    displayName: "inst_abc",
    state: "running",
    servingName: "qwen2.5-0.5b-instruct",
    hfRepo: "Qwen/Qwen2.5-0.5B-Instruct",
    runtimeId: "reference",
    templateId: null,
    gpuType: "L4",
    gpuCount: 1,
    gpuPreferences: ["L4", "L40S"],
    tier: "secure",
    region: "local",
    providerId: "local",
    rateCentsPerHour: 79,
    progress: null,
    failureReason: null,
    createdAt: new Date("2025-01-31T14:05:00.000Z"),
    stateChangedAt: new Date("2025-01-31T14:05:03.000Z"),
    description: null,
    task: "chat",
    modelFile: null,
    contextLength: 32768,
    allowedRegions: [],
    maxPriceCentsPerHour: null,
    placementMode: "smart",
    minVramGib: null,
    pricingSnapshot: {} as Detail["pricingSnapshot"],
    runtimeConfig: {} as Detail["runtimeConfig"],
    modelAssessment: null,
    failureRemediation: null,
    events: [
      { id: 1, at: new Date("2025-01-31T14:05:00.000Z"), from: null, to: "pending", cause: "launched", detail: null },
      { id: 2, at: new Date("2025-01-31T14:05:03.000Z"), from: "pending", to: "running", cause: "the runtime passed its health check", detail: null },
    ],
    placement: {
      id: 1,
      instanceId: "inst_abc",
      runId: "run_1",
      mode: "smart",
      considered: { ranked: [{ offer: { id: "local/L4/secure" }, reason: "L4 on local in local (secure): score 1.000" }] },
      attempts: [],
      chosenOfferId: "local/L4/secure",
      decidedAt: new Date("2025-01-31T14:05:01.000Z"),
    },
    runs: [
      {
        id: "run_1",
        number: 1,
        providerId: "local",
        podId: "pod_1",
        region: "local",
        gpuType: "L4",
        rateCentsPerHour: 79,
        runtimeUrl: "http://127.0.0.1:4000",
        ports: [{ name: "openai", port: 8000, url: "http://127.0.0.1:4001" }],
        createdAt: new Date("2025-01-31T14:05:00.000Z"),
        runningAt: new Date("2025-01-31T14:05:03.000Z"),
        lastHeartbeatAt: new Date("2025-01-31T14:05:04.000Z"),
        endedAt: null,
        endReason: null,
      },
    ],
    ...overrides,
  } as Detail;
}

describe("settle", () => {
  test("waiting for running: pending waits; any state it cannot run from without a new action fails", () => {
    expect(settle("running", "running")).toBe("reached");
    expect(settle("pending", "running")).toBe("waiting");
    for (const state of ["failed", "non_bootstrap", "stopping", "stopped"] as const) expect(settle(state, "running")).toBe("failed");
  });

  test("waiting for stopped: live states wait; a stop that ends in failed fails", () => {
    expect(settle("stopped", "stopped")).toBe("reached");
    for (const state of ["pending", "running", "stopping"] as const) expect(settle(state, "stopped")).toBe("waiting");
    expect(settle("failed", "stopped")).toBe("failed");
  });
});

describe("progress", () => {
  test("a bar of 20 cells with the percentage, clamped to 0..100", () => {
    expect(progressBar(0)).toBe("[....................]   0%");
    expect(progressBar(0.35)).toBe("[#######.............]  35%");
    expect(progressBar(1)).toBe("[####################] 100%");
    expect(progressBar(1.7)).toBe("[####################] 100%");
    expect(progressBar(-1, 4)).toBe("[....]   0%");
  });

  test("a line: state and time waited, then phase, bar when known, message", () => {
    expect(progressLine("pending", booting("downloading_model", 0.5, "Downloading Qwen: 50%"), 4.7)).toBe(
      "pending 4s · downloading model [##########..........]  50% · Downloading Qwen: 50%",
    );
    expect(progressLine("pending", booting("queued", null, "Waiting for placement"), 0)).toBe("pending 0s · queued · Waiting for placement");
    expect(progressLine("pending", null, 2)).toBe("pending 2s");
  });

  test("outside pending the last boot's progress is stale and left out", () => {
    expect(progressLine("stopping", booting("queued", null, "Waiting for placement"), 1)).toBe("stopping 1s");
    expect(progressLine("non_bootstrap", null, 1)).toBe("non-bootstrap 1s");
  });

  test("a log gets a new line on a new state or phase, or every tenth of a download", () => {
    const key = (progress: number | null, phase = "downloading_model") => progressKey("pending", booting(phase, progress));
    expect(key(0.31)).toBe(key(0.39));
    expect(key(0.39)).not.toBe(key(0.4));
    expect(key(null, "queued")).not.toBe(key(null, "allocating"));
    expect(progressKey("stopping", booting("queued", null))).toBe(progressKey("stopping", booting("allocating", null)));
  });
});

describe("instances table", () => {
  test("one row per instance; an unplaced instance shows its GPU preferences and no rate", () => {
    const pending = detail({ id: "inst_new", name: "demo", state: "pending", gpuType: null, rateCentsPerHour: null, servingName: null });
    expect(renderInstanceTable([detail(), pending]).split("\n")).toEqual([
      "ID        NAME  STATE    SERVING NAME           GPU        €/H    CREATED",
      "inst_abc  -     running  qwen2.5-0.5b-instruct  1×L4       €0.79  2025-01-31 14:05 UTC",
      "inst_new  demo  pending  -                      1×L4/L40S  -      2025-01-31 14:05 UTC",
    ]);
  });

  test("gpuLabel counts GPUs", () => {
    expect(gpuLabel({ gpuType: "A100-80G", gpuCount: 2, gpuPreferences: ["A100-80G"] })).toBe("2×A100-80G");
  });
});

describe("renderDetail", () => {
  test("state, endpoint, placement with its reason, the current run, then the timeline to the second", () => {
    const text = renderDetail(detail(), SERVER);
    expect(text).toBe(
      [
        "id:              inst_abc",
        "name:            -",
        "state:           running since 2025-01-31 14:05 UTC",
        "serving name:    qwen2.5-0.5b-instruct",
        'endpoint:        http://localhost:3000/v1 (model "qwen2.5-0.5b-instruct")',
        "model:           Qwen/Qwen2.5-0.5B-Instruct on reference (chat, context 32768)",
        "placement:       local, region local, 1×L4, €0.79/h (secure, smart)",
        "placed because:  L4 on local in local (secure): score 1.000",
        "runtime URL:     http://127.0.0.1:4000 (run 1, pod pod_1)",
        "port openai:     8000 → http://127.0.0.1:4001",
        "created:         2025-01-31 14:05 UTC",
        "",
        "Events:",
        "TIME                     FROM     TO       CAUSE",
        "2025-01-31 14:05:00 UTC  -        pending  launched",
        "2025-01-31 14:05:03 UTC  pending  running  the runtime passed its health check",
      ].join("\n"),
    );
  });

  test("a failed instance shows reason and remediation, and no runtime URL once its run ended", () => {
    const failed = detail({
      state: "failed",
      failureReason: "The runtime process was killed by SIGKILL.",
      failureRemediation: "Pick GPUs with more VRAM.",
      runs: [{ ...detail().runs[0]!, endedAt: new Date("2025-01-31T14:06:00.000Z") }],
    });
    const text = renderDetail(failed, SERVER);
    expect(text).toContain("\nfailure:         The runtime process was killed by SIGKILL.\nremediation:     Pick GPUs with more VRAM.\n");
    expect(text).not.toContain("runtime URL");
    expect(currentRun(failed)).toBeNull();
  });

  test("a pending instance shows its boot progress; an unplaced one its preferences", () => {
    const pending = detail({
      state: "pending",
      stateChangedAt: new Date(),
      progress: booting("downloading_model", 0.25, "Downloading"),
      providerId: null,
      gpuType: null,
      region: null,
      rateCentsPerHour: null,
      placement: null,
      runs: [],
    });
    const text = renderDetail(pending, SERVER);
    expect(text).toMatch(/\nprogress:\s+pending \d+s · downloading model \[#####\.+\] {2}25% · Downloading\n/);
    expect(text).toContain("\nplacement:     not placed yet: 1×L4/L40S (secure, smart)\n");
  });

  test("a plain pod has no endpoint; running, it lists its ports", () => {
    const pod = detail({ servingName: null, hfRepo: null, runtimeId: null, templateId: "ubuntu-24.04", task: null, contextLength: null });
    expect(renderDetail(pod, SERVER)).not.toContain("endpoint");
    expect(renderDetail(pod, SERVER)).toContain("\nmodel:           - (template ubuntu-24.04)\n");
    expect(renderRunning(pod, SERVER)).toBe(
      [
        "Instance inst_abc is running.",
        "id:           inst_abc",
        "placement:    local, region local, 1×L4, €0.79/h",
        "port openai:  8000 → http://127.0.0.1:4001",
      ].join("\n"),
    );
    expect(renderRunning(detail(), SERVER)).toContain('\nendpoint:   http://localhost:3000/v1 (model "qwen2.5-0.5b-instruct")\n');
  });
});

describe("renderAssessment", () => {
  const assessment = (overrides: Partial<Assessment> = {}): Assessment =>
    ({
      ok: false,
      repo: "Qwen/Qwen3-8B",
      source: "snapshot",
      architecture: "Qwen3ForCausalLM",
      tasks: ["chat"],
      task: "chat",
      modalities: ["text"],
      parameterCount: 8_190_735_360,
      dtype: "BF16",
      format: "safetensors",
      file: null,
      contextLength: 40960,
      maxContextLength: 40960,
      vram: { weightsGiB: 15.3, kvCacheGiB: 5.6, overheadGiB: 1.6, totalGiB: 22.5 },
      availableGiB: 24,
      usableGiB: 21.6,
      fitsOn: [{ name: "A100-40G", vramGiB: 40, count: 1 }],
      problems: [{ code: "does_not_fit", message: "Qwen3-8B needs ~23 GiB of VRAM.", remediation: "pick 1×A100-40G" }],
      ...overrides,
    }) as Assessment;

  test("the verdict, the facts, then each problem with its remediation", () => {
    expect(renderAssessment(assessment(), { runtime: "vLLM", gpus: "1×L4" })).toBe(
      [
        "Qwen/Qwen3-8B on vLLM with 1×L4: cannot launch (1 problem).",
        "model:    Qwen3ForCausalLM, 8.2 B parameters, BF16, safetensors (from the bundled metadata snapshot)",
        "task:     chat",
        "context:  40,960 tokens",
        "VRAM:     ~23 GiB needed, 21.6 GiB usable of 24 GiB",
        "fits on:  1×A100-40G",
        "- Qwen3-8B needs ~23 GiB of VRAM.",
        "  remediation: pick 1×A100-40G",
      ].join("\n"),
    );
  });

  test("a repo the hub could not tell about: only the verdict and the problem", () => {
    const unknown = assessment({
      source: null,
      architecture: null,
      parameterCount: null,
      dtype: null,
      format: null,
      task: null,
      contextLength: null,
      vram: null,
      fitsOn: [],
      problems: [
        { code: "not_found", message: "No repo a/b.", remediation: "check the repo id" },
        { code: "unreachable", message: "Down.", remediation: "try again" },
      ],
    });
    expect(renderAssessment(unknown, { runtime: "vLLM", gpus: "1×L4" })).toBe(
      "Qwen/Qwen3-8B on vLLM with 1×L4: cannot launch (2 problems).\n- No repo a/b.\n  remediation: check the repo id\n- Down.\n  remediation: try again",
    );
  });

  test("sizes for people", () => {
    expect(formatParameters(494_032_768)).toBe("494 M");
    expect(formatParameters(8_190_735_360)).toBe("8.2 B");
    expect(formatGiB(22.5)).toBe("~23 GiB");
    expect(formatGiB(2.21)).toBe("~2.3 GiB");
  });
});

describe("bulk results and failures", () => {
  test("what changed, then each skipped instance with why", () => {
    expect(
      renderBulk(
        { changed: ["inst_a"], skipped: [{ id: "inst_b", state: "stopped", reason: "already stopped" }] },
        { changed: "Stopping", none: "Nothing to stop" },
      ),
    ).toBe("Stopping: inst_a.\nSkipped inst_b: already stopped.");
    expect(renderBulk({ changed: [], skipped: [] }, { changed: "Stopping", none: "Nothing to stop" })).toBe("Nothing to stop.");
  });

  test("a failure names the instance, its state, the reason and the remediation", () => {
    expect(failureMessage({ id: "inst_a", state: "non_bootstrap", failureReason: "Never healthy.", failureRemediation: "Pick a bigger GPU." })).toBe(
      "Instance inst_a is non-bootstrap: Never healthy.\nremediation: Pick a bigger GPU.",
    );
    expect(failureMessage({ id: "inst_a", state: "stopped", failureReason: null, failureRemediation: null })).toBe(
      "Instance inst_a is stopped: It was stopped while waiting.",
    );
  });
});
