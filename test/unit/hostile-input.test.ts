/**
 * Issue 8, defect 8: input that SageMaker may legally send (or that is simply broken) gets a
 * ValidationError naming the field, never another error; legal map keys survive the parse.
 * Everything here goes through the handlers' own parse path: middy with `typedErrors` and the
 * Powertools parser, exactly as functions/on*StateChange/handler.ts wire it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import middy from '@middy/core';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import fc from 'fast-check';
import type * as z from '../../shared/schemas/zod.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { trainingJobFromDetail } from '../../shared/domain/lineage.js';
import { MAX_TIME_MS, TimestampSchema, iso, parseTimestamp } from '../../shared/domain/time.js';
import { logger } from '../../shared/logger.js';
import { typedErrors } from '../../shared/middleware.js';
import { ModelPackageStateChangeSchema, TrainingJobStateChangeSchema } from '../../shared/schemas/events.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- events are broken on purpose
type Json = any;

const EVENTS = join(process.cwd(), 'events');
const sample = (file: string): Json => JSON.parse(readFileSync(join(EVENTS, file), 'utf8'));

/** The handlers' parse path, with the use case replaced by the identity. */
const parsePath = <S extends z.core.$ZodType>(schema: S, subject: string) =>
  middy()
    .use(typedErrors(subject))
    .use(parser({ schema }))
    .handler(async (event: unknown) => event as z.output<S>);
const trainingParse = parsePath(TrainingJobStateChangeSchema, 'training job state change event');
const packageParse = parsePath(ModelPackageStateChangeSchema, 'model package state change event');
const context = {} as never;

type Outcome<T> = { ok: T } | { error: unknown };
const attempt = async <T>(f: () => Promise<T>): Promise<Outcome<T>> => {
  try {
    return { ok: await f() };
  } catch (error) {
    return { error };
  }
};

/** A ValidationError whose every problem names a field: `detail.X.y: …` (or `(root): …` for a non-object). */
function expectFieldsNamed(error: unknown): asserts error is ValidationError {
  expect(error).toBeInstanceOf(ValidationError);
  const problems = (error as ValidationError).problems;
  expect(problems.length).toBeGreaterThan(0);
  // A path starts with a field name; a map key in it may itself hold ':' (`detail.Tags.sagemaker:x: …`).
  for (const p of problems) expect(p).toMatch(/^(\(root\)|[A-Za-z0-9_$-][^\n]*?): \S/);
}

const problemsOf = async (parse: (e: never, c: never) => Promise<unknown>, event: Json): Promise<string[]> => {
  const out = await attempt(() => parse(event as never, context));
  if (!('error' in out)) throw new Error('expected the event to be refused');
  expectFieldsNamed(out.error);
  return [...out.error.problems];
};

beforeAll(() => logger.setLogLevel('SILENT'));
afterAll(() => logger.setLogLevel('INFO'));

/** Object.prototype as it was before any test: a polluted prototype would show here. */
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype);
const HOSTILE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'prototype'];
/** An object with exactly these own keys, as JSON.parse makes them (own `__proto__` included). */
const hostileMap = (prefix: string): Json => JSON.parse(JSON.stringify(Object.fromEntries(HOSTILE_KEYS.map((k) => [k, `${prefix}-${k}`]))));

describe('map keys that are legal in SageMaker', () => {
  it('Tags and HyperParameters keep __proto__, constructor, toString, hasOwnProperty as own entries', async () => {
    const event = sample('training-job-completed.json');
    event.detail.Tags = hostileMap('tag');
    event.detail.HyperParameters = hostileMap('hp');

    const parsed = await trainingParse(event, context);

    for (const map of [parsed.detail.Tags ?? {}, parsed.detail.HyperParameters ?? {}]) {
      expect(Object.keys(map).sort()).toEqual([...HOSTILE_KEYS].sort());
      expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
      for (const k of HOSTILE_KEYS) expect(Object.getOwnPropertyDescriptor(map, k)?.value).toMatch(/^(tag|hp)-/);
    }
    expect(parsed.detail.Tags?.['__proto__']).toBe('tag-__proto__');
    // The domain object keeps them too.
    const job = trainingJobFromDetail(parsed.detail, {});
    expect(Object.getOwnPropertyDescriptor(job.hyperparameters, '__proto__')?.value).toBe('hp-__proto__');
    expect(job.tags['constructor']).toBe('tag-constructor');
    // And no prototype anywhere was touched.
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(PROTOTYPE_KEYS);
    expect(typeof ({} as { hasOwnProperty: unknown }).hasOwnProperty).toBe('function');
  });

  it('CustomerMetadataProperties keeps them too', async () => {
    const event = sample('model-package-pending.json');
    event.detail.CustomerMetadataProperties = { ...hostileMap('cmp'), ...event.detail.CustomerMetadataProperties };

    const parsed = await packageParse(event, context);

    const cmp = parsed.detail.CustomerMetadataProperties ?? {};
    for (const k of HOSTILE_KEYS) expect(Object.getOwnPropertyDescriptor(cmp, k)?.value).toBe(`cmp-${k}`);
    expect(cmp['intended_use']).toBe(event.detail.CustomerMetadataProperties.intended_use);
  });

  it('a map value that is not a string is named by its key', async () => {
    const event = sample('training-job-completed.json');
    event.detail.HyperParameters = JSON.parse('{"__proto__": {"polluted": true}, "eta": 0.2}');
    const problems = await problemsOf(trainingParse, event);
    expect(problems).toEqual(
      expect.arrayContaining([
        'detail.HyperParameters.__proto__: expected a string, received object',
        'detail.HyperParameters.eta: expected a string, received number',
      ]),
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(PROTOTYPE_KEYS);
  });
});

describe('timestamps outside the range a Date can hold', () => {
  it.each<[string, string | number]>([
    ['an epoch string of 30 digits', '1' + '0'.repeat(29)],
    ['epoch milliseconds above 8.64e15', MAX_TIME_MS + 1],
    ['epoch milliseconds below -8.64e15', -MAX_TIME_MS - 1],
    ['a huge float', 1e300],
    ['an ISO date past year 275760', '275761-01-01T00:00:00Z'],
  ])('%s is refused, naming the field', async (_what, value) => {
    expect(parseTimestamp(value)).toBeUndefined();
    const event = sample('training-job-completed.json');
    event.detail.LastModifiedTime = value;
    const problems = await problemsOf(trainingParse, event);
    expect(problems).toEqual([expect.stringMatching(/^detail\.LastModifiedTime: not a timestamp: /)]);
  });

  it('the edges of the range are accepted and print', () => {
    for (const ms of [MAX_TIME_MS, 1e11, 0]) {
      expect(parseTimestamp(ms)).toBe(ms);
      expect(() => iso(ms)).not.toThrow();
    }
    expect(parseTimestamp(String(MAX_TIME_MS))).toBe(MAX_TIME_MS);
    // Below 1e11 a number reads as epoch seconds (the SDK's JSON), so the lower edge is -8.64e12 s.
    expect(parseTimestamp(-MAX_TIME_MS / 1000)).toBe(-MAX_TIME_MS);
    expect(parseTimestamp(-MAX_TIME_MS / 1000 - 1)).toBeUndefined();
  });

  it('the message quotes at most 40 characters of the value', () => {
    const r = TimestampSchema.safeParse('9'.repeat(500));
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message.length).toBeLessThan(80);
  });

  it('property: parseTimestamp never returns a value a Date cannot hold', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 40 });
    const value = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(Number),
      digits,
      fc.tuple(digits, digits).map(([a, b]) => `${a}.${b}`),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
    );
    fc.assert(
      fc.property(value, (v) => {
        const ms = parseTimestamp(v);
        if (ms === undefined) return;
        expect(Number.isFinite(ms)).toBe(true);
        expect(Math.abs(ms)).toBeLessThanOrEqual(MAX_TIME_MS);
        expect(() => iso(ms)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});

describe("SageMaker's documented limits", () => {
  const job = () => sample('training-job-completed.json');
  const pkg = () => sample('model-package-pending.json');
  const many = (n: number, value = 'v') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));

  it('two channels of one name: the second is named', async () => {
    const event = job();
    event.detail.InputDataConfig = [event.detail.InputDataConfig[0], event.detail.InputDataConfig[1], { ...event.detail.InputDataConfig[0] }];
    expect(await problemsOf(trainingParse, event)).toEqual(['detail.InputDataConfig.2.ChannelName: duplicates the name of channel 0']);
  });

  it.each<[string, (e: Json) => void, RegExp]>([
    ['101 hyperparameters', (e) => (e.detail.HyperParameters = many(101)), /^detail\.HyperParameters: has 101 entries; SageMaker allows at most 100$/],
    ['a hyperparameter value of 2501 characters', (e) => (e.detail.HyperParameters = { eta: 'x'.repeat(2501) }), /^detail\.HyperParameters\.eta: value is 2501 characters/],
    ['a hyperparameter key of 257 characters', (e) => (e.detail.HyperParameters = { ['k'.repeat(257)]: '1' }), /^detail\.HyperParameters\.k+: key is 257 characters/],
    ['51 user tags', (e) => (e.detail.Tags = many(51)), /^detail\.Tags: has 51 entries; SageMaker allows at most 50$/],
    ['a tag value of 257 characters', (e) => (e.detail.Tags = { team: 'x'.repeat(257) }), /^detail\.Tags\.team: value is 257 characters/],
    ['an empty tag key', (e) => (e.detail.Tags = { '': 'x' }), /^detail\.Tags\.: key is 0 characters; SageMaker allows 1–128$/],
    ['21 channels', (e) => (e.detail.InputDataConfig = Array.from({ length: 21 }, (_, i) => ({ ...e.detail.InputDataConfig[0], ChannelName: `c${i}` }))), /^detail\.InputDataConfig: /],
    ['a channel name of 65 characters', (e) => (e.detail.InputDataConfig[0].ChannelName = 'c'.repeat(65)), /^detail\.InputDataConfig\.0\.ChannelName: /],
    ['a channel name with a slash', (e) => (e.detail.InputDataConfig[0].ChannelName = 'train/x'), /^detail\.InputDataConfig\.0\.ChannelName: must match/],
  ])('a training job with %s is refused, naming the field', async (_what, breakIt, expected) => {
    const event = job();
    breakIt(event);
    const problems = await problemsOf(trainingParse, event);
    expect(problems).toEqual([expect.stringMatching(expected)]);
  });

  it.each<[string, (e: Json) => void, RegExp]>([
    ['51 customer metadata properties', (e) => (e.detail.CustomerMetadataProperties = many(51)), /^detail\.CustomerMetadataProperties: has 51 entries/],
    ['a customer metadata value of 257 characters', (e) => (e.detail.CustomerMetadataProperties = { a: 'x'.repeat(257) }), /^detail\.CustomerMetadataProperties\.a: value is 257/],
    ['a customer metadata key of 129 characters', (e) => (e.detail.CustomerMetadataProperties = { ['k'.repeat(129)]: 'x' }), /^detail\.CustomerMetadataProperties\.k+: key is 129/],
    ['a description of 1025 characters', (e) => (e.detail.ModelPackageDescription = 'd'.repeat(1025)), /^detail\.ModelPackageDescription: is 1025 characters; SageMaker allows at most 1024$/],
  ])('a model package with %s is refused, naming the field', async (_what, breakIt, expected) => {
    const event = pkg();
    breakIt(event);
    expect(await problemsOf(packageParse, event)).toEqual([expect.stringMatching(expected)]);
  });

  it('the limits count characters, not UTF-16 units, and stop exactly at the limit', async () => {
    const event = job();
    event.detail.HyperParameters = { ...many(99), emoji: '😀'.repeat(2500) };
    event.detail.Tags = { ...many(50, 't'), 'sagemaker:user-profile-arn': 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/ds', 'aws:cloudformation:stack-name': 's' };
    const parsed = await trainingParse(event, context);
    expect(parsed.detail.HyperParameters?.['emoji']).toHaveLength(5000);
    // System tags (aws:, sagemaker:) do not count toward the 50.
    expect(Object.keys(parsed.detail.Tags ?? {})).toHaveLength(52);

    const p = pkg();
    p.detail.ModelPackageDescription = '😀'.repeat(1024);
    p.detail.CustomerMetadataProperties = { ...many(49), intended_use: p.detail.CustomerMetadataProperties.intended_use };
    expect((await packageParse(p, context)).detail.ModelPackageDescription).toHaveLength(2048);
  });
});

describe('property: any JSON thrown at the parse path parses or is a ValidationError naming fields', () => {
  const hostileKeyMap = fc.dictionary(fc.constantFrom(...HOSTILE_KEYS, 'a', ''), fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1 }) }, { weight: 1, arbitrary: fc.jsonValue() }), { maxKeys: 6 }).map((m) =>
    // Through JSON so that a `__proto__` key is an own property, as EventBridge's JSON makes it.
    JSON.parse(JSON.stringify(m)),
  );
  /** A map of strings under hostile keys only: what SageMaker may legally send, which must be accepted whole. */
  const hostileStrings = fc.uniqueArray(fc.constantFrom(...HOSTILE_KEYS), { minLength: 1 }).chain((keys) =>
    fc.tuple(...keys.map(() => fc.string({ minLength: 1, maxLength: 20 }))).map((values) => JSON.parse(JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, values[i]]))))),
  );
  const oddValue: fc.Arbitrary<Json> = fc.oneof(
    fc.jsonValue(),
    hostileKeyMap,
    hostileStrings,
    hostileStrings,
    fc.constantFrom('1' + '0'.repeat(29), 8.64e15 + 1, -1e300, 'NaN', '', ' ', '2026-13-45T99:99:99Z', '😀'.repeat(300)),
    fc.string({ unit: 'grapheme', maxLength: 3000 }),
    fc.array(fc.record({ ChannelName: fc.constantFrom('train', 'train', 'x/y', ''), DataSource: fc.jsonValue() }), { maxLength: 25 }),
  );
  /** A sample event with a few of its fields (anywhere in detail, or at the top) replaced. */
  const mutated = (file: string, fields: string[]) =>
    fc.array(fc.tuple(fc.constantFrom(...fields), oddValue), { maxLength: 4 }).map((changes) => {
      const event = sample(file);
      for (const [path, value] of changes) {
        const parts = path.split('.');
        let node: Json = event;
        for (const p of parts.slice(0, -1)) {
          if (node[p] === null || typeof node[p] !== 'object') node[p] = {};
          node = node[p];
        }
        node[parts.at(-1) as string] = value;
      }
      return event;
    });

  const TRAINING_FIELDS = [
    'id', 'source', 'detail-type', 'time', 'detail', 'detail.TrainingJobName', 'detail.TrainingJobArn', 'detail.TrainingJobStatus',
    'detail.HyperParameters', 'detail.Tags', 'detail.InputDataConfig', 'detail.InputDataConfig.0', 'detail.InputDataConfig.0.ChannelName',
    'detail.InputDataConfig.0.DataSource.S3DataSource.S3Uri', 'detail.ModelArtifacts', 'detail.ModelArtifacts.S3ModelArtifacts',
    'detail.CreationTime', 'detail.TrainingEndTime', 'detail.LastModifiedTime', 'detail.FailureReason', 'detail.AlgorithmSpecification',
    'detail.constructor', 'detail.__proto__',
  ];
  const PACKAGE_FIELDS = [
    'id', 'source', 'detail-type', 'detail', 'detail.ModelPackageGroupName', 'detail.ModelPackageVersion', 'detail.ModelPackageArn',
    'detail.ModelApprovalStatus', 'detail.CreationTime', 'detail.LastModifiedTime', 'detail.CustomerMetadataProperties',
    'detail.ModelPackageDescription', 'detail.InferenceSpecification', 'detail.InferenceSpecification.Containers',
    'detail.ModelMetrics.ModelQuality.Statistics', 'detail.MetadataProperties', 'detail.constructor',
  ];

  const seen = { accepted: 0, refused: 0 };
  beforeEach(() => Object.assign(seen, { accepted: 0, refused: 0 }));
  // Both outcomes occur, so both branches of the property were exercised.
  afterEach(() => expect(Math.min(seen.accepted, seen.refused)).toBeGreaterThan(10));

  const check = async <T>(parse: (e: never, c: never) => Promise<T>, event: Json, accepted: (parsed: T) => void) => {
    const out = await attempt(() => parse(event as never, context));
    if ('error' in out) {
      seen.refused++;
      expectFieldsNamed(out.error);
    } else {
      seen.accepted++;
      accepted(out.ok);
    }
  };

  const timesInRange = (...times: Array<number | undefined>) => {
    for (const t of times) if (t !== undefined) expect(() => iso(t)).not.toThrow();
  };

  it('TrainingJobStateChangeSchema', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), mutated('training-job-completed.json', TRAINING_FIELDS), mutated('training-job-failed.json', TRAINING_FIELDS)), async (event) => {
        await check(trainingParse, event, (parsed) => {
          const d = parsed.detail;
          timesInRange(d.LastModifiedTime, d.CreationTime, d.TrainingEndTime);
          const job = trainingJobFromDetail(d, {});
          // Every map entry that came in is there, as an own property.
          for (const [k, v] of Object.entries((event as Json).detail.HyperParameters ?? {})) expect(Object.getOwnPropertyDescriptor(job.hyperparameters, k)?.value).toBe(v);
          for (const [k, v] of Object.entries((event as Json).detail.Tags ?? {})) expect(Object.getOwnPropertyDescriptor(job.tags, k)?.value).toBe(v);
          expect(new Set(job.datasets.map((c) => c.channel)).size).toBe(job.datasets.length);
        });
      }),
      { numRuns: 400 },
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('ModelPackageStateChangeSchema', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), mutated('model-package-pending.json', PACKAGE_FIELDS), mutated('model-package-approved-in-console.json', PACKAGE_FIELDS)), async (event) => {
        await check(packageParse, event, (parsed) => {
          timesInRange(parsed.detail.CreationTime, parsed.detail.LastModifiedTime);
          for (const [k, v] of Object.entries((event as Json).detail.CustomerMetadataProperties ?? {})) {
            expect(Object.getOwnPropertyDescriptor(parsed.detail.CustomerMetadataProperties, k)?.value).toBe(v);
          }
        });
      }),
      { numRuns: 400 },
    );
  });
});

describe('strings SageMaker cannot send: a lone UTF-16 surrogate', () => {
  it.each<[string, string, (e: Json) => void, string]>([
    ['a failure reason', 'training-job-failed.json', (e) => (e.detail.FailureReason = 'AlgorithmError: \ud83d'), 'detail.FailureReason: holds a lone UTF-16 surrogate, which no SageMaker string can'],
    ['a hyperparameter value', 'training-job-completed.json', (e) => (e.detail.HyperParameters.eta = '\udc00'), 'detail.HyperParameters.eta: holds a lone UTF-16 surrogate, which no SageMaker string can'],
    ['a tag key', 'training-job-completed.json', (e) => (e.detail.Tags['team\ud800'] = 'x'), 'detail.Tags.team\ud800: its key holds a lone UTF-16 surrogate, which no SageMaker string can'],
    ['an unknown field', 'training-job-completed.json', (e) => (e.detail.SecondaryStatus = '\ud83d'), 'detail.SecondaryStatus: holds a lone UTF-16 surrogate, which no SageMaker string can'],
  ])('in %s of a training job: a ValidationError naming the field', async (_name, file, mutate, problem) => {
    const event = sample(file);
    mutate(event);
    expect(await problemsOf(trainingParse, event)).toContain(problem);
  });

  it('in a model package description: a ValidationError naming the field; a paired surrogate (an emoji) is fine', async () => {
    const event = sample('model-package-pending.json');
    event.detail.ModelPackageDescription = 'fraud model \ud83d';
    expect(await problemsOf(packageParse, event)).toEqual(['detail.ModelPackageDescription: holds a lone UTF-16 surrogate, which no SageMaker string can']);
    event.detail.ModelPackageDescription = 'fraud model 😀';
    await expect(packageParse(event as never, context)).resolves.toBeDefined();
  });
});
