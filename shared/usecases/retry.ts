import { Conflict } from '../domain/errors.js';
import type { CommitResult } from '../ports.js';

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
