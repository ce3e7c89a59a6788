import { execFile } from "node:child_process";
import { readFileSync, statfsSync } from "node:fs";
import { promisify } from "node:util";
import type { SampleBody } from "../../src/instances/agent-contract";

const run = promisify(execFile);
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds used by `pid` and its children so far, from /proc; null off Linux or when gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime, stime, cutime, cstime are fields 14–17 of the full line (11–14 after the name).
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return ticks / CLOCK_TICKS;
  } catch {
    return null;
  }
}

export function residentBytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export function memoryTotalBytes(): number | null {
  try {
    const match = /MemTotal:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export function disk(path: string): { used: number; total: number } | null {
  try {
    const fs = statfsSync(path);
    return { total: fs.blocks * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize };
  } catch {
    return null;
  }
}

/** GPU readings from nvidia-smi, or nulls when there is none: a missing GPU is reported as unavailable, never invented. */
export async function gpuReadings(): Promise<Pick<SampleBody, "gpuUtilPercent" | "vramUsedBytes" | "vramTotalBytes" | "gpuTemperatureC">> {
  const none = { gpuUtilPercent: null, vramUsedBytes: null, vramTotalBytes: null, gpuTemperatureC: null };
  if (!Bun.which("nvidia-smi")) return none;
  try {
    const { stdout } = await run("nvidia-smi", ["--query-gpu=utilization.gpu,memory.used,memory.total,temperature.gpu", "--format=csv,noheader,nounits"], {
      timeout: 5000,
    });
    const rows = stdout
      .trim()
      .split("\n")
      .map((line) => line.split(",").map((v) => Number(v.trim())));
    if (rows.length === 0 || rows.some((r) => r.length < 4 || r.some(Number.isNaN))) return none;
    const MiB = 1024 * 1024;
    return {
      gpuUtilPercent: rows.reduce((s, r) => s + r[0]!, 0) / rows.length,
      vramUsedBytes: rows.reduce((s, r) => s + r[1]! * MiB, 0),
      vramTotalBytes: rows.reduce((s, r) => s + r[2]! * MiB, 0),
      gpuTemperatureC: Math.max(...rows.map((r) => r[3]!)),
    };
  } catch {
    return none;
  }
}
