import type { CliContext } from "../../context";
import { renderTable } from "../../output";
import { renderDetail, renderInstanceTable, renderMetered } from "./render";

export async function list(cli: CliContext) {
  const instances = await cli.signedIn().instances.list.query();
  cli.out.result(instances, (rows) =>
    rows.length === 0 ? "No instances yet. Launch one with `qdz instances launch --runtime <id> --model <hf repo> --gpu <type>`." : renderInstanceTable(rows),
  );
}

export async function show(cli: CliContext, id: string, options: { metered?: boolean } = {}) {
  if (options.metered) {
    const metered = await cli.signedIn().instances.metered.query({ id });
    cli.out.result(metered, renderMetered);
    return;
  }
  const detail = await cli.signedIn().instances.get.query({ id });
  cli.out.result(detail, (instance) => renderDetail(instance, cli.url));
}

/** What `launch` takes: GPU types, runtimes and templates, by id. */
export async function catalog(cli: CliContext) {
  const answer = await cli.signedIn().instances.catalog.query();
  cli.out.result(answer, (result) =>
    [
      "GPU types (--gpu):",
      renderTable(
        ["id", "name", "vram"],
        result.gpus.map((gpu) => [gpu.id, gpu.name, `${gpu.vramGib} GiB`]),
      ),
      "",
      "Runtimes (--runtime):",
      renderTable(
        ["id", "name", "tasks", "formats"],
        result.runtimes.map((runtime) => [runtime.id, runtime.name, runtime.tasks.join(", "), runtime.formats.join(", ")]),
      ),
      "",
      "Templates (--template):",
      renderTable(
        ["id", "name", "runtime"],
        result.templates.map((template) => [template.id, template.name, template.runtimeId ?? "-"]),
      ),
    ].join("\n"),
  );
}
