import { auditEntries, groupScope, type AuditEvent } from '../domain/audit.js';
import { EFFECT_LEASE_MS, type PendingEffect, type SideEffect } from '../domain/effects.js';
import { reviewersFor } from '../domain/policy.js';
import { reviewMessage, reviewedGate, type ReviewRequest } from '../domain/review.js';
import { stageOf, type ModelVersion } from '../domain/version.js';
import { SideEffectFailed, assertIsError } from '../domain/errors.js';
import type { Deps, EffectOwner } from '../ports.js';
import { logger } from '../logger.js';
import { carryOut, resumeOwned } from './effects.js';
import { untilCommitted } from './retry.js';
import { gateWaitingVersion } from './gate.js';
import { IncompleteRun, failuresOf, type RunFailure } from './runs.js';

export interface SweepReport {
  openReviews: number;
  reminded: number;
  expired: number;
  /**
   * Open reviews that expire within `EXPIRING_WITHIN_MS` (24 hours) with fewer approvals than
   * their quorum: what an operator can still save (remind the reviewers, reissueLink).
   */
  expiringWithoutQuorum: Array<{ reviewId: string; modelPackageArn: string; expiresAt: string; approvals: number; requiredApprovals: number }>;
  resumedEffects: number;
  /** Side effects still pending after this run (failed again, or held by another invocation). */
  pendingEffects: number;
  /** The oldest of those whose commit time is recorded, with its age. */
  oldestPendingEffect?: { owner: string; effect: string; since: string; ageSeconds: number };
  /** Versions listed as waiting for their training job (the sparse awaiting-job index). */
  awaitingJob: number;
  /** Of those, the versions gated now: their job is recorded, or SageMaker confirms it. */
  regated: number;
  /** Every item that failed, named (the others were still done); any failure fails the run. */
  failures: RunFailure[];
}

const PAGE = 100;
/** "About to expire": within a day, time enough to remind or reissue a link. */
export const EXPIRING_WITHIN_MS = 24 * 3_600_000;

/**
 * The hourly sweep: reminds reviewers who have not voted after the policy's `reminderAfterHours`
 * (once per period), expires reviews past their lifetime (the version stays
 * PendingManualApproval; a governance notice goes out), gates versions still waiting for their
 * training job, and carries out side effects that an earlier invocation left pending. One item's
 * failure does not stop the others: every failure is named in the report, and when there is any,
 * the run throws `IncompleteRun` (with the report) after doing everything else.
 *
 * The schedule invokes it asynchronously; a failed run is not retried by Lambda
 * (serverless.yml `maximumRetryAttempts: 0`: the next hour's run does the same work) and goes to
 * the dead-letter queue. A retry would be safe anyway: every step is idempotent (a conditional
 * commit on the review's and version's revisions, effects claimed under a lease and sent with
 * their ids and ClientTokens).
 */
export async function sweepReviews(deps: Deps): Promise<SweepReport> {
  const report: SweepReport = {
    openReviews: 0,
    reminded: 0,
    expired: 0,
    expiringWithoutQuorum: [],
    resumedEffects: 0,
    pendingEffects: 0,
    awaitingJob: 0,
    regated: 0,
    failures: [],
  };
  let cursor: string | undefined;
  do {
    const page = await deps.store.listOpenReviews({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const review of page.items) {
      report.openReviews++;
      try {
        const done = await sweepOne(deps, review);
        if (done === 'expired') report.expired++;
        else {
          report.reminded += done;
          const expiring = expiringWithoutQuorum(review, deps.clock.now());
          if (expiring) report.expiringWithoutQuorum.push(expiring);
        }
      } catch (e) {
        assertIsError(e);
        addFailures(report, failuresOf('review', review.modelPackageArn, e, { reviewId: review.id }));
        logger.error('sweep failed for a review', { reviewId: review.id, modelPackageArn: review.modelPackageArn, error: e.name, errorMessage: e.message });
      }
    }
    cursor = page.cursor;
  } while (cursor);

  await regateAwaitingVersions(deps, report);

  const oldest: { since?: number; owner?: string; effect?: string } = {};
  cursor = undefined;
  do {
    const page = await deps.store.listVersionsWithPendingEffects({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const version of page.items) {
      await resumeAndCount(deps, report, oldest, version.arn, { group: version.group, version: version.version }, version.pendingEffects);
    }
    cursor = page.cursor;
  } while (cursor);
  // The endpoints' unapproved-deployment notices that no invocation could send.
  cursor = undefined;
  do {
    const page = await deps.store.listEndpointsWithPendingEffects({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const endpoint of page.items) {
      await resumeAndCount(deps, report, oldest, endpoint.name, { endpoint: endpoint.name }, endpoint.pendingEffects);
    }
    cursor = page.cursor;
  } while (cursor);
  if (oldest.since !== undefined && oldest.owner !== undefined && oldest.effect !== undefined) {
    report.oldestPendingEffect = {
      owner: oldest.owner,
      effect: oldest.effect,
      since: new Date(oldest.since).toISOString(),
      ageSeconds: Math.max(0, Math.floor((deps.clock.now() - oldest.since) / 1000)),
    };
  }
  logger.info('review sweep done', { ...report, failures: report.failures.length });
  if (report.failures.length > 0) {
    // The whole list, for Logs Insights: the error's message names at most 10.
    logger.error('sweep incomplete', { failures: report.failures });
    throw new IncompleteRun('sweep', report);
  }
  return report;
}

/**
 * Adds failures to the report, each side effect once: an effect that a review's reminder or
 * expiry could not carry out is pending, released, and tried again by the pending pass of the
 * same run; its second failure is the same failure.
 */
function addFailures(report: SweepReport, failures: RunFailure[]): void {
  for (const f of failures) {
    if (f.effect !== undefined && report.failures.some((g) => g.owner === f.owner && g.effect === f.effect)) continue;
    report.failures.push(f);
  }
}

/** An open review that expires within a day without its quorum of approvals, as the report lists it. */
function expiringWithoutQuorum(review: ReviewRequest, now: number): SweepReport['expiringWithoutQuorum'][number] | undefined {
  const expiresAt = Date.parse(review.expiresAt);
  const approvals = Object.values(review.votes).filter((v) => v.decision === 'approve').length;
  if (!(expiresAt > now && expiresAt - now <= EXPIRING_WITHIN_MS) || approvals >= review.requiredApprovals) return undefined;
  return { reviewId: review.id, modelPackageArn: review.modelPackageArn, expiresAt: review.expiresAt, approvals, requiredApprovals: review.requiredApprovals };
}

/**
 * Carries out one owner's pending effects whose lease has run out, and counts what stays pending:
 * the effects still leased (another invocation is carrying them out), the ones that failed again,
 * and all of them when another invocation claimed them first. The oldest that stays, by its
 * commit time (`since`; effects committed before it was recorded are counted, not aged).
 */
async function resumeAndCount(
  deps: Deps,
  report: SweepReport,
  oldest: { since?: number; owner?: string; effect?: string },
  owner: string,
  key: EffectOwner,
  pendingEffects: Record<string, PendingEffect> | undefined,
): Promise<void> {
  const entries = Object.entries(pendingEffects ?? {});
  const now = deps.clock.now();
  const due = new Set(entries.filter(([, p]) => p.claimedUntil < now).map(([id]) => id));
  let left: Set<string>;
  try {
    const resumed = await resumeOwned(deps, key, pendingEffects);
    report.resumedEffects += resumed;
    // 0 with effects due: another invocation claimed them first; they are still pending.
    left = new Set(entries.map(([id]) => id).filter((id) => !due.has(id) || resumed === 0));
  } catch (e) {
    assertIsError(e);
    addFailures(report, failuresOf('side-effect', owner, e));
    logger.error('sweep could not carry out pending effects', { owner, error: e.name, errorMessage: e.message });
    const failed = e instanceof SideEffectFailed && e.effects.length > 0 ? new Set(e.effects.map((f) => f.id)) : due;
    left = new Set(entries.map(([id]) => id).filter((id) => !due.has(id) || failed.has(id)));
  }
  for (const [id, p] of entries) {
    if (!left.has(id)) continue;
    report.pendingEffects++;
    if (p.since !== undefined && (oldest.since === undefined || p.since < oldest.since)) Object.assign(oldest, { since: p.since, owner, effect: id });
  }
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
        addFailures(report, failuresOf('regate', version.arn, e));
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
      pendingEffects: { ...version.pendingEffects, ...Object.fromEntries(effects.map((e) => [e.id, { effect: e, claimedUntil: now + EFFECT_LEASE_MS, attempts: 1, since: now }])) },
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
