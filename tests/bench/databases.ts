/**
 * The benchmarks' PostgreSQL: one embedded cluster per run, the platform's migrations applied once to a
 * template database as `npm start` applies them (by the owner, for the app role), and a fresh copy of that
 * template for every measurement (the ledger is append-only, so a database cannot be reset). The cluster's
 * directory is deleted when it stops.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { connect, type DatabaseHandle } from "../../db/client";
import { ensureDatabase } from "../../src/platform/embedded-database";
import { type RunningPostgres, startEmbeddedPostgres } from "../../src/platform/embedded-postgres";
import { prepareDatabase } from "../../src/platform/prepare-database";
import { freePort } from "./processes";

export interface BenchDatabase {
  name: string;
  /** The schema's owner (vacuum, analyse, checks that read everything). */
  owner: DatabaseHandle;
  /** The role the api and workers connect as. */
  app: DatabaseHandle;
  appUrl: string;
  drop(): Promise<void>;
}

export interface BenchCluster {
  postgres: RunningPostgres;
  /** The postmaster's pid: it and its children are the database's CPU. */
  pid: number;
  /** A superuser connection to the `postgres` database, for cluster-wide statistics. */
  admin: DatabaseHandle;
  fresh(name: string): Promise<BenchDatabase>;
  stop(): Promise<void>;
}

export interface BenchClusterOptions {
  /** Libraries PostgreSQL loads at start (`shared_preload_libraries`), e.g. pg_stat_statements. */
  preload?: string[];
}

/** Starts the cluster in `dir` and migrates database `template`; `stop()` closes every handle it gave out and removes `dir`. */
export async function startBenchCluster(dir: string, template: string, options: BenchClusterOptions = {}): Promise<BenchCluster> {
  const open = new Set<DatabaseHandle>();
  const track = (handle: DatabaseHandle): DatabaseHandle => {
    open.add(handle);
    const close = handle.close;
    handle.close = () => {
      open.delete(handle);
      return close();
    };
    return handle;
  };
  // Persistent so that a restart (to preload libraries) keeps the cluster; the directory goes at stop either way.
  let postgres = await startEmbeddedPostgres({ dir, port: freePort(), persistent: true });
  if (options.preload?.length) {
    const superuser = connect(`${postgres.baseUrl}/postgres`, { max: 1 });
    await superuser.sql
      .unsafe(`alter system set shared_preload_libraries = '${options.preload.join(",")}'`)
      .finally(() => superuser.close())
      .catch(async (error) => {
        await postgres.stop();
        rmSync(dir, { recursive: true, force: true });
        throw error;
      });
    await postgres.stop();
    // On another port: the old one can linger a moment after the server has gone.
    postgres = await startEmbeddedPostgres({ dir, port: freePort(), persistent: true });
  }
  const running = postgres;
  const admin = track(connect(`${running.baseUrl}/postgres`, { max: 1 }));
  const stop = async () => {
    await Promise.all([...open].map((handle) => handle.close().catch(() => {})));
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const access = await ensureDatabase(running, template);
    const migrator = connect(access.ownerUrl, { max: 1 });
    await prepareDatabase(migrator.db, access).finally(() => migrator.close());
  } catch (error) {
    await stop(); // a cluster that cannot be prepared is not left running
    throw error;
  }
  const pid = Number((await Bun.file(join(dir, "cluster", "postmaster.pid")).text()).split("\n")[0]);

  return {
    postgres: running,
    pid,
    admin,
    async fresh(name) {
      await admin.sql.unsafe(`create database ${name} template ${template} owner ${running.owner.name}`);
      const owner = track(connect(`${running.owner.baseUrl}/${name}`, { max: 1 }));
      const app = track(connect(`${running.app.baseUrl}/${name}`, { max: 2 }));
      return {
        name,
        owner,
        app,
        appUrl: `${running.app.baseUrl}/${name}`,
        async drop() {
          await owner.close();
          await app.close();
          await admin.sql.unsafe(`drop database ${name} with (force)`);
        },
      };
    },
    stop,
  };
}
