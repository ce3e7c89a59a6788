/** What every benchmark's orchestrator needs of the processes it starts: ports, their CPU time, their output line by line. */
import { readFileSync } from "node:fs";

/** A port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** USER_HZ on Linux: /proc reports CPU time in ticks of 10 ms. */
const CLOCK_TICKS = 100;

/** The fields of /proc/<pid>/stat after the command name (field 3, the state, is index 0). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime of a process, in ms (10 ms resolution). */
export function cpuMsOf(pid: number): number {
  const fields = statFields(pid);
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/**
 * CPU time of a process and all its children, in ms: its own, its reaped children's (cutime + cstime), and
 * its live children's. A delta between two readings counts a child that lived through, began or ended in
 * between exactly once (PostgreSQL's backends, autovacuum workers and checkpointer are its postmaster's children).
 */
export function treeCpuMsOf(pid: number): number {
  const own = statFields(pid);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of new Bun.Glob("[0-9]*").scanSync({ cwd: "/proc", onlyFiles: false })) {
    try {
      const fields = statFields(Number(entry));
      if (Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone between the listing and the read: its time is in the parent's cutime now
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/** A child's output, one line at a time (without the newline). */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  if (buffered) yield buffered;
}
