import * as z from '../schemas/zod.js';
import { SideEffectFailed, ValidationError } from '../domain/errors.js';
import {
  buildModelCard,
  modelCardName,
  renderModelCardMarkdown,
  sageMakerCardStatus,
  toSageMakerContent,
  type ModelCard,
  type ModelCardStatus,
} from '../domain/model-card.js';
import type { Deps } from '../ports.js';
import { VersionRefSchema, lineageDocument, versionRefProblems } from './lineage.js';

const Options = {
  /** Create or update the SageMaker model card `<group>-v<version>` too. Default false. */
  pushToSageMaker: z.optional(z.boolean()),
  /** What to return. Default both. */
  format: z.optional(z.enum(['json', 'markdown', 'both'])),
};
const [ByArn, ByName] = VersionRefSchema.def.options;
const ByArnRequest = /* @__PURE__ */ z.schema(() => z.extend(ByArn, Options));
const ByNameRequest = /* @__PURE__ */ z.schema(() => z.extend(ByName, Options));

export const ExportModelCardRequestSchema = /* @__PURE__ */ z.schema(() => z.union([ByArnRequest, ByNameRequest]));
export type ExportModelCardRequest = z.infer<typeof ExportModelCardRequestSchema>;

export interface ExportedModelCard {
  /** The card (format `json` or `both`). */
  card?: ModelCard;
  /** The card as a Markdown document (format `markdown` or `both`). */
  markdown?: string;
  /** With `pushToSageMaker`: the SageMaker model card's name, status, and whether it was created or updated. */
  pushed?: { name: string; status: ModelCardStatus; outcome: 'created' | 'updated' };
}

/** The form the payload meant (by ARN, or by group and version) is checked on its own, so each problem is named. */
function parseRequest(payload: unknown): ExportModelCardRequest {
  const parsed = ExportModelCardRequestSchema.safeParse(payload);
  if (!parsed.success) throw new ValidationError('exportModelCard request', versionRefProblems(payload, [ByArnRequest, ByNameRequest]));
  return parsed.data;
}

/**
 * Operator: the model card of one version, built from its lineage document (one read of two
 * rounds): facts, intended use, lineage, the metrics against the policy at decision time, the
 * decision with its reviewers and comments, and its audit entries' log indexes. With `pushToSageMaker`,
 * the card is written to SageMaker Model Cards; its status follows `sageMakerCardStatus`.
 */
export async function exportModelCard(deps: Pick<Deps, 'store' | 'clock' | 'modelCards'>, payload: unknown): Promise<ExportedModelCard> {
  const { pushToSageMaker = false, format = 'both', ...ref } = parseRequest(payload);
  // An unknown version is NotFound (from getLineage).
  const lineage = await lineageDocument(deps, ref, 'exportModelCard request');
  const card = buildModelCard(lineage, { generatedAt: new Date(deps.clock.now()).toISOString() });
  let pushed: ExportedModelCard['pushed'];
  if (pushToSageMaker) {
    const name = modelCardName(card.model.group, card.model.version);
    const status = sageMakerCardStatus(card);
    const content = JSON.stringify(toSageMakerContent(card));
    try {
      pushed = { name, status, outcome: await deps.modelCards.upsert({ name, content, status }) };
    } catch (e) {
      throw new SideEffectFailed(`SageMaker model card ${name}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    }
  }
  return {
    ...(format !== 'markdown' ? { card } : {}),
    ...(format !== 'json' ? { markdown: renderModelCardMarkdown(card) } : {}),
    ...(pushed ? { pushed } : {}),
  };
}
