import type { Executor } from "../../db/client";
import { readCatalog } from "../catalog/queries";
import { findRuntimeBinary } from "../providers/local/local-provider";
import { INSTALLABLE, installStates } from "./installs";

/** Each runtime, whether its real binary is on this machine (else pods run the reference runtime), and any build. */
export async function listRuntimes(db: Executor) {
  const [{ runtimes }, installs] = await Promise.all([readCatalog(db), installStates(db)]);
  return runtimes.map((runtime) => {
    const binary = runtime.localBinary ? findRuntimeBinary(runtime.localBinary) : null;
    return {
      id: runtime.id,
      name: runtime.name,
      image: runtime.image,
      tasks: runtime.tasks,
      formats: runtime.formats,
      localBinary: runtime.localBinary || null,
      binaryPath: binary,
      /** What pods of this runtime run on the local provider right now. */
      servedBy: runtime.id === "reference" || binary ? runtime.name : "QDivZero reference runtime (stand-in)",
      installable: (INSTALLABLE as readonly string[]).includes(runtime.id),
      install: installs.find((i) => i.runtimeId === runtime.id) ?? null,
    };
  });
}
