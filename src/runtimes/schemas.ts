import { z } from "zod";
import { safeString } from "../validation";

/** A build to start on the platform's machine; which runtimes can be built is the verb's check (`INSTALLABLE`). */
export const installRuntimeInput = z.object({ runtimeId: safeString().min(1).max(32) });
