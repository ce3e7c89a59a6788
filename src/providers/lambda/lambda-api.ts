/**
 * The parts of the Lambda Cloud API the adapter uses, as its OpenAPI document defines them (info.version 1.6.0, server
 * https://cloud.lambdalabs.com/; read from the copy vendored as `.knowledge/lambda-openapi-spec.json` in the GitHub
 * repository jxtngx/lambda-cloud-typescript; Lambda publishes it at https://cloud.lambda.ai/api/v1/docs): schemas
 * `InstanceTypesItem`, `InstanceType`, `Instance`, `InstanceStatus`, `InstanceLaunchRequest`, `InstanceLaunchResponse`,
 * `InstanceTerminateRequest`, `SSHKey` and the `{ error: { code, message, suggestion } }` error envelope.
 * Shared by the adapter and the test server that speaks the same API.
 */

/**
 * `InstanceStatus`. The 1.6.0 document lists booting, active, unhealthy, terminating and terminated; `preempted` is
 * what Lambda reports for an instance it took back, and is handled as such.
 */
export type LambdaInstanceStatus = "booting" | "active" | "unhealthy" | "terminating" | "terminated" | "preempted";

export interface LambdaRegion {
  name: string;
  description: string;
}

export interface LambdaInstanceType {
  /** e.g. `gpu_8x_h100_sxm5`: GPU count and model are in the name. */
  name: string;
  description: string;
  gpu_description: string;
  /** The whole instance's price, in US cents per hour. */
  price_cents_per_hour: number;
  specs: { vcpus: number; memory_gib: number; storage_gib: number; gpus: number };
}

/** `GET /api/v1/instance-types` answers `{ data: Record<instance type name, LambdaInstanceTypesItem> }`. */
export interface LambdaInstanceTypesItem {
  instance_type: LambdaInstanceType;
  regions_with_capacity_available: LambdaRegion[];
}

/** `Instance` (the fields the adapter reads). No creation time: see `instance-name.ts`. */
export interface LambdaInstance {
  id: string;
  name?: string;
  /** Public IPv4, once the instance has booted far enough to have one. */
  ip?: string;
  status: LambdaInstanceStatus;
  ssh_key_names: string[];
  region: LambdaRegion;
  instance_type: LambdaInstanceType;
}

/** `InstanceLaunchRequest`: region, type and exactly one SSH key name are required. */
export interface LambdaLaunchRequest {
  region_name: string;
  instance_type_name: string;
  ssh_key_names: string[];
  file_system_names?: string[];
  /** At most 64 characters. */
  name?: string;
  /** cloud-init user-data, plain text, at most 1 MB; write-only (never returned). */
  user_data?: string;
}

export interface LambdaSshKey {
  id: string;
  name: string;
  public_key: string;
}

/** The error envelope: `code` is the stable part, `message` and `suggestion` may change. */
export interface LambdaError {
  error: { code: string; message: string; suggestion?: string };
}
