import * as z from '../schemas/zod.js';
import type { LineageDocument } from '../usecases/lineage.js';

/**
 * A model card: one version's facts, lineage, metrics against its policy at decision time, the
 * decision with its reviewers and their comments, and where its audit entries sit in the log. Pure:
 * `buildModelCard` turns a lineage document into the card, `renderModelCardMarkdown` into a readable
 * document, `toSageMakerContent` into the SageMaker model card JSON schema (for CreateModelCard).
 */

const Iso = /* @__PURE__ */ z.schema(() => z.iso.datetime({ offset: true }));
const StringMap = /* @__PURE__ */ z.schema(() => z.record(z.string(), z.string()));
const Positive = /* @__PURE__ */ z.schema(() => z.int().check(z.gte(1)));
const Count = /* @__PURE__ */ z.schema(() => z.int().check(z.gte(0)));

export const ModelCardSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  schema: z.literal('modelgate.model-card/1'),
  generatedAt: Iso,
  model: z.strictObject({
    group: z.string().check(z.minLength(1)),
    version: Positive,
    arn: z.string().check(z.minLength(1)),
    description: z.optional(z.string()),
    status: z.enum(['PendingManualApproval', 'Approved', 'Rejected']),
    createdAt: Iso,
    registeredBy: z.optional(z.string()),
    trainedBy: z.optional(z.string()),
    artifactUri: z.optional(z.string()),
    customerMetadata: StringMap,
  }),
  /** From customer metadata `intended_use`; `not stated` otherwise. */
  intendedUse: z.string().check(z.minLength(1)),
  lineage: z.strictObject({
    trainingJob: z.optional(
      z.strictObject({
        name: z.string(),
        arn: z.string(),
        status: z.string(),
        createdAt: z.optional(Iso),
        endedAt: z.optional(Iso),
        image: z.optional(z.string()),
        metrics: z.record(z.string(), z.number()),
      }),
    ),
    datasets: z.array(z.strictObject({ channel: z.string(), uri: z.string() })),
    image: z.optional(z.strictObject({ uri: z.string(), digest: z.optional(z.string()) })),
    hyperparameters: StringMap,
    pipelineExecution: z.optional(z.string()),
    evaluationReport: z.optional(z.strictObject({ uri: z.string(), digest: z.optional(z.string()) })),
  }),
  /** The gate's results as recorded on the version: the policy at decision time, not today's. */
  evaluation: z.optional(
    z.strictObject({
      policyVersion: Positive,
      evaluatedAt: Iso,
      passed: z.boolean(),
      results: z.array(
        z.strictObject({
          source: z.string(),
          metric: z.string(),
          comparison: z.string(),
          threshold: z.number(),
          actual: z.nullable(z.number()),
          passed: z.boolean(),
          problem: z.optional(z.string()),
        }),
      ),
    }),
  ),
  decision: z.optional(
    z.strictObject({
      id: z.string(),
      outcome: z.enum(['Approved', 'Rejected']),
      at: Iso,
      approvers: z.array(z.string()),
      rejectedBy: z.optional(z.string()),
      policyVersion: Positive,
    }),
  ),
  reviews: z.array(
    z.strictObject({
      id: z.string(),
      status: z.enum(['Open', 'Approved', 'Rejected', 'Expired']),
      openedAt: Iso,
      expiresAt: Iso,
      closedAt: z.optional(Iso),
      policyVersion: Positive,
      requiredApprovals: Positive,
      reviewers: z.array(z.string()),
      votes: z.array(
        z.strictObject({ reviewer: z.string(), decision: z.enum(['approve', 'reject']), comment: z.optional(z.string()), at: Iso }),
      ),
    }),
  ),
  audit: z.strictObject({
    /** How many audit entries are about this version. */
    versionEntries: Count,
    /** Their positions in the Merkle log (the sequenced ones), for inclusion proofs. */
    logIndexes: z.array(Count),
  }),
}));
export type ModelCard = z.infer<typeof ModelCardSchema>;

export const INTENDED_USE_KEY = 'intended_use';
export const NOT_STATED = 'not stated';

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined || value === '' ? {} : { [key]: value }) as { [P in K]?: V };
const sortedMap = <V>(m: Record<string, V>): Record<string, V> =>
  Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export function buildModelCard(lineage: LineageDocument, opts: { generatedAt: string }): ModelCard {
  const v = lineage.modelPackage;
  const job = lineage.trainingJob;
  const intended = v.customerMetadata[INTENDED_USE_KEY]?.trim();
  return {
    schema: 'modelgate.model-card/1',
    generatedAt: opts.generatedAt,
    model: {
      group: v.group,
      version: v.version,
      arn: v.arn,
      ...opt('description', v.description),
      status: v.status,
      createdAt: new Date(v.createdAt).toISOString(),
      ...opt('registeredBy', v.registeredBy),
      ...opt('trainedBy', v.trainedBy ?? job?.trainedBy),
      ...opt('artifactUri', v.artifactUri),
      customerMetadata: sortedMap(v.customerMetadata),
    },
    intendedUse: intended ? intended : NOT_STATED,
    lineage: {
      ...(job
        ? {
            trainingJob: {
              name: job.name,
              arn: job.arn,
              status: job.status,
              ...opt('createdAt', iso(job.createdAt)),
              ...opt('endedAt', iso(job.endedAt)),
              ...opt('image', job.image),
              metrics: sortedMap(job.metrics),
            },
          }
        : {}),
      datasets: lineage.datasets.map((d) => ({ channel: d.channel, uri: d.uri })),
      ...(lineage.image ? { image: { uri: lineage.image.uri, ...opt('digest', lineage.image.digest) } } : {}),
      hyperparameters: sortedMap(job?.hyperparameters ?? {}),
      ...opt('pipelineExecution', v.pipelineExecution),
      ...(v.report ? { evaluationReport: { uri: v.report.uri, ...opt('digest', v.report.digest) } } : {}),
    },
    ...(lineage.gate
      ? {
          evaluation: {
            policyVersion: lineage.gate.policyVersion,
            evaluatedAt: lineage.gate.evaluatedAt,
            passed: lineage.gate.passed,
            results: lineage.gate.results.map((r) => ({
              source: r.rule.source,
              metric: r.rule.metric,
              comparison: r.rule.comparison,
              threshold: r.rule.threshold,
              actual: r.actual ?? null,
              passed: r.passed,
              ...opt('problem', r.problem),
            })),
          },
        }
      : {}),
    ...(lineage.decision
      ? {
          decision: {
            id: lineage.decision.id,
            outcome: lineage.decision.outcome,
            at: lineage.decision.at,
            approvers: [...lineage.decision.approvers],
            ...opt('rejectedBy', lineage.decision.rejectedBy),
            policyVersion: lineage.decision.policyVersion,
          },
        }
      : {}),
    reviews: [...lineage.reviews]
      .sort((a, b) => (a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : 0))
      .map((r) => ({
        id: r.id,
        status: r.status,
        openedAt: r.openedAt,
        expiresAt: r.expiresAt,
        ...opt('closedAt', r.closedAt),
        policyVersion: r.policyVersion,
        requiredApprovals: r.requiredApprovals,
        reviewers: [...r.reviewers],
        votes: Object.entries(r.votes)
          .map(([reviewer, vote]) => ({ reviewer, decision: vote.decision, ...opt('comment', vote.comment), at: vote.at }))
          .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.reviewer < b.reviewer ? -1 : 1)),
      })),
    audit: {
      versionEntries: lineage.audit.entries.length,
      // Where each entry sits in the Merkle log (getAuditTrail with proofs: true proves it against a signed checkpoint).
      logIndexes: lineage.audit.entries.flatMap((e) => (e.logIndex === undefined ? [] : [e.logIndex])),
    },
  };
}

/** A rule as one line: `trainingJob:validation:auc >= 0.85`. */
const ruleName = (r: { source: string; metric: string }) => `${r.source}:${r.metric}`;

/** Each vote's comment, by reviewer: what the reviewers wrote when they decided. */
function comments(card: ModelCard): Array<{ reviewer: string; decision: string; comment: string }> {
  return card.reviews.flatMap((r) => r.votes.flatMap((v) => (v.comment ? [{ reviewer: v.reviewer, decision: v.decision, comment: v.comment }] : [])));
}

// ---------------------------------------------------------------------------------------------
// SageMaker model card content

/**
 * SageMaker's model card statuses for a version:
 * - `Approved`: modelgate recorded an Approved decision for the version;
 * - `PendingReview`: the version passed its gate and a review is open;
 * - `Draft`: everything else (rejected by a reviewer or by its gate, review expired, awaiting its
 *   training job). Never `Archived`: SageMaker does not let an archived card be changed again.
 */
export type ModelCardStatus = 'Draft' | 'PendingReview' | 'Approved';

export function sageMakerCardStatus(card: Pick<ModelCard, 'decision' | 'reviews'>): ModelCardStatus {
  if (card.decision?.outcome === 'Approved') return 'Approved';
  if (!card.decision && card.reviews.some((r) => r.status === 'Open')) return 'PendingReview';
  return 'Draft';
}

/** `<group>-v<version>`, lowercase, within SageMaker's 63 characters (a long group name keeps a hash of itself). */
export function modelCardName(group: string, version: number): string {
  const suffix = `-v${version}`;
  const g = group.toLowerCase();
  const name = `${g}${suffix}`;
  if (name.length <= 63) return name;
  const hash = fnv1a(g);
  return `${g.slice(0, 63 - suffix.length - hash.length - 1)}-${hash}${suffix}`;
}

const fnv1a = (s: string): string => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
};

export const MODEL_CARD_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/**
 * Limits of SageMaker's model card JSON schema, as the CloudFormation template reference publishes
 * them for AWS::SageMaker::ModelCard (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-modelcard.html
 * and its property types ModelOverview, InferenceEnvironment, IntendedUses, TrainingJobDetails,
 * TrainingEnvironment, TrainingMetric, TrainingHyperParameter, EvaluationDetail, MetricGroup,
 * SimpleMetric/MetricDataItems, AdditionalInformation), the SageMaker Python SDK's
 * `model_card/schema_constraints.py` (training metrics at most 50) and the API reference
 * (API_UpdateModelCard.html: `Content` at most 100,000 characters).
 *
 * A limit written as a pattern `.{1,n}` counts characters (code points) and, as a Java pattern,
 * matches no line terminator; `Pattern(n)` mirrors exactly that. A limit written as "Maximum n" is
 * mirrored with zod's `z.maxLength(n)`, which counts UTF-16 units: never fewer than the code points, so the
 * mirror refuses at least what SageMaker refuses.
 */
export const MODEL_CARD_LIMITS = {
  content: 100_000,
  description: 1024,
  uri: 1024,
  uris: 15,
  intendedUses: 2048,
  trainingArn: 1024,
  trainingMetrics: 50,
  /** No maximum is published for hyper_parameters; SageMaker's own HyperParameters hold at most 100. */
  hyperParameters: 100,
  hyperParameterText: 255,
  metricName: 255,
  notes: 1024,
  evaluationName: 63,
  metricGroupName: 63,
  customDetail: 1024,
} as const;

const Text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
/** Java's `.{1,n}`: 1 to n code points, none of them a line terminator. */
const Pattern = (max: number) => z.string().check(z.regex(new RegExp(`^[^\\n\\r\\u0085\\u2028\\u2029]{1,${max}}$`, 'u'), `must be 1–${max} characters on one line`));
const CUSTOM_KEY = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const L = MODEL_CARD_LIMITS;
const Uris = /* @__PURE__ */ z.schema(() => z.array(Text(L.uri)).check(z.maxLength(L.uris)));

/** The parts of SageMaker's model card JSON schema that modelgate fills, with their published limits. */
export const SageMakerCardContentSchema = /* @__PURE__ */ z.schema(() => z
  .strictObject({
    model_overview: z.strictObject({
      model_description: z.optional(Text(L.description)),
      model_version: z.int().check(z.gte(1)),
      model_artifact: z.optional(Uris),
      inference_environment: z.optional(z.strictObject({ container_image: Uris })),
    }),
    intended_uses: z.optional(z.strictObject({ intended_uses: Text(L.intendedUses) })),
    training_details: z.optional(
      z.strictObject({
        training_job_details: z.strictObject({
          training_arn: Text(L.trainingArn),
          training_datasets: z.optional(Uris),
          training_environment: z.optional(z.strictObject({ container_image: Uris })),
          training_metrics: z.optional(
            z.array(z.strictObject({ name: Pattern(L.metricName), value: z.number() })).check(z.maxLength(L.trainingMetrics)),
          ),
          hyper_parameters: z.optional(
            z
              .array(z.strictObject({ name: Pattern(L.hyperParameterText), value: Pattern(L.hyperParameterText) }))
              .check(z.maxLength(L.hyperParameters)),
          ),
        }),
      }),
    ),
    evaluation_details: z.optional(
      z.array(
        z.strictObject({
          name: Pattern(L.evaluationName),
          metric_groups: z.array(
            z.strictObject({
              name: Pattern(L.metricGroupName),
              metric_data: z.array(
                z.strictObject({ name: Pattern(L.metricName), type: z.literal('number'), value: z.number(), notes: z.optional(Text(L.notes)) }),
              ),
            }),
          ),
        }),
      ),
    ),
    additional_information: z.strictObject({
      custom_details: z.record(z.string().check(z.regex(CUSTOM_KEY)), z.string().check(z.maxLength(L.customDetail))),
    }),
  })
  .check(
    z.superRefine((content, ctx) => {
      const length = JSON.stringify(content).length;
      if (length > L.content) ctx.addIssue({ code: 'custom', message: `Content is ${length} characters; SageMaker allows at most ${L.content}` });
    }),
  ));
export type SageMakerCardContent = z.infer<typeof SageMakerCardContentSchema>;

/** Lone surrogates (not characters at all) become U+FFFD; paired ones are one code point and stay. */
const wellFormed = (s: string): string => s.replace(/[\uD800-\uDFFF]/gu, '\uFFFD');

/**
 * At most `max` UTF-16 units (so at most `max` characters too), cut between code points, never
 * inside a surrogate pair, with an ellipsis when something was cut.
 */
export function cut(s: string, max: number): string {
  const text = wellFormed(s);
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** For a `.{1,n}` field: line terminators become spaces, then cut to n. */
const oneLine = (s: string, max: number): string => cut(s.replace(/[\n\r\u0085\u2028\u2029]/g, ' '), max);

const imageRef = (image: { uri: string; digest?: string }) => (image.digest ? `${image.uri}@${image.digest}` : image.uri);

/** What did not fit SageMaker's schema as it was, by hyperparameter or metric name, for the card's note. */
interface Shortened {
  cut: string[];
  emptyLeftOut: string[];
  sizeLeftOut: string[];
}

export const SHORTENED_NOTE_KEY = 'modelgate_shortened';

function shortenedNote(s: Shortened): string | undefined {
  const list = (names: string[]) => names.map((n) => oneLine(n, 64)).join(', ');
  const parts = [
    ...(s.cut.length ? [`cut to ${L.hyperParameterText} characters: ${list(s.cut)}`] : []),
    ...(s.emptyLeftOut.length ? [`left out (empty name or value, which the model card schema does not allow): ${list(s.emptyLeftOut)}`] : []),
    ...(s.sizeLeftOut.length ? [`left out to keep the card within ${L.content} characters: ${list(s.sizeLeftOut)}`] : []),
  ];
  if (!parts.length) return undefined;
  const note = `Shortened for SageMaker; the modelgate card (exportModelCard) has every value. ${parts.join('; ')}.`;
  return note.length <= L.customDetail ? note : `${cut(note, L.customDetail - 40)} (${s.cut.length + s.emptyLeftOut.length + s.sizeLeftOut.length} names in all)`;
}

/**
 * The card as SageMaker model card content. Fields SageMaker's schema has a place for go there;
 * the governance record (decision, approvers, comments, policy version, audit entries) goes to
 * `additional_information.custom_details`, whose values are strings of at most 1024 characters.
 * A rule with no actual value (a missing metric) has no `number` to report and is only named in
 * `modelgate_gate_failures`.
 *
 * What SageMaker's schema cannot hold as it is gets shortened, and the card says so under
 * `modelgate_shortened`: a hyperparameter value (or name) over 255 characters is cut; an empty one
 * (legal in a training job) is left out; if the whole content would pass 100,000 characters,
 * hyperparameters, then training metrics, then rule results are left out from the end until it fits.
 */
export function toSageMakerContent(card: ModelCard): SageMakerCardContent {
  const { model, lineage, evaluation, decision } = card;
  const job = lineage.trainingJob;
  const custom: Record<string, string> = {
    modelgate_generated_at: card.generatedAt,
    modelgate_model_package_arn: model.arn,
    modelgate_model_package_group: model.group,
    modelgate_approval_status: model.status,
    modelgate_created_at: model.createdAt,
    ...opt('modelgate_registered_by', model.registeredBy),
    ...opt('modelgate_trained_by', model.trainedBy),
    ...opt('modelgate_pipeline_execution', lineage.pipelineExecution),
    ...opt('modelgate_image_digest', lineage.image?.digest),
    ...opt('modelgate_evaluation_report', lineage.evaluationReport ? imageRef(lineage.evaluationReport) : undefined),
    ...(evaluation
      ? {
          modelgate_policy_version: String(evaluation.policyVersion),
          modelgate_gate: `${evaluation.passed ? 'passed' : 'failed'} at ${evaluation.evaluatedAt}`,
          ...opt(
            'modelgate_gate_failures',
            evaluation.results
              .filter((r) => !r.passed)
              .map((r) => `${ruleName(r)} ${r.comparison} ${r.threshold}: ${r.problem ?? `actual ${r.actual}`}`)
              .join('; '),
          ),
        }
      : {}),
    modelgate_decision: decision
      ? `${decision.outcome} at ${decision.at} (decision ${decision.id}, policy v${decision.policyVersion})`
      : 'none recorded',
    ...(decision ? { modelgate_approvers: decision.approvers.join(', ') || 'none' } : {}),
    ...opt('modelgate_rejected_by', decision?.rejectedBy),
    ...opt(
      'modelgate_review_comments',
      comments(card)
        .map((c) => `${c.reviewer} (${c.decision}): ${c.comment}`)
        .join(' | '),
    ),
    modelgate_audit_entries: String(card.audit.versionEntries),
    modelgate_audit_log_indexes: card.audit.logIndexes.join(', ') || 'not sequenced yet',
  };
  const containers = lineage.image ? [cut(imageRef(lineage.image), L.uri)] : [];
  const scored = evaluation?.results.filter((r) => r.actual !== null) ?? [];

  const shortened: Shortened = { cut: [], emptyLeftOut: [], sizeLeftOut: [] };
  const hyperParameters: Array<{ name: string; value: string }> = [];
  for (const [name, value] of Object.entries(lineage.hyperparameters).slice(0, L.hyperParameters)) {
    if (name === '' || value === '') {
      shortened.emptyLeftOut.push(name === '' ? '(empty name)' : name);
      continue;
    }
    const entry = { name: oneLine(name, L.hyperParameterText), value: oneLine(value, L.hyperParameterText) };
    if (entry.name !== name || entry.value !== value) shortened.cut.push(name);
    hyperParameters.push(entry);
  }
  const trainingMetrics = job ? Object.entries(job.metrics).slice(0, L.trainingMetrics).map(([name, value]) => ({ name: oneLine(name, L.metricName), value })) : [];
  const metricData = scored.map((r) => ({
    name: oneLine(ruleName(r), L.metricName),
    type: 'number' as const,
    value: r.actual ?? 0,
    notes: cut(`${r.comparison} ${r.threshold}: ${r.passed ? 'pass' : 'FAIL'}`, L.notes),
  }));

  const build = (): SageMakerCardContent => {
    const note = shortenedNote(shortened);
    return {
      model_overview: {
        ...opt('model_description', model.description ? cut(model.description, L.description) : undefined),
        model_version: model.version,
        ...(model.artifactUri ? { model_artifact: [cut(model.artifactUri, L.uri)] } : {}),
        ...(containers.length ? { inference_environment: { container_image: containers } } : {}),
      },
      ...(card.intendedUse !== NOT_STATED ? { intended_uses: { intended_uses: cut(card.intendedUse, L.intendedUses) } } : {}),
      ...(job
        ? {
            training_details: {
              training_job_details: {
                training_arn: cut(job.arn, L.trainingArn),
                ...(lineage.datasets.length ? { training_datasets: lineage.datasets.slice(0, L.uris).map((d) => cut(d.uri, L.uri)) } : {}),
                ...(job.image ? { training_environment: { container_image: [cut(job.image, L.uri)] } } : {}),
                ...(trainingMetrics.length ? { training_metrics: trainingMetrics } : {}),
                ...(hyperParameters.length ? { hyper_parameters: hyperParameters } : {}),
              },
            },
          }
        : {}),
      ...(evaluation && metricData.length
        ? {
            evaluation_details: [
              {
                name: `modelgate policy v${evaluation.policyVersion}`,
                metric_groups: [{ name: 'policy rules at decision time', metric_data: metricData }],
              },
            ],
          }
        : {}),
      additional_information: {
        custom_details: Object.fromEntries(
          Object.entries({ ...custom, ...(note ? { [SHORTENED_NOTE_KEY]: note } : {}) }).map(([k, val]) => [k, cut(val, L.customDetail)]),
        ),
      },
    };
  };

  // Leave entries out from the end, hyperparameters first, until the whole content fits.
  let content = build();
  const reducible: Array<{ list: Array<{ name: string }>; names: string[] }> = [
    { list: hyperParameters, names: shortened.sizeLeftOut },
    { list: trainingMetrics, names: shortened.sizeLeftOut },
    { list: metricData, names: shortened.sizeLeftOut },
  ];
  for (const { list, names } of reducible) {
    while (JSON.stringify(content).length > L.content && list.length > 0) {
      const dropped = list.pop();
      if (dropped) names.push(dropped.name);
      content = build();
    }
  }
  return SageMakerCardContentSchema.parse(content);
}

// ---------------------------------------------------------------------------------------------
// Markdown

/**
 * Escapes a value for Markdown text and table cells: the backslash and every character that can
 * start inline markup (backticks, emphasis, links, strikethrough), the table's pipe, HTML (`&` and `<`
 * as entities), and line breaks (as `<br>`, so a value never starts a line of its own: no heading,
 * list or table row can be injected).
 */
export function escapeMarkdown(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, '<br>');
}

const e = escapeMarkdown;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: string[][]): string[] => [row(head), row(head.map(() => '---')), ...rows.map(row)];

export function renderModelCardMarkdown(card: ModelCard): string {
  const { model, lineage, evaluation, decision } = card;
  const job = lineage.trainingJob;
  const out: string[] = [];
  const section = (title: string, ...lines: string[]) => out.push(`## ${title}`, '', ...lines, '');

  out.push(`# Model card: ${e(model.group)} version ${model.version}`, '', `Generated by modelgate at ${e(card.generatedAt)}.`, '');

  section(
    'Model',
    ...table(
      ['Field', 'Value'],
      [
        ['Model package group', e(model.group)],
        ['Version', String(model.version)],
        ['Model package ARN', e(model.arn)],
        ['Description', model.description ? e(model.description) : '—'],
        ['Approval status', e(model.status)],
        ['Created', e(model.createdAt)],
        ['Registered by', model.registeredBy ? e(model.registeredBy) : 'unknown'],
        ['Trained by', model.trainedBy ? e(model.trainedBy) : 'unknown'],
      ],
    ),
  );

  section('Intended use', e(card.intendedUse));

  section(
    'Lineage',
    ...table(
      ['Field', 'Value'],
      [
        ['Training job', job ? e(job.name) : 'not linked'],
        ...(job ? [['Training job ARN', e(job.arn)], ['Training job status', e(job.status)]] : []),
        ...(job?.endedAt ? [['Training ended', e(job.endedAt)]] : []),
        ['Image', lineage.image ? e(lineage.image.uri) : '—'],
        ['Image digest', lineage.image?.digest ? e(lineage.image.digest) : '—'],
        ['Model artifact', model.artifactUri ? e(model.artifactUri) : '—'],
        ['Pipeline execution', lineage.pipelineExecution ? e(lineage.pipelineExecution) : '—'],
        ['Evaluation report', lineage.evaluationReport ? e(imageRef(lineage.evaluationReport)) : '—'],
      ],
    ),
    '',
    '### Datasets',
    '',
    ...(lineage.datasets.length ? table(['Channel', 'URI'], lineage.datasets.map((d) => [e(d.channel), e(d.uri)])) : ['None recorded.']),
    '',
    '### Hyperparameters',
    '',
    ...(Object.keys(lineage.hyperparameters).length
      ? table(['Name', 'Value'], Object.entries(lineage.hyperparameters).map(([k, v]) => [e(k), e(v)]))
      : ['None recorded.']),
  );

  if (Object.keys(model.customerMetadata).length) {
    section('Customer metadata', ...table(['Key', 'Value'], Object.entries(model.customerMetadata).map(([k, v]) => [e(k), e(v)])));
  }

  if (evaluation) {
    section(
      `Metrics against policy version ${evaluation.policyVersion}`,
      `The gate ${evaluation.passed ? 'passed' : 'failed'} at ${e(evaluation.evaluatedAt)}, under policy version ${evaluation.policyVersion}: the policy at decision time.`,
      '',
      ...table(
        ['Rule', 'Threshold', 'Actual', 'Result'],
        evaluation.results.map((r) => [
          e(ruleName(r)),
          `${r.comparison} ${r.threshold}`,
          r.actual === null ? e(r.problem ?? 'n/a') : String(r.actual),
          r.passed ? 'pass' : 'FAIL',
        ]),
      ),
    );
  } else {
    section('Metrics against policy', 'The version has not been evaluated against a policy.');
  }

  const decisionLines = decision
    ? [
        `**${decision.outcome}** at ${e(decision.at)} under policy version ${decision.policyVersion} (decision ${e(decision.id)}).`,
        '',
        `- Approvers: ${decision.approvers.length ? decision.approvers.map(e).join(', ') : 'none'}`,
        ...(decision.rejectedBy ? [`- Rejected by: ${e(decision.rejectedBy)}`] : []),
      ]
    : ['No decision has been recorded.'];
  const reviewLines = card.reviews.flatMap((r) => [
    '',
    `### Review ${e(r.id)}: ${r.status}`,
    '',
    `Opened ${e(r.openedAt)}, ${r.closedAt ? `closed ${e(r.closedAt)}` : `expires ${e(r.expiresAt)}`}; policy version ${r.policyVersion}, ${r.requiredApprovals} approval${r.requiredApprovals === 1 ? '' : 's'} required. Reviewers: ${r.reviewers.map(e).join(', ')}.`,
    '',
    ...(r.votes.length
      ? table(['Reviewer', 'Vote', 'Comment', 'At'], r.votes.map((v) => [e(v.reviewer), v.decision, v.comment ? e(v.comment) : '—', e(v.at)]))
      : ['No votes yet.']),
  ]);
  section('Decision', ...decisionLines, ...reviewLines);

  section(
    'Audit',
    ...table(
      ['Field', 'Value'],
      [
        ['Entries about this version', String(card.audit.versionEntries)],
        ['Their log indexes', card.audit.logIndexes.join(', ') || 'not sequenced yet'],
      ],
    ),
  );

  return `${out.join('\n').trimEnd()}\n`;
}
