import * as z from '../schemas/zod.js';
import {
  CheckpointObjectTaken,
  type AuditLogStore,
  type CheckpointBucket,
  type CheckpointSigner,
  type LogHead,
  type SignedCheckpoint,
} from '../audit-log-ports.js';
import { encodeCheckpoint, verifyCheckpoint, type CheckpointBody } from '../domain/checkpoint.js';
import { ModelgateError, ValidationError, describeIssues } from '../domain/errors.js';
import type { Clock } from '../ports.js';
import { recordAuditWindow } from '../metrics.js';

export interface CheckpointDeps {
  log: AuditLogStore;
  signer: CheckpointSigner;
  bucket: CheckpointBucket;
  clock: Clock;
}

/**
 * The log and its checkpoints disagree in a way no retry can mend: a checkpoint larger than the
 * log, two roots for one size, or a checkpoint object the key did not sign. It needs a person
 * (verifyAuditTrail says more); nothing is written.
 */
export class CheckpointRefused extends ModelgateError {
  readonly status = 500;
  readonly retryable = false;
}

/**
 * `{}` or `{ force?: boolean }`. `force` changes nothing (see makeCheckpoint) and is accepted so
 * that an operator's habit does not fail. EventBridge's Scheduled Event (the catch-up schedule)
 * is a request too, mapped to `{}`.
 */
const RequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({ force: z.optional(z.boolean()) }));
const ScheduledEventSchema = /* @__PURE__ */ z.schema(() => z.looseObject({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') }));

export type CheckpointRequest = z.infer<typeof RequestSchema>;

export function parseCheckpointRequest(payload: unknown): CheckpointRequest {
  if (ScheduledEventSchema.safeParse(payload).success) return {};
  const parsed = RequestSchema.safeParse(payload ?? {});
  if (!parsed.success) throw new ValidationError('checkpointAuditLog request', describeIssues(parsed.error.issues));
  return parsed.data;
}

export type CheckpointResult =
  /** Nothing to sign: the log is empty, or it did not grow since `checkpoint`. */
  | { made: false; reason: 'empty-log' | 'no-growth'; checkpoint?: CheckpointBody }
  /**
   * A checkpoint of the log's current size is in the bucket and recorded in the table.
   * `adopted`: the bucket already held one for this size, signed by this key over the same root
   * (a run that stopped between the bucket and the table), and that one was recorded.
   */
  | { made: true; checkpoint: CheckpointBody; objectKey: string; adopted?: true };

/**
 * Signs a checkpoint of the log's head, writes it to the checkpoint bucket, then records it in the
 * table. The bucket comes first: it is the copy that nobody can change (compliance mode), and a
 * record in the table without its object would claim an anchor that does not exist. The result
 * names the checkpoint, not its signature (the signature is in the bucket; results and logs
 * never carry one).
 */
export async function makeCheckpoint(deps: CheckpointDeps, payload: unknown): Promise<CheckpointResult> {
  // `force` is validated and then has no effect: a checkpoint is a statement about a size ("the
  // log had N entries with root R"), and signing the same size again states nothing new; it would
  // only add a second object for the same N, which the bucket refuses anyway.
  parseCheckpointRequest(payload);
  const [head, latest] = await Promise.all([deps.log.readHead(), deps.log.latestCheckpoint()]);
  recordUncheckpointedAge(head, latest?.checkpoint, deps.clock.now());

  if (latest && latest.checkpoint.logSize > head.size) {
    throw new CheckpointRefused(`the latest checkpoint has log size ${latest.checkpoint.logSize}, the log only ${head.size}: the log lost entries`);
  }
  if (latest && latest.checkpoint.logSize === head.size) {
    if (latest.checkpoint.rootHash !== head.rootHash) {
      throw new CheckpointRefused(`the log at size ${head.size} has another root than its checkpoint: the log was rewritten`);
    }
    return { made: false, reason: 'no-growth', checkpoint: body(latest) };
  }
  if (head.size === 0) return { made: false, reason: 'empty-log' };

  const publicKey = await deps.signer.publicKey();
  const checkpoint: CheckpointBody = {
    logSize: head.size,
    rootHash: head.rootHash,
    // Never before the latest checkpoint (checkpointOrder refuses an older one): clocks of two
    // Lambda hosts may differ by milliseconds.
    time: new Date(Math.max(deps.clock.now(), latest ? Date.parse(latest.checkpoint.time) : 0)).toISOString(),
    keyId: await deps.signer.keyId(),
  };
  const signature = await deps.signer.sign(encodeCheckpoint(checkpoint));
  // A signature that does not verify with the key's own public key is never written: the bucket
  // keeps whatever it is given for years.
  const verdict = verifyCheckpoint(checkpoint, signature, publicKey);
  if (!verdict.ok) {
    throw new CheckpointRefused(`the signer's signature of the checkpoint at size ${head.size} does not verify with its public key (${verdict.reason})`);
  }
  let signed: SignedCheckpoint = { checkpoint, signature };

  let objectKey: string;
  let adopted = false;
  try {
    objectKey = await deps.bucket.put(signed);
  } catch (e) {
    if (!(e instanceof CheckpointObjectTaken)) throw e;
    signed = adoptable(e, head, publicKey);
    objectKey = e.key;
    adopted = true;
  }

  // 'conflict': this size was recorded meanwhile. The bucket refuses a second object for a size,
  // so the record is of this object (a concurrent run that adopted it); nothing is left to do.
  await deps.log.recordCheckpoint({ ...signed, objectKey });
  return { made: true, checkpoint: body(signed), objectKey, ...(adopted ? { adopted: true as const } : {}) };
}

/**
 * The audit window this run found, as the `AuditUncheckpointedAge` metric (seconds), published
 * before anything can fail so that a failing run reports it too: when the log has grown past the
 * latest checkpoint, the time since that checkpoint (no sequenced entry beyond it can be older
 * than that: an upper bound on the oldest unanchored entry's age); 0 when it has not grown. Not
 * known before the first checkpoint of a non-empty log (no value then).
 */
function recordUncheckpointedAge(head: Pick<LogHead, 'size'>, latest: Pick<CheckpointBody, 'logSize' | 'time'> | undefined, now: number): void {
  if (!latest) {
    if (head.size === 0) recordAuditWindow('uncheckpointed', 0);
    return;
  }
  const since = Date.parse(latest.time);
  if (head.size <= latest.logSize) recordAuditWindow('uncheckpointed', 0);
  else if (Number.isFinite(since)) recordAuditWindow('uncheckpointed', Math.max(0, Math.floor((now - since) / 1000)));
}

/**
 * The object that holds this size already, when it can stand for this run's checkpoint: a
 * well-formed checkpoint of the same size and root, whose signature verifies with this key.
 * Anything else is refused: it cannot be replaced, and it must not be recorded.
 */
function adoptable(taken: CheckpointObjectTaken, head: LogHead, publicKey: string): SignedCheckpoint {
  const existing = taken.existing as Partial<SignedCheckpoint> | undefined;
  const refuse = (why: string) => new CheckpointRefused(`the checkpoint bucket holds another object at ${taken.key}: ${why}`);
  if (typeof existing !== 'object' || existing === null || typeof existing.signature !== 'string' || existing.checkpoint === undefined) {
    throw refuse('it is not a signed checkpoint');
  }
  const verdict = verifyCheckpoint(existing.checkpoint, existing.signature, publicKey);
  if (!verdict.ok) throw refuse(`it does not verify with this key (${verdict.reason})`);
  if (verdict.body.logSize !== head.size || verdict.body.rootHash !== head.rootHash) throw refuse('it is of another log size or root');
  return { checkpoint: verdict.body, signature: existing.signature };
}

const body = (signed: SignedCheckpoint): CheckpointBody => {
  const { logSize, rootHash, time, keyId } = signed.checkpoint;
  return { logSize, rootHash, time, keyId };
};

export interface CheckpointWindow {
  /** The log's size. */
  logSize: number;
  /**
   * Entries that no checkpoint covers yet: the log's size minus the latest checkpoint's.
   * Negative when the latest checkpoint is larger than the log (the log lost entries).
   */
  uncheckpointed: number;
  /** The latest checkpoint; absent when there is none. */
  latest?: {
    logSize: number;
    time: string;
    /** Seconds from the checkpoint's time to `now`; negative when its time is in the future. */
    ageSeconds: number;
  };
}

/**
 * How much of the log the latest checkpoint leaves unanchored, for verifyAuditTrail. Sizes and
 * the latest checkpoint's time only: when the oldest uncheckpointed entry was sequenced is not
 * known from the head.
 */
export function checkpointWindow(
  head: Pick<LogHead, 'size'>,
  latest: Pick<CheckpointBody, 'logSize' | 'time'> | undefined,
  now: number,
): CheckpointWindow {
  if (!latest) return { logSize: head.size, uncheckpointed: head.size };
  return {
    logSize: head.size,
    uncheckpointed: head.size - latest.logSize,
    latest: { logSize: latest.logSize, time: latest.time, ageSeconds: Math.floor((now - Date.parse(latest.time)) / 1000) },
  };
}
