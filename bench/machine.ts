import { cpus, totalmem } from "node:os";

/** The machine a result came from. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGB: number;
  readonly node: string;
  readonly platform: string;
}

/** Describes this machine. */
export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? "unknown",
    cores: list.length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}
