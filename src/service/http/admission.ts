// Admission control for hashing work: a bounded number of jobs in flight,
// a bounded number of body bytes held, a bounded wait.
import { availableParallelism } from 'node:os';
import { ApiError } from './api-error.js';

export interface AdmissionLimits {
  /** Hashing jobs that run at once (an image decode + resample, or one PDF's extraction). */
  maxInFlight: number;
  /**
   * Body bytes held by admitted requests (receiving, waiting for a slot or being hashed); past it, new ones are shed.
   */
  maxQueuedBytes: number;
  /**
   * Longest a request may wait for a slot once its body is in;
   * an arrival expected to wait longer is shed before its body is read.
   */
  maxQueueWaitMs: number;
}

/**
 * One job per core: the decode runs on sharp's threadpool and the resample on the main thread, so more jobs than
 * cores only add latency and decode buffers. 64 MB of bodies (about 270 uploads of 240 KB, one 50 MB upload) keeps
 * the service near 200 MB RSS from a ~110 MB baseline. 500 ms of queueing keeps an admitted request under ~1 s.
 */
export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = Object.freeze({
  maxInFlight: Math.max(1, availableParallelism()),
  maxQueuedBytes: 64 * 1024 * 1024,
  maxQueueWaitMs: 500,
});

export type ShedReason = 'queued-bytes' | 'queue-wait';

/** What a refusal tells the client: the reason and when to come back. */
export interface AdmissionRefusal {
  reason: ShedReason;
  retryAfterSeconds: number;
}

/** The message of a 503 EOVERLOADED, one place for the error below and the early refusal's precomputed body. */
export function describeOverload(reason: ShedReason, retryAfterSeconds: number): string {
  const why =
    reason === 'queued-bytes' ? 'the bytes of queued uploads are at their limit' : 'the queue of hashing jobs is full';
  return `The service is at capacity (${why}); retry after ${retryAfterSeconds} s.`;
}

/**
 * 503 EOVERLOADED: the service is at capacity;
 * the client should retry after `retryAfterSeconds`. Never an extraction failure.
 */
export class OverloadedError extends ApiError {
  readonly reason: ShedReason;
  readonly retryAfterSeconds: number;
  constructor(reason: ShedReason, retryAfterSeconds: number) {
    super(503, 'EOVERLOADED', describeOverload(reason, retryAfterSeconds));
    this.name = 'OverloadedError';
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isOverloadedError(error: unknown): error is OverloadedError {
  return error instanceof OverloadedError;
}

/** What one admitted request holds; `close` gives everything back and is idempotent. */
export interface AdmissionTicket {
  /** Counts streamed body bytes (chunked uploads); throws OverloadedError when the budget runs out. */
  addBytes(count: number): void;
  /** Waits for a hashing slot; rejects with OverloadedError when none frees up within maxQueueWaitMs. */
  acquireSlot(): Promise<void>;
  /** Gives the slot back (the job is done); the body bytes stay held until `close`. */
  releaseSlot(): void;
  close(): void;
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

// Before the first job finishes there is no measured service time; this guess only affects the first second.
const PRIOR_JOB_MS = 20;
const EWMA_WEIGHT = 0.1;
// About a thousand clients over 50–100 jobs/s: their fair share is one request per 10–20 s. A 5 s cap measured
// 0.48 of the 8-client throughput per service CPU-second at 1024 clients (refusals ate the rest), 20 s 0.87.
const MAX_RETRY_AFTER_SECONDS = 20;

/**
 * FIFO of hashing jobs. Arrival (`admit`) is checked against the byte budget and the expected wait, computed from
 * the requests ahead and a moving average of job time, so an overloaded service sheds before reading a body.
 * Not thread-safe; `now` is injectable for tests.
 */
export class AdmissionGate {
  readonly limits: AdmissionLimits;
  private readonly now: () => number;
  private inFlight = 0;
  private queuedBytes = 0;
  /** Admitted tickets that hold no slot yet (receiving their body or waiting). */
  private pending = 0;
  private readonly waiters: Waiter[] = [];
  private jobMs = PRIOR_JOB_MS;
  /** Hashing arrivals (admitted or shed) in the current and the last full one-second window, for Retry-After. */
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private arrivalsInWindow = 0;
  private arrivalsPerSecond = 0;

  constructor(limits: AdmissionLimits, now: () => number = () => performance.now()) {
    this.limits = limits;
    this.now = now;
  }

  get state(): { inFlight: number; queuedBytes: number; pending: number; waiting: number } {
    return {
      inFlight: this.inFlight,
      queuedBytes: this.queuedBytes,
      pending: this.pending,
      waiting: this.waiters.length,
    };
  }

  /** Expected wait for a new arrival: the jobs ahead of it beyond the free slots, divided among the slots. */
  getExpectedWaitMs(): number {
    const ahead = this.pending + this.inFlight - this.limits.maxInFlight + 1;
    return ahead <= 0 ? 0 : Math.ceil(ahead / this.limits.maxInFlight) * this.jobMs;
  }

  /**
   * The larger of the time to drain what is admitted and the overload factor (arrivals per second over jobs per
   * second): if every refused client waits that long, their retries arrive about as fast as jobs finish, instead
   * of a thousand clients costing a thousand refusals a second.
   */
  getRetryAfterSeconds(): number {
    const drainSeconds = ((this.pending + this.inFlight) / this.limits.maxInFlight) * (this.jobMs / 1000);
    const jobsPerSecond = (this.limits.maxInFlight * 1000) / Math.max(1, this.jobMs);
    const overload = Math.max(this.arrivalsPerSecond, this.arrivalsInWindow) / jobsPerSecond;
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(Math.max(drainSeconds, overload))));
  }

  /** Admits a request declaring `declaredBytes` (its Content-Length, 0 when chunked), or throws OverloadedError. */
  admit(declaredBytes: number): AdmissionTicket {
    const outcome = this.tryAdmit(declaredBytes);
    if ('ticket' in outcome) return outcome.ticket;
    throw new OverloadedError(outcome.reason, outcome.retryAfterSeconds);
  }

  /**
   * `admit` without the exception: a refusal is a value. Under a flood most arrivals are refused, and an Error
   * (its stack captured) cost more than the rest of an early refusal.
   */
  tryAdmit(declaredBytes: number): { ticket: AdmissionTicket } | AdmissionRefusal {
    this.countArrival();
    if (this.queuedBytes + declaredBytes > this.limits.maxQueuedBytes)
      return { reason: 'queued-bytes', retryAfterSeconds: this.getRetryAfterSeconds() };
    if (this.getExpectedWaitMs() > this.limits.maxQueueWaitMs)
      return { reason: 'queue-wait', retryAfterSeconds: this.getRetryAfterSeconds() };
    return { ticket: this.createTicket(declaredBytes) };
  }

  private createTicket(declaredBytes: number): AdmissionTicket {
    let heldBytes = declaredBytes;
    let streamedBytes = 0;
    let phase: 'pending' | 'waiting' | 'running' | 'done' | 'closed' = 'pending';
    let waiter: Waiter | undefined;
    let startedMs = 0;
    this.queuedBytes += heldBytes;
    this.pending++;
    const leavePending = () => {
      if (phase === 'pending' || phase === 'waiting') this.pending--;
    };
    const ticket: AdmissionTicket = {
      addBytes: (count) => {
        streamedBytes += count;
        if (streamedBytes <= heldBytes) return;
        const extra = streamedBytes - heldBytes;
        if (this.queuedBytes + extra > this.limits.maxQueuedBytes)
          throw new OverloadedError('queued-bytes', this.getRetryAfterSeconds());
        this.queuedBytes += extra;
        heldBytes = streamedBytes;
      },
      acquireSlot: () => {
        if (phase !== 'pending') return Promise.reject(new Error(`acquireSlot called in phase ${phase}`));
        const start = () => {
          leavePending();
          phase = 'running';
          startedMs = this.now();
          this.inFlight++;
        };
        if (this.inFlight < this.limits.maxInFlight && this.waiters.length === 0) {
          start();
          return Promise.resolve();
        }
        // The wait is counted from here, once the body is in: an upload slowed by a busy machine is not a queue.
        const remainingMs = this.limits.maxQueueWaitMs;
        if (remainingMs <= 0) return Promise.reject(new OverloadedError('queue-wait', this.getRetryAfterSeconds()));
        phase = 'waiting';
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.dropWaiter(waiter);
            waiter = undefined;
            reject(new OverloadedError('queue-wait', this.getRetryAfterSeconds()));
          }, remainingMs);
          waiter = {
            timer,
            grant: () => {
              clearTimeout(timer);
              waiter = undefined;
              start();
              resolve();
            },
          };
          this.waiters.push(waiter);
        });
      },
      releaseSlot: () => {
        if (phase !== 'running') return;
        phase = 'done';
        this.inFlight--;
        this.jobMs += EWMA_WEIGHT * (this.now() - startedMs - this.jobMs);
        this.grantNext();
      },
      close: () => {
        if (phase === 'closed') return;
        ticket.releaseSlot();
        if (waiter) {
          clearTimeout(waiter.timer);
          this.dropWaiter(waiter);
          waiter = undefined;
        }
        leavePending();
        phase = 'closed';
        this.queuedBytes -= heldBytes;
        heldBytes = 0;
      },
    };
    return ticket;
  }

  private countArrival(): void {
    const nowMs = this.now();
    if (nowMs - this.windowStartMs >= 1000) {
      this.arrivalsPerSecond = nowMs - this.windowStartMs < 2000 ? this.arrivalsInWindow : 0;
      this.windowStartMs = nowMs;
      this.arrivalsInWindow = 0;
    }
    this.arrivalsInWindow++;
  }

  private dropWaiter(waiter: Waiter | undefined): void {
    const at = waiter ? this.waiters.indexOf(waiter) : -1;
    if (at >= 0) this.waiters.splice(at, 1);
  }

  private grantNext(): void {
    while (this.inFlight < this.limits.maxInFlight && this.waiters.length > 0) this.waiters.shift()!.grant();
  }
}
