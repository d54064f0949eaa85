import { auditEntries, groupScope, type AuditEvent } from '../domain/audit.js';
import { EFFECT_LEASE_MS, type SideEffect } from '../domain/effects.js';
import { reviewersFor } from '../domain/policy.js';
import { reviewMessage, reviewedGate, type ReviewRequest } from '../domain/review.js';
import { stageOf, type ModelVersion } from '../domain/version.js';
import { assertIsError } from '../domain/errors.js';
import type { Deps } from '../ports.js';
import { logger } from '../logger.js';
import { carryOut, resumeOwned, resumePending } from './effects.js';
import { untilCommitted } from './retry.js';
import { gateWaitingVersion } from './gate.js';

export interface SweepReport {
  openReviews: number;
  reminded: number;
  expired: number;
  resumedEffects: number;
  failures: number;
  /** Versions listed as waiting for their training job (the sparse awaiting-job index). */
  awaitingJob: number;
  /** Of those, the versions gated now: their job is recorded, or SageMaker confirms it. */
  regated: number;
  /** Waiting versions whose gate failed (they stay listed, and the next sweep tries again). */
  regateFailures: Array<{ modelPackageArn: string; error: string }>;
}

const PAGE = 100;

/**
 * The hourly sweep: reminds reviewers who have not voted after the policy's `reminderAfterHours`
 * (once per period), expires reviews past their lifetime (the version stays
 * PendingManualApproval; a governance notice goes out), and carries out side effects that an
 * earlier invocation left pending. One review's failure does not stop the others.
 */
export async function sweepReviews(deps: Deps): Promise<SweepReport> {
  const report: SweepReport = { openReviews: 0, reminded: 0, expired: 0, resumedEffects: 0, failures: 0, awaitingJob: 0, regated: 0, regateFailures: [] };
  let cursor: string | undefined;
  do {
    const page = await deps.store.listOpenReviews({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const review of page.items) {
      report.openReviews++;
      try {
        const done = await sweepOne(deps, review);
        if (done === 'expired') report.expired++;
        else report.reminded += done;
      } catch (e) {
        assertIsError(e);
        report.failures++;
        logger.error('sweep failed for a review', { reviewId: review.id, modelPackageArn: review.modelPackageArn, error: e.name, errorMessage: e.message });
      }
    }
    cursor = page.cursor;
  } while (cursor);

  await regateAwaitingVersions(deps, report);

  cursor = undefined;
  do {
    const page = await deps.store.listVersionsWithPendingEffects({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const version of page.items) {
      try {
        report.resumedEffects += await resumePending(deps, version);
      } catch (e) {
        assertIsError(e);
        report.failures++;
        logger.error('sweep could not carry out pending effects', { modelPackageArn: version.arn, error: e.name, errorMessage: e.message });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  // The endpoints' unapproved-deployment notices that no invocation could send.
  cursor = undefined;
  do {
    const page = await deps.store.listEndpointsWithPendingEffects({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const endpoint of page.items) {
      try {
        report.resumedEffects += await resumeOwned(deps, { endpoint: endpoint.name }, endpoint.pendingEffects);
      } catch (e) {
        assertIsError(e);
        report.failures++;
        logger.error('sweep could not carry out pending effects', { endpoint: endpoint.name, error: e.name, errorMessage: e.message });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  logger.info('review sweep done', { ...report });
  return report;
}

/**
 * Gates every version still waiting for its training job whose job is now recorded (its event's
 * gate failed after the job's commit) or confirmable through the artifact path. A version whose
 * job is still unknown is left as it is: nothing is written, so no audit entry every hour.
 */
async function regateAwaitingVersions(deps: Deps, report: SweepReport): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await deps.store.listVersionsAwaitingJob({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const version of page.items) {
      report.awaitingJob++;
      try {
        if ((await gateWaitingVersion(deps, version.arn)) !== 'duplicate') report.regated++;
      } catch (e) {
        assertIsError(e);
        report.failures++;
        report.regateFailures.push({ modelPackageArn: version.arn, error: `${e.name}: ${e.message}`.slice(0, 500) });
        logger.error('sweep could not gate a waiting version', { modelPackageArn: version.arn, error: e.name, errorMessage: e.message });
      }
    }
    cursor = page.cursor;
  } while (cursor);
}

/** Expires or reminds one review; returns 'expired' or the number of reminders sent. */
async function sweepOne(deps: Deps, listed: ReviewRequest): Promise<'expired' | number> {
  const now = deps.clock.now();
  const expired = now >= Date.parse(listed.expiresAt);
  const due = dueReminders(listed, now);
  if (!expired && due.length === 0) return 0;

  const effects = await untilCommitted<SideEffect[] | undefined>(async () => {
    const ctx = await deps.store.loadReviewContext({ group: listed.group, version: listed.version, reviewId: listed.id });
    if (!ctx.review || !ctx.version || ctx.review.status !== 'Open') return { result: 'committed', value: undefined };
    const { rev: reviewRev, ...review } = ctx.review;
    const { rev: versionRev, ...version } = ctx.version;
    const at = new Date(now).toISOString();
    let updated: ReviewRequest;
    let events: AuditEvent[];
    let effects: SideEffect[];
    if (expired) {
      updated = { ...review, status: 'Expired', closedAt: at };
      events = [{ action: 'review.expired', subject: review.modelPackageArn, actor: 'modelgate', detail: { reviewId: review.id, expiresAt: review.expiresAt, votes: Object.keys(review.votes) } }];
      effects = [
        {
          kind: 'notify',
          id: `expired:${review.id}`,
          topic: 'governance',
          subject: `Review expired: ${review.group} v${review.version}`.slice(0, 99),
          message: [
            `The review of ${review.modelPackageArn} expired at ${review.expiresAt} with ${Object.values(review.votes).filter((v) => v.decision === 'approve').length} of ${review.requiredApprovals} approvals.`,
            review.stage === undefined
              ? 'The version stays PendingManualApproval in the registry. An operator can reopen its review under the current policy with reopenReview (modelPackageArn, changedBy); each reviewer then gets a new link.'
              : `The stage stays ${review.stage}/${review.stageStatuses?.pending ?? 'PendingApproval'} in the registry. To ask again, set ModelLifeCycle ${review.stage}/${review.stageStatuses?.pending ?? 'PendingApproval'} once more: the promotion is then gated and reviewed again under the current policy.`,
          ].join('\n'),
          attributes: { event: 'review-expired', group: review.group },
        },
      ];
    } else {
      // Nobody whom the group's current policy no longer names is reminded (their link decides nothing).
      const reminders = dueReminders(review, now).filter((r) => !ctx.policy || reviewersFor(ctx.policy, review.stage).includes(r));
      if (reminders.length === 0) return { result: 'committed', value: undefined };
      updated = { ...review, remindedAt: { ...review.remindedAt, ...Object.fromEntries(reminders.map((r) => [r, at])) } };
      events = [{ action: 'review.reminded', subject: review.modelPackageArn, actor: 'modelgate', detail: { reviewId: review.id, reviewers: reminders } }];
      effects = reminders.map((reviewer) => {
        const link = { id: review.links[reviewer] ?? '', reviewId: review.id, modelPackageArn: review.modelPackageArn, version: review.version, reviewer, expiresAt: review.expiresAt };
        const message = reviewMessage(version, reviewedGate(version, review), review, link, 'review-reminder');
        return { ...message, id: `remind:${review.id}:${reviewer}:${at}` };
      });
    }
    const closed = { id: review.id, status: 'Expired' };
    // A stage review's expiry is the stage's; the version's own review is left as it is.
    const expiry =
      review.stage === undefined
        ? { review: closed }
        : { stages: { ...(version.stages ?? {}), [review.stage]: { ...stageOf(version, review.stage), review: closed } } };
    const nextVersion: ModelVersion = {
      ...version,
      ...(expired ? expiry : {}),
      pendingEffects: { ...version.pendingEffects, ...Object.fromEntries(effects.map((e) => [e.id, { effect: e, claimedUntil: now + EFFECT_LEASE_MS, attempts: 1 }])) },
    };
    const result = await deps.store.commitSweep({
      review: updated,
      expectedReviewRev: reviewRev,
      version: nextVersion,
      expectedVersionRev: versionRev,
      audit: auditEntries(groupScope(review.group), events, now, deps.newId),
    });
    return { result, value: effects };
  });
  if (!effects) return 0;
  await carryOut(deps, { group: listed.group, version: listed.version }, effects);
  return expired ? 'expired' : effects.length;
}

/**
 * Reviewers without a vote whose last reminder (or the opening) is `reminderAfterHours` old. Only
 * the reviewers the review lists, each with their link: a reviewer removed from the group
 * (removeReviewer) is neither, and gets no reminder.
 */
export function dueReminders(review: ReviewRequest, now: number): string[] {
  const period = review.reminderAfterHours * 3_600_000;
  return review.reviewers.filter((r) => {
    if (review.votes[r] || !review.links[r]) return false;
    const last = Date.parse(review.remindedAt[r] ?? review.openedAt);
    return now - last >= period;
  });
}
