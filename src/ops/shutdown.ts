// Graceful shutdown: stop accepting, let in-flight requests finish (up to a deadline), then
// cut whatever is left. The caller closes the store afterwards, once nothing can touch it.

import type { IncomingMessage, Server } from 'node:http';

export interface TrackOptions {
  /**
   * Requests that may be cut at shutdown without waiting, such as long polls whose clients simply
   * poll again: waiting for them would hold every shutdown for the full poll.
   */
  interruptible?: (req: IncomingMessage) => boolean;
}

export interface Drainer {
  /** Requests that have started and not yet finished (interruptible ones aside). */
  readonly inFlight: number;
  /** Resolves `true` when everything finished in time, `false` when the deadline cut some. */
  drain(timeoutMs: number): Promise<boolean>;
}

/** Call before the server receives its first request. */
export function trackRequests(server: Server, options: TrackOptions = {}): Drainer {
  let inFlight = 0;
  let idle: (() => void) | undefined;
  server.on('request', (req, res) => {
    if (options.interruptible?.(req)) return;
    inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
      if (inFlight === 0) idle?.();
    };
    res.once('finish', finish);
    res.once('close', finish);
  });

  return {
    get inFlight() { return inFlight; },
    async drain(timeoutMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets with no request in progress would otherwise hold close() open.
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const finished = inFlight === 0 ? true : await Promise.race([
        new Promise<boolean>((resolve) => { idle = () => resolve(true); }),
        new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); timer.unref?.(); }),
      ]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
      return finished;
    },
  };
}
