/**
 * The error hierarchy of modelgate. Every error a caller can act on is one of these. Each class
 * carries its HTTP status and whether an asynchronous invocation should be retried, so the mapping
 * has exactly one place.
 */
export abstract class ModelgateError extends Error {
  abstract readonly status: number;
  /** Whether an asynchronous invocation should be retried (Lambda async retry, then the DLQ). */
  abstract readonly retryable: boolean;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: an event, payload or policy that does not match its schema. Never retried. */
export class ValidationError extends ModelgateError {
  readonly status = 400;
  readonly retryable = false;
  constructor(
    readonly subject: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid ${subject}: ${problems.join('; ')}`);
  }
}

export class NotFound extends ModelgateError {
  readonly status = 404;
  readonly retryable = false;
}

/** A concurrent writer won; the caller re-reads and tries again. */
export class Conflict extends ModelgateError {
  readonly status = 409;
  readonly retryable = true;
}

/** A side effect (SNS, SageMaker) that failed after its state change was committed. */
export class SideEffectFailed extends ModelgateError {
  readonly status = 502;
  readonly retryable = true;
  /** The effects that failed, when the thrower knows them (carryOut does): id, kind, `<name>: <message>`. */
  readonly effects: ReadonlyArray<{ id: string; kind: string; error: string }>;
  constructor(message: string, options?: ErrorOptions & { effects?: ReadonlyArray<{ id: string; kind: string; error: string }> }) {
    super(message, options);
    this.effects = options?.effects ?? [];
  }
}

export function assertIsError(e: unknown): asserts e is Error {
  if (!(e instanceof Error)) throw e;
}

/** Formats zod-style issues as `path: message`, one per problem. */
export function describeIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string[] {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
}
