import { Conflict } from '../domain/errors.js';
import type { CommitResult, ContextCommit, Refreshed } from '../ports.js';

/**
 * Runs read → decide → commit until the commit is not a conflict. A conflict means another
 * invocation changed what we read (the same version, review or link, or the artifact node; audit
 * entries are new items and never conflict); reading again and deciding again is always safe
 * because every decision is keyed on the state read. AWS reads are not repeated (read-cache.ts).
 */
export async function untilCommitted<T>(attempt: () => Promise<{ result: CommitResult; value: T }>, tries = 8): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const { result, value } = await attempt();
    if (result === 'committed') return value;
    await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** i));
  }
  throw new Conflict(`still conflicting after ${tries} attempts`);
}

/**
 * `untilCommitted` for a change decided on a context (a version's, a job's). The first attempt
 * reads the context (`load`). After a conflict whose cancelled transaction returned the items it
 * failed on (ReturnValuesOnConditionCheckFailure), the next attempt decides on the context as
 * that transaction found it, with no read: the items whose conditions held are the ones read (each
 * write moves an item's `rev`), and every item a decision depends on is a condition of its commit,
 * so a context item that changed after all fails the next commit and comes back with it. Items of
 * the context that no commit conditions on (a group's policy) are reused as read, which is what the
 * first attempt does too. A conflict that did not say what changed reads the context again.
 */
export async function untilCommittedOn<C extends object, T>(
  load: () => Promise<C>,
  attempt: (ctx: C) => Promise<{ result: ContextCommit<C>; value: T }>,
): Promise<T> {
  let known: C | undefined;
  return untilCommitted(async () => {
    const ctx = known ?? (await load());
    known = undefined;
    const { result, value } = await attempt(ctx);
    if (result === 'committed') return { result, value };
    if (result.current) known = refreshed(ctx, result.current);
    return { result: 'conflict', value };
  });
}

/** The context with the items a cancelled transaction returned (null: the item is not there). */
function refreshed<C extends object>(ctx: C, current: Refreshed<C>): C {
  const next = { ...ctx } as Record<string, unknown>;
  for (const [k, v] of Object.entries(current)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next as C;
}
