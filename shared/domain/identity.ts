import type { IdentityMap } from './policy.js';

/**
 * Who a principal is, as the organisation knows it: the group's policy maps IAM principal ARN
 * patterns and Studio user profiles to people (their email). Pure: no AWS, no I/O.
 */
export type ResolvedIdentity =
  | { kind: 'mapped'; person: string; principal: string; /** Others whose patterns also match (an overlapping map). */ alsoMatches?: string[] }
  | { kind: 'unmapped'; principal: string; reason: string }
  | { kind: 'unknown'; reason: string };

/**
 * Whether `text` matches `pattern`, where `*` stands for any run of characters (`/` and `:`
 * included) and every other character for itself, ignoring case. No RegExp is built from the
 * pattern: it is split at its stars and the literal pieces are found in order with `indexOf`.
 * Taking the leftmost place for each middle piece is always right for star-only patterns (a later
 * place leaves less room for what follows, never more), so there is no backtracking and the time
 * is bounded by (pieces × text length), whatever the input.
 *
 * Case is ignored because IAM role and user names are unique regardless of case, and a match too
 * many only blocks a self-approval, while a match too few would let one through.
 */
export function matchesPattern(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  const pieces = p.split('*');
  if (pieces.length === 1) return p === t;
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  if (first.length + last.length > t.length || !t.startsWith(first) || !t.endsWith(last)) return false;
  let at = first.length;
  const end = t.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    if (piece === '') continue;
    const found = t.indexOf(piece, at);
    if (found === -1 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/** `…:user-profile/<domain>/<name>` → `<name>`; a bare name (what CreatedBy may carry) as it is. */
function studioProfileName(value: string): string | undefined {
  if (!value.includes(':')) return value;
  const m = /^arn:[^:]*:sagemaker:[^:]*:[^:]*:user-profile\/[^/]+\/([^/]+)$/i.exec(value);
  return m?.[1];
}

/**
 * Whether a Studio profile entry names this principal. An ARN entry is a pattern on the whole
 * ARN; a name entry (or a principal that is only a name, as DescribeModelPackage's CreatedBy may
 * be) compares profile names, since a name alone does not say which domain.
 */
function matchesStudioProfile(entry: string, principal: string): boolean {
  if (entry.includes(':') && principal.includes(':')) return matchesPattern(entry, principal);
  const entryName = studioProfileName(entry);
  const principalName = studioProfileName(principal);
  if (entryName === undefined || principalName === undefined) return false;
  return entry.includes(':') ? entryName.toLowerCase() === principalName.toLowerCase() : matchesPattern(entryName, principalName);
}

/** Everyone in the map whose principals include this one, in address order. */
export function peopleOf(principal: string, map: IdentityMap): string[] {
  return Object.entries(map)
    .filter(([, e]) => e.iamPrincipals.some((p) => matchesPattern(p, principal)) || e.studioUserProfiles.some((s) => matchesStudioProfile(s, principal)))
    .map(([person]) => person)
    .sort();
}

/** Whether the policy has a map at all (an empty one is none). */
export function hasIdentityMap(map: IdentityMap | undefined): map is IdentityMap {
  return map !== undefined && Object.keys(map).length > 0;
}

/**
 * The person behind a principal. `unknown` only when there is no principal at all, with the
 * reason (`whenMissing`, e.g. "SageMaker did not say who registered it").
 */
export function resolveIdentity(
  principal: string | undefined,
  map?: IdentityMap,
  whenMissing = 'SageMaker did not say who it was',
): ResolvedIdentity {
  if (principal === undefined || principal === '') return { kind: 'unknown', reason: whenMissing };
  if (!hasIdentityMap(map)) return { kind: 'unmapped', principal, reason: "the group's policy has no identity map" };
  const [person, ...others] = peopleOf(principal, map);
  if (person === undefined) return { kind: 'unmapped', principal, reason: "no one in the policy's identity map has this principal" };
  return { kind: 'mapped', person, principal, ...(others.length ? { alsoMatches: others } : {}) };
}

/**
 * The name heuristic, for a policy without a map: an identity is the reviewer when its last path
 * segment (an STS session name, an IAM user, a Studio profile) equals the reviewer's address or
 * its local part, ignoring case. IAM Identity Center names sessions after the user's email or
 * user name.
 */
export function isSamePersonByName(reviewer: string, identity: string | undefined): boolean {
  if (!identity) return false;
  const last = identity.split(/[/:]/).at(-1)?.toLowerCase() ?? '';
  const email = reviewer.toLowerCase();
  return last !== '' && (last === email || last === email.split('@')[0]);
}

/** How the self-approval check decided: by the policy's identity map, or by comparing names. */
export type SelfApprovalMethod = 'identity-map' | 'name-heuristic';

export type SelfApprovalCheck =
  | { selfApproval: false; method: SelfApprovalMethod }
  | { selfApproval: true; method: SelfApprovalMethod; role: 'registered' | 'trained'; principal: string };

/**
 * Separation of duties: whether this reviewer registered or trained the version. With a map, a
 * principal is the reviewer when it resolves to them (any of the people it matches); without
 * one, the name heuristic decides, and the result says so.
 */
export function checkSelfApproval(
  reviewer: string,
  version: { registeredBy?: string | undefined; trainedBy?: string | undefined },
  map?: IdentityMap,
): SelfApprovalCheck {
  const method: SelfApprovalMethod = hasIdentityMap(map) ? 'identity-map' : 'name-heuristic';
  const me = reviewer.toLowerCase();
  const isMe = (principal: string | undefined): principal is string => {
    if (principal === undefined || principal === '') return false;
    return hasIdentityMap(map) ? peopleOf(principal, map).includes(me) : isSamePersonByName(reviewer, principal);
  };
  if (isMe(version.registeredBy)) return { selfApproval: true, method, role: 'registered', principal: version.registeredBy };
  if (isMe(version.trainedBy)) return { selfApproval: true, method, role: 'trained', principal: version.trainedBy };
  return { selfApproval: false, method };
}
