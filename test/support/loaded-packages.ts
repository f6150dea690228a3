/**
 * Run as a process of its own (`node --import tsx loaded-packages.ts URL`):
 * opens a store on URL (a server store's pool connects only when used) and
 * prints, as JSON, which database packages the process has loaded.
 */
import { createRequire } from "node:module";
import { openStore } from "../../src/index.js";

const PACKAGES = ["pg", "mysql2", "better-sqlite3"];
const url = process.argv[2] as string;
const store = openStore(url);
if (url.startsWith("sqlite:")) await store.initSchema();
const paths = Object.keys(createRequire(import.meta.url).cache);
const loaded = PACKAGES.filter((name) => paths.some((p) => p.includes(`/node_modules/${name}/`)));
await store.close();
process.stdout.write(JSON.stringify(loaded));
