/**
 * Progress for long work, on stderr: a self-updating line on a terminal, otherwise one line
 * per `everyPercent` (so CI logs stay short). Returns the callback to pass as `onProgress`.
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
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const text = `${label}: ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} (${percent.toFixed(0)}%, ${rate.toLocaleString("en-US")}/s)`;
    if (stream.isTTY) {
      stream.write(`\r${text}${done >= total ? "\n" : ""}`);
    } else if (percent - lastPercent >= every || done >= total) {
      stream.write(text + "\n");
      lastPercent = percent;
    }
  };
}
