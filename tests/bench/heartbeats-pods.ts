/**
 * Simulated pods for `bench:heartbeats`, in their own process so they never share an event loop with what
 * they measure. Each pod does what pods/agent/main.ts does, minus the workload: from its own keep-alive
 * connection, with its run's bearer token, it posts a heartbeat every second (`{"runId", "at", "workload":
 * {"state": "ready"}}`, a running pod's beat) and a resource sample every fifth second, both valid per
 * src/instances/agent-contract.ts. Pod i of N beats at i/N of every second, so the beats are spread evenly
 * across the second, never all at once; its samples go out on its beats (i + k) mod 5 = 0, spread the same way.
 *
 * A pod sends one report at a time, as an agent's fetch does: a report due while the previous one is still
 * out waits for it, and the wait shows as lag. A report unanswered after `timeoutMs` (the agent's own 5 s)
 * fails and the pod reconnects. Connections are plain TCP speaking HTTP/1.1, so that each pod has its own
 * connection (as real pods do) and the generator stays cheap next to the servers on a shared machine.
 *
 * Spec: argv[2] (JSON, `PodsSpec`); result: one JSON line on stdout (`PodsResult`). Reports whose due time
 * falls inside the window are counted; earlier ones warm the server (connections, caches), and the beats
 * among them are tallied apart: what a server just started goes through when every pod reaches it at once.
 */
import type { HeartbeatBody, SampleBody } from "../../src/instances/agent-contract";
import { watchParent } from "./proxy/parent";

/** What the seed gives each pod, as the provider gives an agent: its run and the run's bearer token. */
export interface PodCredentials {
  runId: string;
  token: string;
}

export interface PodsSpec {
  host: string;
  port: number;
  /** JSON array of every pod's `PodCredentials`; this process plays pods [from, to) of them. */
  podsFile: string;
  from: number;
  to: number;
  /** Wall-clock ms (Date.now) of the first beats: every generator process starts on the same second. */
  startAt: number;
  warmupMs: number;
  windowMs: number;
  /** A sample every this many beats (the agent's sampleMs / heartbeatMs). */
  sampleEvery: number;
  timeoutMs: number;
}

export interface Tally {
  /** Reports due inside the window. */
  due: number;
  /** Answered 2xx. */
  accepted: number;
  /** Answered otherwise, by status. */
  refused: Record<string, number>;
  /** Timed out or lost with their connection. */
  failed: number;
  /** Not answered by the end of the drain (still out or never sent). */
  unanswered: number;
  /** Sent → full answer read, in ms, for every answered report. */
  latencyMs: number[];
  /** Due → sent, in ms: the generator's own lateness plus any wait behind the pod's previous report. */
  lagMs: number[];
}

export interface PodsResult {
  beats: Tally;
  samples: Tally;
  /** Beats due during the warm-up. */
  warmupBeats: Tally;
  connects: number;
  firstError: string | null;
}

type Kind = "beats" | "samples";

interface Report {
  kind: Kind;
  dueAt: number;
  /** Where its outcome is counted: the window's tally of its kind, the warm-up's (beats), or nowhere. */
  tally: Tally | null;
}

interface Pod {
  global: number;
  runId: string;
  /** The request line and headers up to Content-Length, as Bun's fetch sends them. */
  heartbeatHead: string;
  samplesHead: string;
  socket: Bun.Socket<Pod> | null;
  connecting: boolean;
  waiting: Report[];
  out: { report: Report; sentAt: number } | null;
  unwritten: string;
  received: string;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
const emptyTally = (): Tally => ({ due: 0, accepted: 0, refused: {}, failed: 0, unanswered: 0, latencyMs: [], lagMs: [] });

export async function runPods(spec: PodsSpec): Promise<PodsResult> {
  const all = (await Bun.file(spec.podsFile).json()) as PodCredentials[];
  const total = all.length;
  const tallies: Record<Kind, Tally> = { beats: emptyTally(), samples: emptyTally() };
  const warmupBeats = emptyTally();
  let connects = 0;
  let firstError: string | null = null;
  const fail = (message: string) => void (firstError ??= message);

  const head = (path: string, token: string) =>
    `POST /agent/${path} HTTP/1.1\r\nHost: ${spec.host}:${spec.port}\r\nConnection: keep-alive\r\nUser-Agent: Bun/${Bun.version}\r\n` +
    `Accept: */*\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n`;
  const pods: Pod[] = all.slice(spec.from, spec.to).map((pod, i) => ({
    global: spec.from + i,
    runId: pod.runId,
    heartbeatHead: head("heartbeat", pod.token),
    samplesHead: head("samples", pod.token),
    socket: null,
    connecting: false,
    waiting: [],
    out: null,
    unwritten: "",
    received: "",
  }));

  // Wall clock to this process's monotonic clock, once: every time below is performance.now().
  const origin = performance.now() + (spec.startAt - Date.now());
  const windowStart = origin + spec.warmupMs;
  const windowEnd = windowStart + spec.windowMs;
  const tallyOf = (kind: Kind, dueAt: number): Tally | null => {
    if (dueAt >= windowStart && dueAt < windowEnd) return tallies[kind];
    return dueAt < windowStart && kind === "beats" ? warmupBeats : null;
  };

  const body = (pod: Pod, kind: Kind): string => {
    const at = new Date().toISOString();
    if (kind === "beats") return JSON.stringify({ runId: pod.runId, at, workload: { state: "ready" } } satisfies HeartbeatBody);
    // A GPU pod's readings (the agent's resources.ts), varied a little per pod and second.
    const wobble = (pod.global * 7919 + Math.floor(performance.now() / 1000)) % 100;
    return JSON.stringify({
      runId: pod.runId,
      at,
      cpuPercent: 12.5 + wobble / 10,
      memoryUsedBytes: 6_442_450_944 + wobble * 1_048_576,
      memoryTotalBytes: 34_359_738_368,
      diskUsedBytes: 21_474_836_480,
      diskTotalBytes: 107_374_182_400,
      gpuUtilPercent: 40 + wobble / 2,
      vramUsedBytes: 18_253_611_008,
      vramTotalBytes: 25_769_803_776,
      gpuTemperatureC: 61,
    } satisfies SampleBody);
  };

  const write = (pod: Pod, data: string) => {
    const written = pod.socket!.write(data);
    pod.unwritten = written < data.length ? data.slice(Math.max(0, written)) : "";
  };

  const send = (pod: Pod) => {
    if (pod.out || pod.waiting.length === 0) return;
    if (!pod.socket) return connect(pod);
    const report = pod.waiting.shift()!;
    const json = body(pod, report.kind);
    const sentAt = performance.now();
    pod.out = { report, sentAt };
    report.tally?.lagMs.push(round(sentAt - report.dueAt));
    write(pod, `${report.kind === "beats" ? pod.heartbeatHead : pod.samplesHead}Content-Length: ${json.length}\r\n\r\n${json}`);
  };

  const settle = (pod: Pod, status: number | null) => {
    const { report, sentAt } = pod.out!;
    pod.out = null;
    const tally = report.tally;
    if (!tally) return;
    if (status === null) tally.failed++;
    else {
      tally.latencyMs.push(round(performance.now() - sentAt));
      if (status >= 200 && status < 300) tally.accepted++;
      else tally.refused[status] = (tally.refused[status] ?? 0) + 1;
    }
  };

  /** A whole HTTP/1.1 answer at the front of what the pod received, or null until it has all arrived. */
  const answer = (pod: Pod): number | null => {
    const text = pod.received;
    const headEnd = text.indexOf("\r\n\r\n");
    if (headEnd < 0) return null;
    const headers = text.slice(0, headEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1];
    let end: number;
    if (length !== undefined) end = headEnd + 4 + Number(length);
    else if (/\r\ntransfer-encoding:\s*chunked/i.test(headers)) {
      const last = text.indexOf("\r\n0\r\n\r\n", headEnd);
      if (last < 0) return null;
      end = last + 7;
    } else throw new Error(`an answer with neither Content-Length nor chunks: ${headers.slice(0, 200)}`);
    if (text.length < end) return null;
    pod.received = text.slice(end);
    return Number(text.slice(9, 12));
  };

  const drop = (pod: Pod, why: string) => {
    fail(why);
    pod.socket?.end();
    pod.socket = null;
    pod.received = "";
    pod.unwritten = "";
    if (pod.out) settle(pod, null);
  };

  const handlers: Bun.SocketHandler<Pod> = {
    open(socket) {
      const pod = socket.data;
      pod.socket = socket;
      pod.connecting = false;
      connects++;
      send(pod);
    },
    data(socket, chunk) {
      const pod = socket.data;
      pod.received += chunk.toString("latin1");
      let status = answer(pod);
      while (status !== null && pod.out) {
        settle(pod, status);
        send(pod);
        status = answer(pod);
      }
    },
    drain(socket) {
      const pod = socket.data;
      if (pod.unwritten) write(pod, pod.unwritten);
    },
    close(socket) {
      const pod = socket.data;
      if (pod.socket === socket) drop(pod, "the server closed a connection");
      if (pod.waiting.length && !pod.out) send(pod);
    },
    error(socket, error) {
      if (socket.data.socket === socket) drop(socket.data, String(error));
    },
    connectError(socket, error) {
      const pod = socket.data;
      pod.connecting = false;
      fail(`connect: ${error}`);
      // Reports waiting for this connection are lost with it, as an agent's fetch would fail.
      for (const report of pod.waiting.splice(0)) if (report.tally) report.tally.failed++;
    },
  };

  const connect = (pod: Pod) => {
    if (pod.connecting) return;
    pod.connecting = true;
    void Bun.connect({ hostname: spec.host, port: spec.port, data: pod, socket: handlers }).catch(() => {});
  };

  const due = (pod: Pod, kind: Kind, dueAt: number) => {
    const report: Report = { kind, dueAt, tally: tallyOf(kind, dueAt) };
    if (report.tally) report.tally.due++;
    pod.waiting.push(report);
    send(pod);
  };

  // The schedule: every second, pods in order, pod g at g/total of the second.
  const phase = (pod: Pod) => (pod.global * 1000) / total;
  let second = 0;
  let next = 0;
  let lastSweep = performance.now();
  while (origin + second * 1000 < windowEnd) {
    const now = performance.now();
    while (next < pods.length && origin + second * 1000 + phase(pods[next]!) <= now) {
      const pod = pods[next]!;
      const dueAt = origin + second * 1000 + phase(pod);
      due(pod, "beats", dueAt);
      if ((second + pod.global) % spec.sampleEvery === 0) due(pod, "samples", dueAt);
      next++;
    }
    if (next === pods.length) {
      next = 0;
      second++;
    }
    if (now - lastSweep > 100) {
      lastSweep = now;
      for (const pod of pods) if (pod.out && now - pod.out.sentAt > spec.timeoutMs) drop(pod, `no answer within ${spec.timeoutMs} ms`);
    }
    await Bun.sleep(1);
  }

  // Drain: every report due in the window gets the agent's timeout to be answered.
  const drainUntil = performance.now() + spec.timeoutMs + 1000;
  const pending = (report: Report | undefined) => report?.tally != null && report.tally !== warmupBeats;
  while (performance.now() < drainUntil && pods.some((pod) => pending(pod.out?.report) || pod.waiting.some(pending))) {
    const now = performance.now();
    for (const pod of pods) if (pod.out && now - pod.out.sentAt > spec.timeoutMs) drop(pod, `no answer within ${spec.timeoutMs} ms`);
    await Bun.sleep(20);
  }
  for (const pod of pods) {
    for (const report of [...(pod.out ? [pod.out.report] : []), ...pod.waiting]) if (report.tally) report.tally.unanswered++;
    const socket = pod.socket;
    pod.socket = null;
    socket?.end();
  }
  return { beats: tallies.beats, samples: tallies.samples, warmupBeats, connects, firstError };
}

if (import.meta.main) {
  watchParent(() => process.exit(1));
  const result = await runPods(JSON.parse(process.argv[2]!) as PodsSpec);
  await Bun.write(Bun.stdout, `${JSON.stringify(result)}\n`);
  process.exit(0);
}
