import { createHash } from 'node:crypto';
import type { ApprovalStatus } from '../schemas/events.js';
import type { ReviewTokenClaims } from './token.js';

/**
 * A side effect that a committed state change causes. It is stored with the change, in the same
 * transaction, then carried out and removed; one that failed stays and is carried out again by a
 * retry or a sweep (README "Rules the code keeps").
 */
export type SideEffect = Notify | SetApprovalStatus | SetStageStatus;

export interface Notify {
  kind: 'notify';
  id: string;
  topic: 'reviewers' | 'governance';
  subject: string;
  message: string;
  /** SNS message attributes; `reviewer` routes a reviewer's message to their subscription only. */
  attributes: Record<string, string>;
  /**
   * The reviewer's link. Its token is signed when the message is sent and replaces
   * `{reviewUrl}` in `message`, so no token ever rests in the table.
   */
  link?: ReviewTokenClaims;
}

export interface SetApprovalStatus {
  kind: 'setApprovalStatus';
  id: string;
  modelPackageArn: string;
  status: ApprovalStatus;
  /** Tried when SageMaker refuses `status` with a ValidationException. */
  fallbackStatus?: ApprovalStatus;
  description: string;
  clientToken: string;
}

/**
 * A version's lifecycle stage status (UpdateModelPackage `ModelLifeCycle`): a stage promotion
 * rejected by its gate or decided by its review, or an unexplained stage approval reverted.
 */
export interface SetStageStatus {
  kind: 'setStageStatus';
  id: string;
  modelPackageArn: string;
  stage: string;
  status: string;
  /** StageDescription: at most 1,024 characters on one line (see `fitStageDescription`). */
  description: string;
  clientToken: string;
}

/** A pending effect, claimed by one invocation until `claimedUntil` so concurrent repeats skip it. */
export interface PendingEffect {
  effect: SideEffect;
  claimedUntil: number;
  attempts: number;
  lastError?: string;
  /**
   * When it was committed (epoch ms, as `claimedUntil`): the hourly sweep reports the oldest
   * pending effect's age from it. Absent on effects committed before it was recorded.
   */
  since?: number;
}

/** How long an invocation holds the effects it committed before another may carry them out. */
export const EFFECT_LEASE_MS = 60_000;

/**
 * UpdateModelPackage's ClientToken: 1–36 characters of `[a-zA-Z0-9-]`. Derived from what caused
 * the call, so a retry of the same cause sends the same token and SageMaker applies it once.
 */
export function clientToken(...cause: Array<string | number>): string {
  const h = createHash('sha256').update(cause.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** ApprovalDescription is limited to 1,024 characters: keep the start and say it was cut. */
export function fitDescription(text: string, max = 1024): string {
  return text.length <= max ? text : `${text.slice(0, max - 14)} …(truncated)`;
}

/** StageDescription's pattern is `.{0,1024}`: one line (no line break), cut like `fitDescription`. */
export function fitStageDescription(text: string): string {
  return fitDescription(text.replace(/[\r\n\u2028\u2029]+/g, ' '));
}
