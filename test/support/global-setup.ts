import type { TestProject } from "vitest/node";
import { admin, SERVER_URLS, type ServerStore, safeUrl } from "./servers.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The server stores that answered before the run (memory and SQLite need none). */
    reachableServers: ServerStore[];
  }
}

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Probes the database servers once per run. An unreachable server skips its
 * store with one line, unless `COHERENCE_REQUIRE_STORES` names it: then the run fails.
 */
export default async function setup(project: TestProject): Promise<void> {
  const wanted = list(process.env.COHERENCE_STORES);
  const required = new Set(list(process.env.COHERENCE_REQUIRE_STORES) ?? []);
  const reachable: ServerStore[] = [];
  for (const store of Object.keys(SERVER_URLS) as ServerStore[]) {
    if (wanted && !wanted.includes(store)) continue;
    try {
      await admin(store, ["select 1"]);
      reachable.push(store);
    } catch (error) {
      const why = `no ${store} server at ${safeUrl(SERVER_URLS[store])} (${(error as Error).message || (error as { code?: string }).code})`;
      const variable = store === "postgres" ? "COHERENCE_POSTGRES_URL" : "COHERENCE_MYSQL_URL";
      if (required.has(store)) throw new Error(`COHERENCE_REQUIRE_STORES names ${store}, but there is ${why}`);
      console.warn(`skipping the ${store} store: ${why}; set ${variable} to test it`);
    }
  }
  project.provide("reachableServers", reachable);
}
