/**
 * The tslab kernel seen from inside: whether this code runs in a notebook cell, and the writer
 * that sends a cell's `display_data` messages (how and why it is reached: figures/display.ts).
 * Kept apart from the display code so that modules without figures (ops/backend) can ask too.
 */

/** Content of a Jupyter `display_data` message, as tslab's writer takes it. */
export interface DisplayContent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient?: Record<string, unknown>;
}

export type WriteDisplayData = (content: DisplayContent, update: boolean) => void;

/** The display writer of the tslab cell being executed, or undefined outside tslab. */
export function tslabWriter(): WriteDisplayData | undefined {
  if (typeof require === "undefined" || !require.cache) return undefined;
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    const writer = (mod?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof writer === "function") return writer as WriteDisplayData;
  }
  return undefined;
}

/** True when running inside a tslab kernel that is executing a cell. */
export function insideTslab(): boolean {
  return tslabWriter() !== undefined;
}
