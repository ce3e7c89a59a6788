/**
 * The load generator, in its own process so it never shares an event loop
 * with what it measures. One run per invocation: the spec is argv[2] (JSON),
 * the result is one JSON line on stdout. The same code drives every target
 * (direct, proxied, Portkey); only the URL and headers differ.
 *
 * - `latency`: `concurrency` closed-loop workers send the JSON request over
 *   keep-alive connections (Bun's fetch pool) for `warmupMs + durationMs`;
 *   requests finishing inside the measured window are kept.
 * - `streams`: `concurrency` workers each run `perWorker` streaming requests
 *   one after the other (all workers start together). Every SSE frame's
 *   arrival time is taken as it is read; each frame must carry the next
 *   index, then `[DONE]`.
 */

import { watchParent } from "./parent";
import { FRAMES } from "./shape";

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type LoadSpec =
  | { mode: "latency"; target: Target; concurrency: number; warmupMs: number; durationMs: number }
  | { mode: "streams"; target: Target; concurrency: number; perWorker: number; timeoutMs: number };

export interface LatencyResult {
  mode: "latency";
  count: number;
  errors: number;
  firstError: string | null;
  windowMs: number;
  /** Milliseconds, unsorted. */
  samples: number[];
}

export interface StreamOutcome {
  ok: boolean;
  error: string | null;
  frames: number;
  /** From sending the request to reading frame 0. */
  ttftMs: number | null;
  /** Between consecutive frames; FRAMES - 1 of them when complete. */
  gapsMs: number[];
  /** Absolute (performance.now) times of frame 0 and the last frame. */
  firstAt: number | null;
  lastAt: number | null;
}

export interface StreamsResult {
  mode: "streams";
  streams: StreamOutcome[];
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function latency(spec: Extract<LoadSpec, { mode: "latency" }>): Promise<LatencyResult> {
  const start = performance.now();
  const measureFrom = start + spec.warmupMs;
  const end = measureFrom + spec.durationMs;
  const samples: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const { url, headers, body } = spec.target;
  const worker = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      try {
        const response = await fetch(url, { method: "POST", headers, body });
        const text = await response.text();
        const took = performance.now();
        if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
        if (took >= measureFrom && took <= end) samples.push(round(took - sent));
      } catch (error) {
        errors++;
        firstError ??= String(error);
        await Bun.sleep(1);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  return { mode: "latency", count: samples.length, errors, firstError, windowMs: spec.durationMs, samples };
}

const decoder = () => new TextDecoder();

async function oneStream(target: Target, timeoutMs: number): Promise<StreamOutcome> {
  const outcome: StreamOutcome = { ok: false, error: null, frames: 0, ttftMs: null, gapsMs: [], firstAt: null, lastAt: null };
  const sent = performance.now();
  let previous = 0;
  let sawDone = false;
  try {
    const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200 || !response.body) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const text = decoder();
    let buffer = "";
    for await (const chunk of response.body) {
      const at = performance.now();
      buffer += text.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) !== -1) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data:")) continue;
          const data = line.slice(5).trim();
          if (data === "[DONE]") {
            sawDone = true;
            continue;
          }
          const index = /"content":"f(\d+) "/.exec(data)?.[1];
          if (index === undefined) continue; // a frame without content (a gateway's own usage frame, say)
          if (Number(index) !== outcome.frames) throw new Error(`frame ${index} arrived where ${outcome.frames} was due`);
          if (outcome.frames === 0) {
            outcome.ttftMs = round(at - sent);
            outcome.firstAt = at;
          } else {
            outcome.gapsMs.push(round(at - previous));
          }
          previous = at;
          outcome.lastAt = at;
          outcome.frames++;
        }
      }
    }
    if (outcome.frames !== FRAMES) throw new Error(`${outcome.frames} of ${FRAMES} frames`);
    if (!sawDone) throw new Error("no [DONE]");
    outcome.ok = true;
  } catch (error) {
    outcome.error = String(error).slice(0, 300);
  }
  return outcome;
}

async function streams(spec: Extract<LoadSpec, { mode: "streams" }>): Promise<StreamsResult> {
  const all: StreamOutcome[] = [];
  const worker = async () => {
    for (let i = 0; i < spec.perWorker; i++) all.push(await oneStream(spec.target, spec.timeoutMs));
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  return { mode: "streams", streams: all };
}

if (import.meta.main) {
  watchParent(() => process.exit(1));
  const spec = JSON.parse(process.argv[2]!) as LoadSpec;
  const result = spec.mode === "latency" ? await latency(spec) : await streams(spec);
  await Bun.write(Bun.stdout, `${JSON.stringify(result)}\n`);
  process.exit(0);
}
