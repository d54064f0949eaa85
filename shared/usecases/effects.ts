import { EFFECT_LEASE_MS, clientToken, type SideEffect } from '../domain/effects.js';
import { SideEffectFailed, assertIsError } from '../domain/errors.js';
import { withTrustLine } from '../domain/organisation.js';
import { REVIEW_URL_PLACEHOLDER } from '../domain/review.js';
import { signReviewToken } from '../domain/token.js';
import type { ModelVersion } from '../domain/version.js';
import type { Deps, EffectOwner } from '../ports.js';
import type { PendingEffect } from '../domain/effects.js';
import { logger } from '../logger.js';

/**
 * Carries out effects that were committed with a state change (and so are claimed by this
 * invocation), then records which are done. A failed effect stays pending, its lease released,
 * and the invocation fails so that Lambda retries it: the retry sees a duplicate and resumes it.
 */
export async function carryOut(deps: Deps, key: EffectOwner, effects: SideEffect[]): Promise<void> {
  const done: string[] = [];
  const failed: Array<{ id: string; kind: string; error: string }> = [];
  for (const effect of effects) {
    try {
      await perform(deps, effect);
      done.push(effect.id);
    } catch (e) {
      assertIsError(e);
      logger.error('side effect failed', { effectId: effect.id, kind: effect.kind, error: e.name, errorMessage: e.message });
      failed.push({ id: effect.id, kind: effect.kind, error: `${e.name}: ${e.message}` });
    }
  }
  await deps.store.settleEffects(key, done, failed);
  if (failed.length > 0) {
    throw new SideEffectFailed(`${failed.length} side effect(s) failed and stay pending: ${failed.map((f) => f.id).join(', ')}`, { effects: failed });
  }
}

/** Resumes effects left pending by an earlier invocation whose lease has run out. */
export async function resumePending(deps: Deps, version: ModelVersion): Promise<number> {
  return resumeOwned(deps, { group: version.group, version: version.version }, version.pendingEffects);
}

/** The same for any owner of effects (an endpoint's deployment notices). */
export async function resumeOwned(deps: Deps, key: EffectOwner, pendingEffects: Record<string, PendingEffect> | undefined): Promise<number> {
  const now = deps.clock.now();
  const due = Object.entries(pendingEffects ?? {}).filter(([, p]) => p.claimedUntil < now);
  if (due.length === 0) return 0;
  const claimed = await deps.store.claimEffects(key, due.map(([id]) => id), now, now + EFFECT_LEASE_MS);
  if (!claimed) return 0; // another invocation holds them
  await carryOut(deps, key, due.map(([, p]) => p.effect));
  return due.length;
}

async function perform(deps: Deps, effect: SideEffect): Promise<void> {
  switch (effect.kind) {
    case 'notify': {
      let message = effect.message;
      if (effect.link) {
        // Signed now, with the current key, so that no token rests in the table or in a log.
        const token = signReviewToken(effect.link, (await deps.keys.keyRing()).current);
        // The last occurrence: the link line ends the message, whatever a description contains.
        const at = message.lastIndexOf(REVIEW_URL_PLACEHOLDER);
        message = `${message.slice(0, at)}${reviewUrl(deps.reviewBaseUrl, token)}${message.slice(at + REVIEW_URL_PLACEHOLDER.length)}`;
      }
      // Every message ends with the organisation's line, added here, where every message is sent,
      // so that none can go without it (a stored message from before a change of contact too).
      await deps.notifier.publish({ topic: effect.topic, subject: effect.subject, message: withTrustLine(message, deps.organisation), attributes: effect.attributes });
      return;
    }
    case 'setApprovalStatus': {
      const outcome = await deps.registry.setApprovalStatus({
        modelPackageArn: effect.modelPackageArn,
        status: effect.status,
        description: effect.description,
        clientToken: effect.clientToken,
      });
      if (outcome === 'updated') return;
      if (!effect.fallbackStatus) throw new Error(`SageMaker refused ModelApprovalStatus ${effect.status}`);
      logger.warn('approval status refused, using fallback', {
        modelPackageArn: effect.modelPackageArn,
        refused: effect.status,
        fallback: effect.fallbackStatus,
      });
      const fallback = await deps.registry.setApprovalStatus({
        modelPackageArn: effect.modelPackageArn,
        status: effect.fallbackStatus,
        description: effect.description,
        clientToken: clientToken(effect.clientToken, effect.fallbackStatus),
      });
      if (fallback === 'refused') throw new Error(`SageMaker refused ModelApprovalStatus ${effect.status} and ${effect.fallbackStatus}`);
      return;
    }
    case 'setStageStatus':
      await deps.registry.setStageStatus({
        modelPackageArn: effect.modelPackageArn,
        stage: effect.stage,
        status: effect.status,
        description: effect.description,
        clientToken: effect.clientToken,
      });
      return;
  }
}

/** A reviewer's URL: the review page's route with the signed token as its only parameter. */
export const reviewUrl = (base: string, token: string): string => `${base.replace(/\/+$/, '')}/reviews/${token}`;
