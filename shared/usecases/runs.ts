import { ModelgateError, SideEffectFailed } from '../domain/errors.js';

/**
 * What one item of a scheduled run (the sweep, reconcile) failed at. The run goes on with the
 * other items, then fails as a whole (`IncompleteRun`) naming each of these.
 */
export interface RunFailure {
  /**
   * - `review`: reminding or expiring one open review (sweep);
   * - `regate`: gating a version that waited for its training job (sweep);
   * - `side-effect`: one pending notice or registry update that could not be carried out;
   * - `registry-listing`, `records`: listing a group's versions, reading their records (reconcile);
   * - `version`: reconciling one version with the registry (reconcile);
   * - `endpoint-listing`, `endpoint`: listing the endpoints, reconciling one of them (reconcile).
   */
  kind: 'review' | 'regate' | 'side-effect' | 'registry-listing' | 'records' | 'version' | 'endpoint-listing' | 'endpoint';
  /** Whose: a model package ARN, an endpoint name, or (a listing) the group or `endpoints`. */
  owner: string;
  /** The review (kind `review`). */
  reviewId?: string;
  /** The side effect's id and kind (kind `side-effect`), e.g. `notify:…` / `notify`. */
  effect?: string;
  effectKind?: string;
  /** The error's name and message: what SageMaker, SNS or DynamoDB answered. Never a token or a signature. */
  error: string;
}

/** Error messages are the SDK's or ours; long ones (a serialized request) are cut. */
const MAX_ERROR = 500;

export function describeError(e: Error): string {
  return `${e.name}: ${e.message}`.slice(0, MAX_ERROR);
}

/**
 * The failures that one error of an item stands for: a `SideEffectFailed` that names its effects
 * is one failure per effect (kind `side-effect`, whatever the item was); anything else is one
 * failure of the item's kind.
 */
export function failuresOf(kind: RunFailure['kind'], owner: string, e: Error, extra: Pick<RunFailure, 'reviewId'> = {}): RunFailure[] {
  if (e instanceof SideEffectFailed && e.effects.length > 0) {
    return e.effects.map((f) => ({ kind: 'side-effect', owner, ...extra, effect: f.id, effectKind: f.kind, error: f.error.slice(0, MAX_ERROR) }));
  }
  return [{ kind: e instanceof SideEffectFailed ? 'side-effect' : kind, owner, ...extra, error: describeError(e) }];
}

/** At most this many failures are spelled out in the error's message; the report has them all. */
const MESSAGE_FAILURES = 10;

/**
 * A scheduled run that did all the work it could and failed on some items: thrown at the end of
 * the run, so that `serverless invoke` exits non-zero, the function's Errors alarm fires and the
 * asynchronous (scheduled) invocation goes to its on-failure destination (the dead-letter queue).
 * The message names the failures; `report` is the run's whole report and `failures` the list.
 *
 * Retryable: every item the run handles is idempotent (a gate observation, a claimed side effect
 * with its ClientToken, a conditional commit), so Lambda's asynchronous retries of a failed
 * scheduled run (serverless.yml `maximumRetryAttempts`) redo nothing that was done.
 */
export class IncompleteRun<R extends { failures: RunFailure[] }> extends ModelgateError {
  readonly status = 502;
  readonly retryable = true;
  readonly failures: RunFailure[];
  constructor(
    readonly run: 'sweep' | 'reconcile',
    readonly report: R,
  ) {
    const failures = report.failures;
    const named = failures.slice(0, MESSAGE_FAILURES).map((f) => `${f.kind} ${f.owner}${f.effect ? ` ${f.effect}` : ''}: ${f.error}`);
    const more = failures.length > MESSAGE_FAILURES ? [`and ${failures.length - MESSAGE_FAILURES} more (the report lists them all)`] : [];
    super(`${run} incomplete: ${failures.length} failure(s): ${[...named, ...more].join('; ')}`);
    this.failures = failures;
  }
}
