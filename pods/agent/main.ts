/**
 * The sidecar agent of one pod. It installs the account's SSH keys, fetches
 * the model file when the runtime needs one, starts the workload, and
 * reports to the control plane: a heartbeat every second (with the
 * workload's boot phase or health), a resource sample every few seconds,
 * and the workload's exit. The control plane answering 410 means this run is
 * over: the agent stops the workload and exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { HubClient } from "../../src/hub/client";
import type { AgentSpec, HeartbeatBody, SampleBody, WorkloadReport } from "../../src/instances/agent-contract";
import { specFromEnv } from "./env-spec";
import { cpuSeconds, disk, gpuReadings, memoryTotalBytes, residentBytes } from "./resources";

// A settings file (the local provider), or the QDZ_* environment (a sidecar beside the runtime's container).
const spec: AgentSpec = process.argv[2] ? JSON.parse(readFileSync(process.argv[2], "utf8")) : specFromEnv(process.env);
// writeSync: stdout is the pod's log file, where a buffered console.log would show only at exit.
const log = (line: string) => writeSync(1, `${new Date().toISOString()} ${line}\n`);

let workload: ChildProcess | null = null;
let exited: Extract<WorkloadReport, { state: "exited" }> | null = null;
let phase: WorkloadReport = { state: "starting", phase: "starting", progress: null, message: "Starting the pod" };
let stopping = false;

let rejections = 0;

async function report(path: string, body: unknown): Promise<number> {
  // A pod whose directory was removed (its provider forgot it) has nothing left to serve.
  if (!existsSync(spec.podDir)) await shutdown("the pod's directory is gone");
  try {
    const response = await fetch(`${spec.controlUrl}/agent/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${spec.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (response.status === 410) await shutdown("the control plane ended this run");
    // An unknown token, again and again: this control plane does not know the run (its database was replaced).
    rejections = response.status === 401 ? rejections + 1 : 0;
    if (rejections >= 5) await shutdown("the control plane does not know this run");
    return response.status;
  } catch {
    return 0; // the control plane is away (restarting): keep going, the next heartbeat retries
  }
}

function installSshKeys() {
  const ssh = join(spec.podDir, "home", ".ssh");
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  writeFileSync(join(ssh, "authorized_keys"), spec.authorizedKeys.map((k) => `${k}\n`).join(""), { mode: 0o600 });
  log(`installed ${spec.authorizedKeys.length} SSH key(s)`);
}

async function downloadModel() {
  const download = spec.download;
  if (!download) return;
  phase = { state: "starting", phase: "downloading_model", progress: 0, message: `Downloading ${download.file}` };
  const hub = new HubClient({ endpoint: download.hubEndpoint, timeoutMs: 60_000 });
  let logged = -1;
  await hub.download(download.repo, download.file, download.destination, (p) => {
    phase = { state: "starting", phase: "downloading_model", progress: p.fraction, message: `Downloading ${download.file}` };
    const tenth = Math.floor((p.fraction ?? 0) * 10);
    if (tenth > logged) {
      logged = tenth;
      log(`downloading ${download.file}: ${p.receivedBytes} of ${p.totalBytes ?? "?"} bytes`);
    }
  });
  log(`downloaded ${download.file}`);
}

function startWorkload() {
  const output = openSync(join(spec.podDir, "runtime.log"), "a");
  const [command, ...args] = spec.workload.argv;
  workload = spawn(command!, args, { cwd: spec.podDir, stdio: ["ignore", output, output], env: { ...process.env, ...spec.workload.env } });
  closeSync(output);
  // For people (and tests) who need the workload's own pid: the pod's process group leader is the agent.
  writeFileSync(join(spec.podDir, "workload.pid"), String(workload.pid ?? ""));
  log(`workload started (pid ${workload.pid}): ${spec.workload.argv.join(" ")}`);
  workload.on("exit", (code, signal) => {
    if (stopping) return;
    // A runtime's log may hold binary output: NUL cannot be stored, and the control plane refuses it.
    const lastLines = readFileSync(join(spec.podDir, "runtime.log"), "utf8")
      .split("\n")
      .slice(-20)
      .join("\n")
      .replaceAll("\0", "\uFFFD")
      .toWellFormed()
      .slice(-20_000);
    exited = { state: "exited", exitCode: code, signal, lastLines };
    log(`workload exited (code ${code}, signal ${signal})`);
  });
}

/** What the workload's health endpoint says: ready, booting (with phase and progress), or not answering yet. */
async function probe(): Promise<WorkloadReport> {
  if (exited) return exited;
  if (!spec.workload.healthUrl) return { state: "ready" };
  try {
    const response = await fetch(spec.workload.healthUrl, { signal: AbortSignal.timeout(2000) });
    if (response.ok) return { state: "ready" };
    const body = (await response.json().catch(() => null)) as { phase?: string; progress?: number; message?: string } | null;
    return {
      state: "starting",
      phase: body?.phase ?? "loading_model",
      progress: typeof body?.progress === "number" ? body.progress : null,
      message: body?.message ?? `The runtime answered ${response.status} while starting`,
    };
  } catch {
    return phase;
  }
}

async function heartbeatLoop() {
  while (!stopping) {
    const workloadReport = await probe();
    const body: HeartbeatBody = { runId: spec.runId, at: new Date().toISOString(), workload: workloadReport };
    const status = await report("heartbeat", body);
    // After an exit has been delivered there is nothing left to watch.
    if (workloadReport.state === "exited" && status >= 200 && status < 300) await shutdown("the workload exited and the control plane knows");
    await Bun.sleep(spec.heartbeatMs);
  }
}

async function sampleLoop() {
  let previous: { cpu: number; at: number } | null = null;
  const total = memoryTotalBytes();
  while (!stopping) {
    await Bun.sleep(spec.sampleMs);
    const pid = workload?.pid;
    const cpu = pid ? cpuSeconds(pid) : null;
    const now = performance.now();
    const cpuPercent = cpu !== null && previous ? Math.max(0, ((cpu - previous.cpu) / ((now - previous.at) / 1000)) * 100) : null;
    previous = cpu !== null ? { cpu, at: now } : null;
    const space = disk(spec.podDir);
    const body: SampleBody = {
      runId: spec.runId,
      at: new Date().toISOString(),
      cpuPercent,
      memoryUsedBytes: pid ? residentBytes(pid) : null,
      memoryTotalBytes: total,
      diskUsedBytes: space?.used ?? null,
      diskTotalBytes: space?.total ?? null,
      ...(await gpuReadings()),
    };
    await report("samples", body);
  }
}

async function shutdown(reason: string) {
  if (stopping) return;
  stopping = true;
  log(`stopping: ${reason}`);
  if (workload && workload.exitCode === null) {
    workload.kill("SIGTERM");
    const done = new Promise((resolve) => workload!.once("exit", resolve));
    await Promise.race([done, Bun.sleep(8000).then(() => workload?.kill("SIGKILL"))]);
  }
  process.exit(0);
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

installSshKeys();
void heartbeatLoop();
void sampleLoop();
try {
  await downloadModel();
  // As a sidecar the workload is the runtime's own container: nothing to start here.
  if (spec.workload.argv.length > 0) startWorkload();
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  log(`could not start the workload: ${message}`);
  exited = { state: "exited", exitCode: null, signal: null, lastLines: message };
}
