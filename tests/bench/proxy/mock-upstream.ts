/**
 * The benchmark's upstream, in its own process: an OpenAI-shaped runtime that
 * answers instantly and always the same. `POST /v1/chat/completions` gives a
 * small JSON completion, or with `"stream": true` a paced SSE stream of
 * FRAMES frames, one every FRAME_MS ms (frame i is due at start + i × FRAME_MS,
 * so the pacing does not drift), then `data: [DONE]`. Each frame's content is
 * its index, so the client can check that every frame arrived, in order.
 *
 * Prints `{"port": N}` on stdout once listening on 127.0.0.1.
 */
import { announceAndServe } from "./parent";
import { FRAME_MS, FRAMES } from "./shape";

const completion = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "bench",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello from the benchmark upstream." }, finish_reason: "stop", logprobs: null }],
  usage: { prompt_tokens: 8, completion_tokens: 7, total_tokens: 15 },
});

const encoder = new TextEncoder();
const frames = Array.from({ length: FRAMES }, (_, i) =>
  encoder.encode(
    `data: ${JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "bench",
      choices: [{ index: 0, delta: i === 0 ? { role: "assistant", content: `f${i} ` } : { content: `f${i} ` }, finish_reason: null }],
    })}\n\n`,
  ),
);
const done = encoder.encode("data: [DONE]\n\n");

function paced(signal: AbortSignal): ReadableStream<Uint8Array> {
  const start = performance.now();
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next === FRAMES) {
        controller.enqueue(done);
        controller.close();
        return;
      }
      const wait = start + next * FRAME_MS - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      if (signal.aborted) return controller.close();
      controller.enqueue(frames[next]!);
      next++;
    },
  });
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (request.method !== "POST" || (path !== "/v1/chat/completions" && path !== "/chat/completions")) {
      return new Response("not found", { status: 404 });
    }
    const body = await request.text();
    // A substring test, not JSON.parse: the upstream must cost the same and as little as possible on every path.
    if (/"stream"\s*:\s*true/.test(body)) {
      return new Response(paced(request.signal), {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
      });
    }
    return new Response(completion, { headers: { "content-type": "application/json" } });
  },
});

announceAndServe(server);
