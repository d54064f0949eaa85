/**
 * The key design of the one table (README "Key design"). Every access pattern there is one
 * GetItem, BatchGetItem, Query or transaction on these keys; nothing here needs a Scan.
 *
 *   PK                         SK                          GSI1PK / GSI1SK                    GSI2PK / GSI2SK
 *   GROUP#<group>              VERSION#<v 10 digits>       VERSIONS#AWAITING-JOB /             EFFECTS#PENDING / <arn> (while effects are pending)
 *                                                          <createdAt ISO>#<arn> (while awaiting its job)
 *                                                          or APPROVED#<group> / <v 10 digits> (while its observed
 *                                                          status is Approved and it does not await its job)
 *   GROUP#<group>              POLICY#CURRENT              POLICIES / <group> (the governed groups)
 *   GROUP#<group>              POLICY#V#<n 10 digits>
 *   GROUP#<group>              REVIEW#<v 10>#<reviewId>    OPENREVIEWS#<group> / <openedAt>#<reviewId> (while open)   REVIEWS#OPEN / <openedAt>#<reviewId> (while open)
 *   LINK#<linkId>              LINK
 *   REVIEWER#<email>           REVIEWER                    (groups reviewed, SNS subscription)
 *   JOB#<jobName>              JOB
 *   JOB#<jobName>              INPUT#<channel>             DATASET#<bucket> / <key>#JOB#<job>
 *   GROUP#<group>              VINPUT#<v 10>#<channel>     DATASET#<bucket> / <key>#MV#<arn>   (a version derived from a dataset)
 *   ARTIFACT#<s3 uri>          ARTIFACT
 *   ENDPOINT#<endpoint>        ENDPOINT                    ENDPOINTS#SERVING / <endpoint> (while it serves)   EFFECTS#PENDING#ENDPOINTS / <endpoint> (while notices are pending)
 *                                                          (its variants' models and versions; the versions carry servedBy)
 *   AUDIT#<scope>              ENTRY#<at>#<id>#<pos 3>     AUDITOF#<subject> / <at>#<id>#<pos>  AUDIT#UNSEQUENCED / <at>#<id>#<pos> (until sequenced)
 *   MLOG                       HEAD                        (the Merkle log's size, root and right edge)
 *   MLOG#NODE#<level>#<index>  NODE                        (a complete subtree's hash; level 0: the leaf, with its entry's key)
 *   MLOG#CHECKPOINTS           <logSize 16 digits>         (each signed checkpoint, as written to the bucket)
 */
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
/** ISO time (sorts as text); a time outside Date's range (which toISOString refuses) as its number. */
const sortableTime = (ms: number): string => (Number.isNaN(new Date(ms).getTime()) ? String(ms) : new Date(ms).toISOString());
/** SageMaker lowercases a group's name in its ARNs, so a group's keys use the lowercase name too. */
const g = (group: string): string => group.toLowerCase();

export const keys = {
  version: (group: string, version: number) => ({ PK: `GROUP#${g(group)}`, SK: `VERSION#${pad(version, 10)}` }),
  policyCurrent: (group: string) => ({ PK: `GROUP#${g(group)}`, SK: 'POLICY#CURRENT' }),
  policyVersion: (group: string, version: number) => ({ PK: `GROUP#${g(group)}`, SK: `POLICY#V#${pad(version, 10)}` }),
  policyVersionPrefix: 'POLICY#V#',
  reviewPrefix: (version: number) => `REVIEW#${pad(version, 10)}#`,
  review: (group: string, version: number, reviewId: string) => ({
    PK: `GROUP#${g(group)}`,
    SK: `REVIEW#${pad(version, 10)}#${reviewId}`,
  }),
  link: (id: string) => ({ PK: `LINK#${id}`, SK: 'LINK' }),
  reviewer: (email: string) => ({ PK: `REVIEWER#${email.toLowerCase()}`, SK: 'REVIEWER' }),
  job: (name: string) => ({ PK: `JOB#${name}`, SK: 'JOB' }),
  jobInput: (name: string, channel: string) => ({ PK: `JOB#${name}`, SK: `INPUT#${channel}` }),
  versionInput: (group: string, version: number, channel: string) => ({ PK: `GROUP#${g(group)}`, SK: `VINPUT#${pad(version, 10)}#${channel}` }),
  artifact: (uri: string) => ({ PK: `ARTIFACT#${uri}`, SK: 'ARTIFACT' }),
  /** SageMaker's endpoint names are case-insensitive (its ARNs lowercase them): so is the key. */
  endpoint: (name: string) => ({ PK: `ENDPOINT#${name.toLowerCase()}`, SK: 'ENDPOINT' }),
  auditScope: (scope: string) => `AUDIT#${scope}`,
  // A change's entries share `at` and `id`, so they sort together, in `position` order.
  auditEntry: (scope: string, at: string, position: number, id: string) => ({ PK: `AUDIT#${scope}`, SK: `ENTRY#${at}#${id}#${pad(position, 3)}` }),
  auditEntryPrefix: 'ENTRY#',
  logHead: () => ({ PK: 'MLOG', SK: 'HEAD' }),
  logNode: (level: number, index: number) => ({ PK: `MLOG#NODE#${level}#${index}`, SK: 'NODE' }),
  logCheckpoint: (logSize: number) => ({ PK: LOG_CHECKPOINTS, SK: pad(logSize, 16) }),
} as const;

export const OPEN_REVIEWS = 'REVIEWS#OPEN';
/** The partition of the signed checkpoints' records. */
export const LOG_CHECKPOINTS = 'MLOG#CHECKPOINTS';
/** GSI2 partition of the audit entries the sequencer has not placed in the log yet (sparse). */
export const UNSEQUENCED_ENTRIES = 'AUDIT#UNSEQUENCED';
/** GSI1 partition of the current policies: the governed groups. */
export const GOVERNED_GROUPS = 'POLICIES';
export const PENDING_EFFECTS = 'EFFECTS#PENDING';
/** GSI2 partition of the endpoints with notices pending (sparse), for the sweep. */
export const PENDING_ENDPOINT_EFFECTS = 'EFFECTS#PENDING#ENDPOINTS';
/** GSI1 partition of one group's open reviews. */
export const openReviewsOfGroup = (group: string): string => `OPENREVIEWS#${g(group)}`;
/** GSI1 partition of the versions waiting for their training job (sparse: only while gateState is awaiting-job). */
export const AWAITING_JOB = 'VERSIONS#AWAITING-JOB';
/** GSI1 partition of the endpoints that serve (sparse: a deleted or failed endpoint leaves it). */
export const SERVING_ENDPOINTS = 'ENDPOINTS#SERVING';
/** GSI1 partition of one group's Approved versions (sparse): the newest is the version in production. */
export const approvedVersionsOfGroup = (group: string): string => `APPROVED#${g(group)}`;

export const gsi = {
  dataset: (bucket: string, key: string, job: string) => ({ GSI1PK: `DATASET#${bucket}`, GSI1SK: `${key}#JOB#${job}` }),
  datasetOfVersion: (bucket: string, key: string, arn: string) => ({ GSI1PK: `DATASET#${bucket}`, GSI1SK: `${key}#MV#${arn}` }),
  governedGroup: (group: string) => ({ GSI1PK: GOVERNED_GROUPS, GSI1SK: group.toLowerCase() }),
  auditOf: (subject: string, at: string, position: number, id: string) => ({ GSI1PK: `AUDITOF#${subject}`, GSI1SK: `${at}#${id}#${pad(position, 3)}` }),
  auditOfPartition: (subject: string) => `AUDITOF#${subject}`,
  unsequenced: (at: string, position: number, id: string) => ({ GSI2PK: UNSEQUENCED_ENTRIES, GSI2SK: `${at}#${id}#${pad(position, 3)}` }),
  openReview: (openedAt: string, reviewId: string) => ({ GSI2PK: OPEN_REVIEWS, GSI2SK: `${openedAt}#${reviewId}` }),
  /** One group's open reviews (sparse, like `openReview`): what a reviewer change must update, without reading closed reviews. */
  openReviewOfGroup: (group: string, openedAt: string, reviewId: string) => ({ GSI1PK: openReviewsOfGroup(group), GSI1SK: `${openedAt}#${reviewId}` }),
  pendingEffects: (arn: string) => ({ GSI2PK: PENDING_EFFECTS, GSI2SK: arn }),
  awaitingJob: (createdAt: number, arn: string) => ({ GSI1PK: AWAITING_JOB, GSI1SK: `${sortableTime(createdAt)}#${arn}` }),
  /**
   * A version whose observed status is Approved (sparse: it leaves the index when the status
   * changes, a reverted approval included). A version awaiting its job holds GSI1 for that index
   * instead; it is never Approved by modelgate, and an approval of it is reverted.
   */
  approvedVersion: (group: string, version: number) => ({ GSI1PK: approvedVersionsOfGroup(group), GSI1SK: pad(version, 10) }),
  servingEndpoint: (name: string) => ({ GSI1PK: SERVING_ENDPOINTS, GSI1SK: name.toLowerCase() }),
  pendingEndpointEffects: (name: string) => ({ GSI2PK: PENDING_ENDPOINT_EFFECTS, GSI2SK: name.toLowerCase() }),
} as const;

export const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'type', 'ttl'] as const;

/** Strips the storage attributes from an item, leaving the domain object. */
export function fromItem<T>(item: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if (!(KEY_ATTRIBUTES as readonly string[]).includes(k)) out[k] = v instanceof Set ? [...v] : v;
  }
  return out as T;
}
