/**
 * Progress for long work, on stderr: on a terminal a self-updating bar with rate and time left,
 * otherwise one line per `everyPercent` (so CI logs stay short). Returns the callback to pass as
 * `onProgress`.
 */
export function progressReporter(label: string, opts: { everyPercent?: number; stream?: NodeJS.WriteStream; quiet?: boolean } = {}): (done: number, total: number) => void {
  const stream = opts.stream ?? process.stderr;
  const every = opts.everyPercent ?? 10;
  const started = performance.now();
  let lastPercent = -Infinity;
  return (done, total) => {
    if (opts.quiet) return;
    const percent = total ? (100 * done) / total : 100;
    const seconds = (performance.now() - started) / 1000;
    // A rate over less than a second says little (the first report comes after one step); the last one always has it.
    const rate = seconds >= 1 || (done >= total && seconds > 0) ? done / seconds : 0;
    const counts = `${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}`;
    if (stream.isTTY) {
      const width = 24;
      const filled = Math.min(width, Math.round((width * percent) / 100));
      const left = rate > 0 && done < total ? ` · ${formatDuration((total - done) / rate)} left` : "";
      stream.write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${percent.toFixed(0)}% ${counts} · ${Math.round(rate).toLocaleString("en-US")}/s${left}\x1b[K${done >= total ? "\n" : ""}`);
    } else if (percent - lastPercent >= every || done >= total) {
      stream.write(`${label}: ${counts} (${percent.toFixed(0)}%${rate > 0 ? `, ${Math.round(rate).toLocaleString("en-US")}/s` : ""})\n`);
      lastPercent = percent;
    }
  };
}

/** "1:05:09", "3:07" or "42 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}
