/**
 * `qdz instances …` against the real platform started the way the README
 * starts it: real pods on the local provider (a sidecar agent and the
 * reference runtime per pod), the Hugging Face hub unreachable (the shipped
 * metadata snapshots answer for the repos used here), credit through the
 * development gateway as a user pays it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "../../src/cli/client";
import { CredentialStore } from "../../src/cli/credentials";
import { randomBase62 } from "../../src/ids";
import { isAlive } from "../../src/platform/embedded-postgres";
import { expectCopy, failed as failedRun, parsed } from "../support/cli-results";
import { type CliResult, type CliRunner, cliRunner, isPortOpen, newDataDir, type Platform, removeDataDir, startPlatform, waitUntil } from "../support/platform";

/** Errors come after the progress notes these commands print on stderr. */
const failed = (result: CliResult, exitCode = 1) => failedRun(result, exitCode, { notes: true });

const TIMEOUT = 180_000;
const PASSWORD = "correct horse battery staple";
const MODEL = "Qwen/Qwen2.5-0.5B-Instruct";
/** No --gpu: the launch check picks the cheapest free GPU the model fits on. */
const LAUNCH_ANY_GPU = ["instances", "launch", "--runtime", "reference", "--model", MODEL];
const LAUNCH = [...LAUNCH_ANY_GPU, "--gpu", "L4"];
/** The default inventory has one H100: taken by one instance, unplaceable for the next. */
const LAUNCH_H100 = [...LAUNCH_ANY_GPU, "--gpu", "H100-80G"];
const dataDirs: string[] = [];
const platforms: Platform[] = [];
const runners: CliRunner[] = [];

afterAll(async () => {
  for (const runner of runners) runner.cleanup();
  for (const platform of platforms) await platform.stop().catch(() => {});
  // A failed test can leave pods behind: they are detached from the platform by design.
  for (const dir of dataDirs) for (const pid of podProcesses(dir)) kill(pid, "SIGKILL");
  for (const dir of dataDirs) await removeDataDir(dir);
}, 120_000);

async function newPlatform(dataDir = newDataDir(), env?: Record<string, string>): Promise<Platform> {
  if (!dataDirs.includes(dataDir)) dataDirs.push(dataDir);
  const platform = await startPlatform(dataDir, { env });
  platforms.push(platform);
  return platform;
}

/** A new person at a new terminal. */
function newCli(platform: Platform): CliRunner {
  const cli = cliRunner(platform.url);
  runners.push(cli);
  return cli;
}

/** Signs up through the CLI; returns a tRPC client acting as the same user in the browser (to pay checkouts). */
async function signUp(platform: Platform, cli: CliRunner) {
  const email = `instances-${randomBase62(8).toLowerCase()}@example.com`;
  parsed(await cli(["signup", "--email", email, "--password-stdin", "--json"], { stdin: `${PASSWORD}\n` }));
  const token = new CredentialStore(cli.configDir).get(platform.url)!.token;
  return createClient(platform.url, token);
}

/** `qdz topup`, paid the way the development gateway's Pay button pays it. */
async function topUp(cli: CliRunner, browser: Awaited<ReturnType<typeof signUp>>, eur: string) {
  const { id } = parsed(await cli(["topup", eur, "--json"]));
  await browser.billing.completeDevCheckout.mutate({ id, outcome: "pay" });
}

const show = async (cli: CliRunner, id: string) => parsed(await cli(["instances", "show", id, "--json"]));

async function waitForState(cli: CliRunner, id: string, state: string, timeoutMs = 30_000) {
  let last: any;
  await waitUntil(
    `instance ${id} is ${state}`,
    async () => {
      last = await show(cli, id);
      return last.state === state;
    },
    timeoutMs,
  );
  return last;
}

/** Whether anything answers at `url` (a stopped pod's runtime must not). */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

async function chat(runtimeUrl: string, model: string) {
  const response = await fetch(`${runtimeUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Say hello." }], max_tokens: 5 }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const commandLine = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

/** Live processes of pods in `dataDir`: agents (their argv names the pod dir) and workloads (they run in it). */
function podProcesses(dataDir: string): number[] {
  const pods = join(dataDir, "pods");
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // exited, or not ours to read
      }
      return isAlive(pid) && (cwd.startsWith(pods) || (commandLine(pid).includes("pods/agent/main.ts") && commandLine(pid).includes(pods)));
    });
}

function kill(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const workloadPid = (dataDir: string, podId: string) => Number(readFileSync(join(dataDir, "pods", podId, "workload.pid"), "utf8"));

describe("an instance's life through the CLI", () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await newPlatform();
  }, 120_000);

  test(
    "launch --wait, call the runtime, stop, start on a new pod, a killed runtime fails with reason and remediation, delete",
    async () => {
      const cli = newCli(platform);
      const browser = await signUp(platform, cli);
      expect(parsed(await cli(["instances", "list", "--json"]))).toEqual([]);
      expect((await cli(["instances", "list"])).stdout).toStartWith("No instances yet.");

      // A new account has nothing: the launch is refused with how much to top up, and how.
      const poor = await cli([...LAUNCH, "--json"]);
      expect(poor.stdout).toBe("");
      const refusal = failed(poor);
      expect(refusal.code).toBe("PRECONDITION_FAILED");
      expect(refusal.message).toContain("Top up at least 0.79 €.");
      expect(refusal.message).toEndWith("Run `qdz topup <eur>`.");
      expect((await cli(LAUNCH)).stderr).toMatch(/^error: This launch costs 0\.79 €\/h .* Run `qdz topup <eur>`\.\n$/);
      expect(parsed(await cli(["instances", "list", "--json"]))).toEqual([]);

      await topUp(cli, browser, "10");

      const started = Date.now();
      const running = parsed(await cli([...LAUNCH, "--wait", "--json"]));
      expect(Date.now() - started).toBeLessThan(20_000);
      expectCopy(running).toMatchObject({
        id: expect.stringMatching(/^inst_/),
        state: "running",
        servingName: "qwen2.5-0.5b-instruct",
        hfRepo: MODEL,
        runtimeId: "reference",
        gpuType: "L4",
        gpuCount: 1,
        providerId: "local",
        region: "local",
        rateCentsPerHour: 79,
        progress: null,
      });
      const id: string = running.id;
      expect(running.runs).toHaveLength(1);
      expect(running.events.map((event: any) => [event.from, event.to])).toEqual([
        [null, "pending"],
        ["pending", "running"],
      ]);

      const rows = parsed(await cli(["instances", "list", "--json"]));
      expect(rows.map((row: any) => [row.id, row.state, row.servingName])).toEqual([[id, "running", "qwen2.5-0.5b-instruct"]]);
      const table = (await cli(["instances", "list"])).stdout.trimEnd().split("\n");
      expect(table[0]).toMatch(/^ID\s+NAME\s+STATE\s+SERVING NAME\s+GPU\s+€\/H\s+CREATED$/);
      expect(table[1]).toMatch(new RegExp(`^${id}\\s+-\\s+running\\s+qwen2\\.5-0\\.5b-instruct\\s+1×L4\\s+€0\\.79\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`));

      // The current run's runtime answers directly, as the platform's /v1 would route to it.
      const detail = await show(cli, id);
      const firstRun = detail.runs[0];
      expect(firstRun).toMatchObject({ number: 1, providerId: "local", endedAt: null });
      expect(firstRun.runtimeUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(firstRun.podId).toMatch(/^pod_/);
      const answer = await chat(firstRun.runtimeUrl, detail.servingName);
      expect(answer.status).toBe(200);
      expect(answer.body.model).toBe("qwen2.5-0.5b-instruct");
      expect(answer.body.choices[0].message.content.length).toBeGreaterThan(0);

      const human = await cli(["instances", "show", id]);
      expect(human.code).toBe(0);
      const field = (label: string, value: string) => new RegExp(`\\n${label}:\\s+${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n`);
      expect(human.stdout).toMatch(field("endpoint", `${platform.url}/v1 (model "qwen2.5-0.5b-instruct")`));
      expect(human.stdout).toMatch(field("runtime URL", `${firstRun.runtimeUrl} (run 1, pod ${firstRun.podId})`));
      expect(human.stdout).toMatch(/placement:\s+local, region local, 1×L4, €0\.79\/h \(secure, smart\)/);
      expect(human.stdout).toMatch(/\nEvents:\nTIME\s+FROM\s+TO\s+CAUSE\n.*-\s+pending\s+launched\n.*pending\s+running\s+the runtime passed its health check/);

      // Stop: the pod is released, its runtime gone; record and settings are kept.
      expect(parsed(await cli(["instances", "stop", id, "--json"]))).toMatchObject({ id, state: "stopping" });
      const stopped = await waitForState(cli, id, "stopped");
      expect(stopped.runs[0].endedAt).not.toBeNull();
      await waitUntil("the stopped pod's runtime no longer answers", async () => !(await answers(firstRun.runtimeUrl)), 10_000);
      // Stopping it again is refused: it cannot stop from stopped.
      expect(failed(await cli(["instances", "stop", id, "--json"])).code).toBe("CONFLICT");

      // Start: a new run on a new pod; for people, progress on stderr and the endpoint on stdout.
      const restarted = await cli(["instances", "start", id, "--wait"]);
      expect(restarted.code).toBe(0);
      expect(restarted.stdout).toStartWith(`Instance ${id} is running.\n`);
      expect(restarted.stdout).toContain(`${platform.url}/v1 (model "qwen2.5-0.5b-instruct")`);
      expect(restarted.stderr).toStartWith(`Starting ${id} on a new pod; waiting until it runs`);
      expect(restarted.stderr).toMatch(/\npending \d+s · /);
      const second = await show(cli, id);
      expect(second.state).toBe("running");
      expect(second.runs.map((run: any) => run.number)).toEqual([2, 1]);
      expect(second.runs[0].podId).not.toBe(firstRun.podId);
      expect(second.runs[0].endedAt).toBeNull();
      expect((await chat(second.runs[0].runtimeUrl, "qwen2.5-0.5b-instruct")).status).toBe(200);

      // The runtime process dies (SIGKILL, as the OOM killer does): failed, with reason and remediation.
      kill(workloadPid(platform.dataDir, second.runs[0].podId), "SIGKILL");
      const dead = await waitForState(cli, id, "failed");
      expect(dead.failureReason).toBe("The runtime process was killed by SIGKILL.");
      expect(dead.failureRemediation).toContain("ran out of memory or was killed");
      expect(dead.events.at(-1)).toMatchObject({ from: "running", to: "failed", cause: "The runtime process was killed by SIGKILL." });
      const failedShow = (await cli(["instances", "show", id])).stdout;
      expect(failedShow).toMatch(/\nfailure:\s+The runtime process was killed by SIGKILL\.\n/);
      expect(failedShow).toMatch(/\nremediation:\s+The pod ran out of memory or was killed\./);

      // Delete: not without confirmation when no one can be asked; with --yes it leaves the list.
      const unconfirmed = await cli(["instances", "delete", id, "--json"]);
      expect(unconfirmed.stdout).toBe("");
      expect(failed(unconfirmed, 2)).toEqual({
        code: "USAGE",
        message: "Deleting an instance cannot be undone: pass --yes to confirm (prompts need a terminal).",
      });
      expect(parsed(await cli(["instances", "delete", id, "--yes", "--json"]))).toEqual({ changed: [id], skipped: [] });
      expect(parsed(await cli(["instances", "list", "--json"]))).toEqual([]);
      expect(failed(await cli(["instances", "show", id, "--json"]))).toEqual({ code: "NOT_FOUND", message: `Instance '${id}' was not found.` });
      await waitUntil("no pod process is left", () => podProcesses(platform.dataDir).length === 0, 20_000);
    },
    TIMEOUT,
  );

  test(
    "--validate-only prints the assessment and exits 0 or 1; a model that does not fit is not launched",
    async () => {
      const cli = newCli(platform);
      await signUp(platform, cli);

      const fits = parsed(await cli([...LAUNCH, "--validate-only", "--json"]));
      expectCopy(fits).toMatchObject({ ok: true, repo: MODEL, source: "snapshot", task: "chat", problems: [] });
      const fitsHuman = await cli([...LAUNCH, "--validate-only"]);
      expect(fitsHuman.code).toBe(0);
      expect(fitsHuman.stdout).toStartWith(`${MODEL} on QDivZero reference runtime with 1×L4: can launch.\n`);
      expect(fitsHuman.stdout).toMatch(/\nplacement:\s+1×L4 on local in local \(secure\) at €0\.79\/h, 2 free now\n/);

      // No --gpu: the cheapest free GPU the model fits on is picked, and the output says which and why.
      const picked = await cli([...LAUNCH_ANY_GPU, "--validate-only"]);
      expect(picked.code).toBe(0);
      expect(picked.stdout).toStartWith(`${MODEL} on QDivZero reference runtime with 1×L4: can launch.\n`);
      expect(picked.stdout).toMatch(/\nGPU:\s+L4 \(picked: cheapest free GPU with ≥ \d+ GiB\)\n/);
      expectCopy(parsed(await cli([...LAUNCH_ANY_GPU, "--validate-only", "--json"]))).toMatchObject({
        ok: true,
        gpuPreferences: ["L4"],
        placement: { placeable: true, picked: { gpuType: "L4", gpuCount: 1, priceCentsPerHour: 79 }, best: { gpuType: "L4", priceCentsPerHour: 79 } },
      });

      const tooBig = ["instances", "launch", "--runtime", "vllm", "--model", "Qwen/Qwen3-8B", "--gpu", "L4"];
      const json = await cli([...tooBig, "--validate-only", "--json"]);
      expect(json.code).toBe(1);
      const assessment = JSON.parse(json.stdout);
      expect(assessment.ok).toBe(false);
      expect(assessment.problems.map((problem: any) => problem.code)).toEqual(["does_not_fit"]);
      expect(assessment.problems[0].remediation).toContain("pick 1×A100-40G or 1×L40S");
      // The assessment is the answer on stdout; the refusal still comes as the error document, last on stderr.
      const { error, ...besides } = JSON.parse(json.stderr.trimEnd().split("\n").at(-1)!);
      expect(besides).toEqual({});
      expect(error.code).toBe("INVALID_MODEL");
      expect(error.message).toStartWith("Qwen/Qwen3-8B cannot launch on vLLM with 1×L4:\n- Qwen3-8B needs ~23 GiB of VRAM");
      expect(error.message).toContain("\n  remediation: pick 1×A100-40G or 1×L40S");

      const human = await cli([...tooBig, "--validate-only"]);
      expect(human.code).toBe(1);
      expect(human.stdout).toStartWith("Qwen/Qwen3-8B on vLLM with 1×L4: cannot launch (1 problem).\n");
      expect(human.stdout).toMatch(/\n- Qwen3-8B needs ~23 GiB of VRAM .*\n {2}remediation: pick 1×A100-40G or 1×L40S/);
      expect(human.stderr).toStartWith("error: Qwen/Qwen3-8B cannot launch on vLLM with 1×L4:\n");

      // Without --validate-only the same check refuses the launch, before the balance is even looked at.
      const launch = await cli([...tooBig, "--json"]);
      expect(launch.stdout).toBe("");
      expect(failed(launch).code).toBe("INVALID_MODEL");
      expect(parsed(await cli(["instances", "list", "--json"]))).toEqual([]);
    },
    TIMEOUT,
  );

  test(
    "usage errors exit 2 before anything is sent; unknown catalog ids are named with what there is",
    async () => {
      const cli = newCli(platform);
      const usage = async (args: string[]) => failed(await cli([...args, "--json"]), 2);
      expect((await usage(["instances", "launch", "--model", MODEL, "--gpu", "L4"])).message).toContain("Choose what to run");
      expect((await usage(["instances", "launch", "--runtime", "reference", "--template", "vllm", "--model", MODEL, "--gpu", "L4"])).message).toBe(
        "Use either --runtime or --template, not both.",
      );
      expect((await usage(["instances", "launch", "--runtime", "reference", "--gpu", "L4"])).message).toContain("--runtime needs --model");
      expect((await usage([...LAUNCH, "--max-price", "0"])).message).toContain("--max-price '0' is zero");
      expect((await usage([...LAUNCH, "--gpus", "9"])).code).toBe("USAGE");
      expect((await usage([...LAUNCH, "--tier", "gold"])).message).toContain("secure, community");
      expect((await usage(["instances", "stop"])).code).toBe("USAGE");
      expect(failed(await cli(["instances", "list", "--json"]))).toEqual({
        code: "NOT_SIGNED_IN",
        message: "Not signed in. Run `qdz login` (or set QDZ_API_KEY).",
      });

      await signUp(platform, cli);
      expect(failed(await cli(["instances", "launch", "--runtime", "reference", "--model", MODEL, "--gpu", "T4", "--json"])).message).toStartWith(
        "There is no GPU type 'T4'. Pick from: L4, RTX4090,",
      );
      expect(failed(await cli(["instances", "launch", "--runtime", "tgi", "--model", MODEL, "--gpu", "L4", "--json"])).message).toStartWith(
        "There is no runtime 'tgi'.",
      );
      const catalog = parsed(await cli(["instances", "catalog", "--json"]));
      expect(catalog.runtimes.map((runtime: any) => runtime.id)).toContain("reference");
      expect((await cli(["instance", "catalog"])).stdout).toMatch(/^GPU types \(--gpu\):\nID\s+NAME\s+VRAM\nL4\s+NVIDIA L4\s+24 GiB\n/);
    },
    TIMEOUT,
  );

  test(
    "unplaceable launches are refused and create nothing; --wait ends with exit 1: the one reason when placement fails later, TIMEOUT when it takes too long",
    async () => {
      const cli = newCli(platform);
      await topUp(cli, await signUp(platform, cli), "20");

      // Regional pinning to a region no provider offers: refused before anything is created, naming where the GPU is.
      const nowhere = await cli([...LAUNCH, "--region", "eu-mars", "--wait", "--json"]);
      expect(nowhere.stdout).toBe("");
      expect(failed(nowhere)).toEqual({ code: "NOT_PLACEABLE", message: "Cannot launch: No L4 is offered in eu-mars; there is L4 in local." });
      expect(parsed(await cli(["instances", "list", "--json"]))).toEqual([]);

      // The one H100 taken: --validate-only says it cannot launch and names what can; a launch is refused and creates nothing.
      const first = parsed(await cli([...LAUNCH_H100, "--serving-name", "h100-first", "--wait", "--json"]));
      expect(first).toMatchObject({ state: "running", gpuType: "H100-80G" });
      const taken = await cli([...LAUNCH_H100, "--validate-only"]);
      expect(taken.code).toBe(1);
      expect(taken.stdout).toStartWith(`${MODEL} on QDivZero reference runtime with 1×H100-80G: cannot launch (nothing can place it now).\n`);
      const unplaceable = "No H100-80G is free right now; 1 L4 is, at €0.79/h. Use it: --gpu L4.";
      expect(taken.stdout).toContain(`\nplacement:  ${unplaceable}\n`);
      expect(taken.stderr).toBe(`error: Cannot launch: ${unplaceable}\n`);
      expect(failed(await cli([...LAUNCH_H100, "--json"]))).toEqual({ code: "NOT_PLACEABLE", message: `Cannot launch: ${unplaceable}` });
      expect(parsed(await cli(["instances", "list", "--json"])).map((row: any) => row.id)).toEqual([first.id]);

      // Placeable when asked, taken by the time it is placed: the failure leads with the one reason that matters.
      await cli(["instances", "stop", first.id, "--wait", "--json"]);
      const second = parsed(await cli([...LAUNCH_H100, "--serving-name", "h100-second", "--wait", "--json"]));
      expect(second.gpuType).toBe("H100-80G");
      const restart = await cli(["instances", "start", first.id, "--wait", "--json"]);
      expect(restart.stdout).toBe("");
      expect(failed(restart)).toEqual({
        code: "INSTANCE_FAILED",
        message: `Instance ${first.id} is failed: No H100-80G is free right now.\nremediation: Allow another GPU type in Settings, or Start again when capacity frees up.`,
      });
      const human = await cli(["instances", "show", first.id]);
      expect(human.stdout).toMatch(/\nfailure:\s+No H100-80G is free right now\.\n/);

      // Without --gpu the launch says which GPU it picked.
      const any = await cli([...LAUNCH_ANY_GPU, "--serving-name", "picked"]);
      expect(any.code).toBe(0);
      expect(any.stderr).toMatch(/^GPU: L4 \(picked: cheapest free GPU with ≥ \d+ GiB\)\n/);
      expect(any.stdout).toMatch(/^Launched inst_\w+ \(serving name picked\): pending\.\n$/);

      // The reference runtime boots for 1.5 s after its pod starts: a 1 s wait gives up first.
      const slow = await cli([...LAUNCH, "--wait", "--timeout", "1", "--json"]);
      const timeout = failed(slow);
      expect(timeout.code).toBe("TIMEOUT");
      const id = /^Instance (inst_\w+) is still pending after 1 s\. It goes on starting: follow it with `qdz instances show inst_\w+`\.$/.exec(
        timeout.message,
      )?.[1];
      expect(id).toBeString();
      await waitForState(cli, id!, "running");

      const ids = parsed(await cli(["instances", "list", "--json"])).map((row: any) => row.id);
      expect(ids).toHaveLength(4);
      expect(parsed(await cli(["instances", "delete", ...ids, "--yes", "--json"])).changed.sort()).toEqual([...ids].sort());
      await waitUntil("no pod process is left", () => podProcesses(platform.dataDir).length === 0, 20_000);
    },
    TIMEOUT,
  );

  test(
    "stop with several ids stops them together and lists what it skipped and why",
    async () => {
      const cli = newCli(platform);
      await topUp(cli, await signUp(platform, cli), "10");
      const launch = (name: string) => cli([...LAUNCH.slice(0, -1), "L40S,L4", "--serving-name", name, "--name", name, "--json"]);
      const a = parsed(await launch("first"));
      const b = parsed(await launch("second"));
      expect(a).toMatchObject({ state: "pending", servingName: "first", gpuPreferences: ["L40S", "L4"] });

      expect(parsed(await cli(["instances", "stop", a.id, b.id, "--wait", "--json"]))).toEqual({ changed: [a.id, b.id], skipped: [] });
      const again = await cli(["instances", "stop", a.id, b.id]);
      expect(again).toEqual({
        code: 0,
        stdout: `Nothing to stop.\nSkipped ${a.id}: already stopped.\nSkipped ${b.id}: already stopped.\n`,
        stderr: "",
      });
      expect(failed(await cli(["instances", "stop", a.id, "inst_nothing", "--json"])).code).toBe("NOT_FOUND");

      expect(parsed(await cli(["instances", "delete", a.id, b.id, "--yes", "--json"]))).toEqual({ changed: [a.id, b.id], skipped: [] });
      expect(parsed(await cli(["instances", "list", "--json"]))).toEqual([]);
      await waitUntil("no pod process is left", () => podProcesses(platform.dataDir).length === 0, 20_000);
    },
    TIMEOUT,
  );
});

describe("crash recovery", () => {
  test(
    "a killed api is restarted and the instance keeps running; after a killed supervisor, a restart finds the pod still serving",
    async () => {
      const dataDir = newDataDir();
      const first = await newPlatform(dataDir);
      const cli = newCli(first);
      await topUp(cli, await signUp(first, cli), "10");
      const { id } = parsed(await cli([...LAUNCH, "--wait", "--json"]));
      const run = (await show(cli, id)).runs[0];
      const heartbeat = async () => new Date((await show(cli, id)).runs[0].lastHeartbeatAt).getTime();

      // The api alone dies: the supervisor restarts it, and the pod's heartbeats reach the new one.
      const apiPids = () => first.descendants().filter((pid) => commandLine(pid).includes("server/api.ts"));
      const [api] = apiPids();
      expect(api).toBeNumber();
      kill(api!, "SIGKILL");
      await waitUntil("the supervisor restarted the api", async () => apiPids().some((pid) => pid !== api) && (await answers(`${first.url}/readyz`)), 30_000);
      expect(first.output()).toMatch(/\[qdz\] api exited \(code [^)]*\); restarting/);
      const afterApiRestart = Date.now();
      await waitUntil("a heartbeat after the api restart is recorded", async () => (await heartbeat()) > afterApiRestart, 15_000);
      expect((await show(cli, id)).state).toBe("running");

      // The supervisor dies with kill -9: api and workers follow it, the detached pod does not.
      const agentPid = JSON.parse(readFileSync(join(dataDir, "pods", run.podId, "pod.json"), "utf8")).agentPid as number;
      await first.kill();
      await waitUntil("the api port closes", async () => !(await isPortOpen(first.port)), 10_000);
      expect(isAlive(agentPid)).toBe(true);
      expect((await chat(run.runtimeUrl, "qwen2.5-0.5b-instruct")).status).toBe(200);

      // Started again on the same data and port (the pod's agent reports to that port): the instance is still running, its heartbeats resume.
      const second = await newPlatform(dataDir, { PORT: String(first.port) });
      expect(second.url).toBe(first.url);
      expect(second.output()).toContain("an earlier run did not stop cleanly; recovering");
      const afterRestart = Date.now();
      expect((await show(cli, id)).state).toBe("running");
      await waitUntil("a heartbeat after the platform restart is recorded", async () => (await heartbeat()) > afterRestart, 15_000);
      const resumed = await show(cli, id);
      expect(resumed.state).toBe("running");
      expect(resumed.runs).toHaveLength(1);
      expect(resumed.runs[0].podId).toBe(run.podId);

      // Stopped at the end: nothing of the pod is left.
      expect(parsed(await cli(["instances", "stop", id, "--wait", "--json"])).state).toBe("stopped");
      await waitUntil("no pod process is left", () => podProcesses(dataDir).length === 0, 20_000);
      expect(isAlive(agentPid)).toBe(false);
    },
    TIMEOUT,
  );
});
