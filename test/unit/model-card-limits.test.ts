/**
 * Issue 8, defect 14: model card content that SageMaker would refuse. The limits are the published
 * ones (CloudFormation's AWS::SageMaker::ModelCard property types, API_UpdateModelCard); the zod
 * mirror must refuse what SageMaker refuses, and toSageMakerContent must never produce it.
 */
import fc from 'fast-check';
import {
  MODEL_CARD_LIMITS,
  SHORTENED_NOTE_KEY,
  SageMakerCardContentSchema,
  buildModelCard,
  cut,
  toSageMakerContent,
  type SageMakerCardContent,
} from '../../shared/domain/model-card.js';
import type { LineageDocument } from '../../shared/usecases/lineage.js';
import { GENERATED_AT, approvedLineage } from '../support/model-card-lineage.js';

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const contentOf = (l: LineageDocument) => toSageMakerContent(buildModelCard(l, { generatedAt: GENERATED_AT }));
const withHyperparameters = (hyperparameters: Record<string, string>): LineageDocument => {
  const l = approvedLineage();
  if (l.trainingJob) l.trainingJob.hyperparameters = hyperparameters;
  return l;
};
const hyperParametersOf = (c: SageMakerCardContent) => c.training_details?.training_job_details.hyper_parameters ?? [];
const noteOf = (c: SageMakerCardContent) => c.additional_information.custom_details[SHORTENED_NOTE_KEY];
const name = (i: number) => `hp_${String(i).padStart(3, '0')}`;

describe('hyperparameters that SageMaker would refuse', () => {
  it('100 long hyperparameters (132,325 characters before) fit within 100,000 characters, cut to 255 and named in the card', () => {
    const l = withHyperparameters(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [name(i), `v${i}-${'x'.repeat(1200)}`])));

    const content = contentOf(l);

    expect(JSON.stringify(content).length).toBeLessThanOrEqual(MODEL_CARD_LIMITS.content);
    expect(SageMakerCardContentSchema.safeParse(content).success).toBe(true);
    const hps = hyperParametersOf(content);
    expect(hps).toHaveLength(100);
    for (const hp of hps) {
      expect(hp.value.length).toBeGreaterThanOrEqual(1);
      expect(hp.value.length).toBeLessThanOrEqual(255);
      expect(hp.value.endsWith('…')).toBe(true);
    }
    const note = noteOf(content) ?? '';
    expect(note).toContain('cut to 255 characters: hp_000, hp_001');
    expect(note).toContain('hp_099');
    expect(note.length).toBeLessThanOrEqual(1024);
  });

  it('an empty value (legal in a training job) is left out, and the card says which', () => {
    const content = contentOf(withHyperparameters({ eta: '0.2', empty_one: '', max_depth: '6' }));

    expect(hyperParametersOf(content)).toEqual([
      { name: 'eta', value: '0.2' },
      { name: 'max_depth', value: '6' },
    ]);
    expect(noteOf(content)).toContain('left out (empty name or value, which the model card schema does not allow): empty_one');
    expect(SageMakerCardContentSchema.safeParse(content).success).toBe(true);
  });

  it('a multi-line value becomes one line (the schema pattern is .{1,255}), and is named as shortened', () => {
    const content = contentOf(withHyperparameters({ script: 'line one\nline two\r\nline three' }));
    expect(hyperParametersOf(content)).toEqual([{ name: 'script', value: 'line one line two  line three' }]);
    expect(noteOf(content)).toContain('cut to 255 characters: script');
  });

  it('nothing shortened: no note', () => {
    expect(noteOf(contentOf(approvedLineage()))).toBeUndefined();
  });

  it('when the whole card would still pass 100,000 characters, hyperparameters are left out from the end and named', () => {
    const l = withHyperparameters(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${name(i)}_${'n'.repeat(240)}`, 'v'.repeat(255)])));
    // 200 policy rules with long metric names: about 60,000 characters of evaluation results.
    const rules = Array.from({ length: 200 }, (_, i) => ({
      rule: { metric: `m${String(i).padStart(3, '0')}-${'r'.repeat(250)}`, source: 'trainingJob' as const, comparison: '>=' as const, threshold: 0.5 },
      actual: 0.9,
      passed: true,
    }));
    if (l.gate) l.gate.results = rules;

    const content = contentOf(l);

    expect(JSON.stringify(content).length).toBeLessThanOrEqual(MODEL_CARD_LIMITS.content);
    expect(SageMakerCardContentSchema.safeParse(content).success).toBe(true);
    const kept = hyperParametersOf(content);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(100);
    // The last ones went, in order, and the note names the first of them.
    expect(kept.map((h) => h.name)).toEqual(Array.from({ length: kept.length }, (_, i) => `${name(i)}_${'n'.repeat(240)}`));
    expect(noteOf(content)).toContain(`left out to keep the card within 100000 characters: ${name(99)}_`);
    // Every rule result is still there.
    expect(content.evaluation_details?.[0]?.metric_groups[0]?.metric_data).toHaveLength(200);
  });
});

describe('text is cut between characters, never inside one', () => {
  it('an emoji at the cut is kept whole or left out, never halved', () => {
    const l = approvedLineage();
    l.modelPackage.description = `${'a'.repeat(1022)}😀😀`;
    const description = contentOf(l).model_overview.model_description ?? '';
    expect(description).not.toMatch(LONE_SURROGATE);
    expect(description.length).toBeLessThanOrEqual(1024);
    expect(description).toBe(`${'a'.repeat(1022)}…`);
  });

  it('property: cut never yields a lone surrogate, never passes max, and keeps a prefix of the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom('😀', '𝄞', 'a', 'é'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 400 }), fc.integer({ min: 2, max: 300 }), (s, max) => {
        const out = cut(s, max);
        expect(out).not.toMatch(LONE_SURROGATE);
        expect(out.length).toBeLessThanOrEqual(max);
        if (s.length <= max) expect(out).toBe(s);
        else {
          expect(out.endsWith('…')).toBe(true);
          expect(s.startsWith(out.slice(0, -1))).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: every text field of the content is well formed, whatever the model package says', () => {
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('😀', 'a', '\n'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 3000 });
    fc.assert(
      fc.property(text, text, text, fc.dictionary(text, text, { maxKeys: 5 }), (description, intendedUse, metric, hps) => {
        const l = withHyperparameters(hps);
        l.modelPackage.description = description;
        l.modelPackage.customerMetadata = { intended_use: intendedUse || 'x' };
        if (l.trainingJob) l.trainingJob.metrics = { [metric || 'm']: 1 };
        const content = contentOf(l);
        expect(JSON.stringify(content)).not.toMatch(LONE_SURROGATE);
        expect(SageMakerCardContentSchema.safeParse(content).success).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the zod mirror refuses what SageMaker refuses', () => {
  const base = () => contentOf(approvedLineage()) as unknown as Record<string, Record<string, unknown>>;
  const withEvaluation = (evaluationName: string, groupName: string) => {
    const c = base();
    c['evaluation_details'] = [{ name: evaluationName, metric_groups: [{ name: groupName, metric_data: [{ name: 'auc', type: 'number', value: 0.9 }] }] }] as never;
    return c;
  };
  const withHyperparameter = (hp: { name: string; value: string }) => {
    const c = base();
    (c['training_details'] as { training_job_details: Record<string, unknown> }).training_job_details['hyper_parameters'] = [hp];
    return c;
  };

  it.each<[string, () => unknown]>([
    ['an evaluation name of 64 characters (the schema allows .{1,63})', () => withEvaluation('e'.repeat(64), 'group')],
    ['a metric group name of 64 characters (.{1,63})', () => withEvaluation('evaluation', 'g'.repeat(64))],
    ['an evaluation name on two lines', () => withEvaluation('a\nb', 'group')],
    ['an empty hyperparameter value (.{1,255})', () => withHyperparameter({ name: 'eta', value: '' })],
    ['a hyperparameter value of 256 characters', () => withHyperparameter({ name: 'eta', value: 'v'.repeat(256) })],
    ['a hyperparameter value on two lines', () => withHyperparameter({ name: 'eta', value: 'a\nb' })],
    ['a hyperparameter name of 256 characters', () => withHyperparameter({ name: 'n'.repeat(256), value: '1' })],
    ['a custom detail of 1025 characters', () => ({ ...base(), additional_information: { custom_details: { a: 'x'.repeat(1025) } } })],
    ['a custom detail key that is not [a-zA-Z_][a-zA-Z0-9_]*', () => ({ ...base(), additional_information: { custom_details: { '1a': 'x' } } })],
    ['content over 100,000 characters', () => ({ ...base(), additional_information: { custom_details: Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`k${i}`, 'x'.repeat(1000)])) } })],
  ])('refuses %s', (_what, make) => {
    expect(SageMakerCardContentSchema.safeParse(make()).success).toBe(false);
  });

  it('accepts the limits themselves: 63-character names, a 255-character value, 255 emoji', () => {
    expect(SageMakerCardContentSchema.safeParse(withEvaluation('e'.repeat(63), 'g'.repeat(63))).success).toBe(true);
    expect(SageMakerCardContentSchema.safeParse(withHyperparameter({ name: 'eta', value: 'v'.repeat(255) })).success).toBe(true);
    expect(SageMakerCardContentSchema.safeParse(withHyperparameter({ name: 'eta', value: '😀'.repeat(255) })).success).toBe(true);
  });
});
