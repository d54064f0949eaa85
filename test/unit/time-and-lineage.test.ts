import { createHash } from 'node:crypto';
import { clientToken, fitDescription } from '../../shared/domain/effects.js';
import { jobNameFromArtifactUri, parseS3Uri, producerSummary, trainingJobFromDetail } from '../../shared/domain/lineage.js';
import { readReport } from '../../shared/domain/report.js';
import { TimestampSchema, parseTimestamp } from '../../shared/domain/time.js';
import { TrainingJobStateChangeSchema, type TrainingJobDetail } from '../../shared/schemas/events.js';
import { at, detailOf, eventNames, loadEvent, loadFixture } from './fixtures.js';

const trainingDetail = (name: string): TrainingJobDetail => TrainingJobStateChangeSchema.parse(loadEvent(name)).detail;

describe('parseTimestamp', () => {
  it.each<[string, string | number, number]>([
    ['an ISO string with Z', '2026-11-27T09:44:02Z', Date.UTC(2026, 10, 27, 9, 44, 2)],
    ['an ISO string with milliseconds', '2026-11-27T09:44:02.123Z', Date.UTC(2026, 10, 27, 9, 44, 2, 123)],
    ['an ISO string with an offset', '2026-11-27T10:44:02+01:00', Date.UTC(2026, 10, 27, 9, 44, 2)],
    ['an epoch-ms number', 1795770852000, 1795770852000],
    ['an epoch-ms string (AWS documentation sample)', '1583831889050', 1583831889050],
    ['an epoch-ms string with surrounding spaces', ' 1583831889050 ', 1583831889050],
    ['fractional epoch seconds (SDK JSON protocol)', 1583831889.05, 1583831889050],
    ['whole epoch seconds', 1583831889, 1583831889000],
    ['a fractional epoch-seconds string', '1583831889.050', 1583831889050],
  ])('reads %s', (_what, input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it.each<[string, string | number]>([
    ['an empty string', ''],
    ['a word', 'garbage'],
    ['a phrase', 'not a date'],
    ['an impossible date', '2026-13-45T00:00:00Z'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    // V8's Date.parse falls back to a lenient legacy parser that reads these as dates in 2001.
    ['a word followed by a number', 'hello 2'],
    ['a name with a number', 'model-1'],
    ['a negative number string', '-1'],
    ['a version-like string', '1.2.3'],
  ])('returns undefined for %s', (_what, input) => {
    expect(parseTimestamp(input)).toBeUndefined();
  });

  it('is what TimestampSchema uses, and the schema refuses garbage with the value in the message', () => {
    expect(TimestampSchema.parse('1583831889050')).toBe(1583831889050);
    const r = TimestampSchema.safeParse('garbage');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('not a timestamp: "garbage"');
  });
});

describe('jobNameFromArtifactUri', () => {
  it.each(['model-package-pending.json', 'model-package-pending-before-job.json', 'model-package-pending-low-auc.json'])(
    'names the training job from the artifact URI in events/%s',
    (name) => {
      const detail = detailOf(loadEvent(name));
      const containers = (detail['InferenceSpecification'] as { Containers: Array<{ ModelDataUrl: string }> }).Containers;
      const uri = at(containers, 0).ModelDataUrl;
      const expected = /\/(fraud-xgb-[0-9-]+)\/output\/model\.tar\.gz$/.exec(uri)?.[1];
      expect(expected).toBeDefined();
      expect(jobNameFromArtifactUri(uri)).toBe(expected);
    },
  );

  it('names the job from every training event’s own S3ModelArtifacts', () => {
    const completed = eventNames('training-job-completed');
    expect(completed.length).toBeGreaterThan(0);
    for (const name of completed) {
      const d = trainingDetail(name);
      expect(d.ModelArtifacts).toBeDefined();
      expect(jobNameFromArtifactUri(d.ModelArtifacts?.S3ModelArtifacts ?? '')).toBe(d.TrainingJobName);
    }
  });

  it('names the pipeline step job in the AWS documentation sample', () => {
    const detail = detailOf(loadFixture('aws-doc-model-package-state-change.json'));
    const uri = at((detail['InferenceSpecification'] as { Containers: Array<{ ModelDataUrl: string }> }).Containers, 0).ModelDataUrl;
    expect(jobNameFromArtifactUri(uri)).toBe('pipelines-4r83jejmhorv-TrainAbaloneModel-xw869y8C4a');
  });

  it('reads a job directly under the bucket', () => {
    expect(jobNameFromArtifactUri('s3://acme-ml/fraud-xgb-1/output/model.tar.gz')).toBe('fraud-xgb-1');
  });

  it.each([
    ['a model not in an output/ folder', 's3://acme-ml/fraud-detector/models/model.tar.gz'],
    ['a model directly in the bucket', 's3://acme-ml/model.tar.gz'],
    ['output/ directly in the bucket', 's3://acme-ml/output/model.tar.gz'],
    ['another file name', 's3://acme-ml/training/fraud-xgb-1/output/model.zip'],
    ['a job name with an underscore', 's3://acme-ml/training/fraud_xgb_1/output/model.tar.gz'],
    ['a job name longer than 63 characters', `s3://acme-ml/training/${'a'.repeat(64)}/output/model.tar.gz`],
    ['a job name with a leading hyphen', 's3://acme-ml/training/-fraud/output/model.tar.gz'],
    ['something after the file', 's3://acme-ml/training/fraud-xgb-1/output/model.tar.gz/extra'],
    ['not an S3 URI', 'https://acme-ml.s3.amazonaws.com/training/fraud-xgb-1/output/model.tar.gz'],
  ])('returns undefined for %s', (_what, uri) => {
    expect(jobNameFromArtifactUri(uri)).toBeUndefined();
  });
});

describe('trainingJobFromDetail', () => {
  it('records a Completed job with its datasets per channel, image, artifact, metrics and tags', () => {
    const metrics = { 'validation:auc': 0.91, 'train:auc': 0.95 };
    const job = trainingJobFromDetail(trainingDetail('training-job-completed.json'), metrics);
    expect(job).toEqual({
      name: 'fraud-xgb-2026-11-27-09-14-05-412',
      arn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/fraud-xgb-2026-11-27-09-14-05-412',
      status: 'Completed',
      lastModified: 1795772497000,
      createdAt: 1795770852000,
      endedAt: 1795772497000,
      image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
      roleArn: 'arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-fraud',
      hyperparameters: { max_depth: '6', eta: '0.2', objective: 'binary:logistic', num_round: '200', eval_metric: 'auc' },
      datasets: [
        { channel: 'train', uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/train/' },
        { channel: 'validation', uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/validation/' },
      ],
      artifactUri: 's3://acme-ml-artifacts-123456789012/fraud-detector/training/fraud-xgb-2026-11-27-09-14-05-412/output/model.tar.gz',
      metrics,
      tags: { team: 'fraud-ml', 'cost-center': 'cc-4711' },
    });
  });

  it('keeps a Failed job’s FailureReason and gives it no artifact and no metrics', () => {
    const detail = trainingDetail('training-job-failed.json');
    const job = trainingJobFromDetail(detail, { 'train:auc': 0.5 });
    expect(job.status).toBe('Failed');
    expect(job.failureReason).toBe(
      'AlgorithmError: framework error: xgboost.core.XGBoostError: [08:09:41] label must be in [0,1] for logistic regression',
    );
    expect(job).not.toHaveProperty('artifactUri');
    expect(job.metrics).toEqual({});
    expect(job.datasets).toHaveLength(2);
  });

  it('gives a Failed job no artifact even when the event carries a partial one', () => {
    const event = loadEvent('training-job-failed.json');
    detailOf(event)['ModelArtifacts'] = {
      S3ModelArtifacts: 's3://acme-ml-artifacts-123456789012/fraud-detector/training/fraud-xgb-2026-11-27-08-01-33-250/output/model.tar.gz',
    };
    const job = trainingJobFromDetail(TrainingJobStateChangeSchema.parse(event).detail, {});
    expect(job).not.toHaveProperty('artifactUri');
  });

  it('skips channels that do not read from S3', () => {
    const event = loadEvent('training-job-completed.json');
    const channels = detailOf(event)['InputDataConfig'] as unknown[];
    channels.push({ ChannelName: 'fsx', DataSource: { FileSystemDataSource: { FileSystemId: 'fs-0123456789abcdef0' } } });
    const job = trainingJobFromDetail(TrainingJobStateChangeSchema.parse(event).detail, {});
    expect(job.datasets.map((d) => d.channel)).toEqual(['train', 'validation']);
  });

  it('summarises the producer for the artifact node', () => {
    const job = trainingJobFromDetail(trainingDetail('training-job-completed.json'), { 'validation:auc': 0.91 });
    expect(producerSummary(job)).toEqual({
      name: job.name,
      arn: job.arn,
      image: job.image,
      metrics: { 'validation:auc': 0.91 },
      datasets: job.datasets,
    });
  });
});

describe('parseS3Uri', () => {
  it.each([
    ['s3://acme-ml/fraud/eval/evaluation.json', { bucket: 'acme-ml', key: 'fraud/eval/evaluation.json' }],
    ['s3://acme-ml/prefix/', { bucket: 'acme-ml', key: 'prefix/' }],
    ['s3://acme-ml', { bucket: 'acme-ml', key: '' }],
    ['s3://acme-ml/', { bucket: 'acme-ml', key: '' }],
  ])('splits %s into bucket and key', (uri, expected) => {
    expect(parseS3Uri(uri)).toEqual(expected);
  });

  it.each(['https://acme-ml.s3.amazonaws.com/key', 's3:///key', 'acme-ml/key'])('throws for %s', (uri) => {
    expect(() => parseS3Uri(uri)).toThrow(`not an s3:// URI: ${uri}`);
  });
});

describe('readReport', () => {
  const report = { binary_classification_metrics: { auc: { value: 0.91 } } };
  const body = new TextEncoder().encode(JSON.stringify(report));
  const sha = createHash('sha256').update(body).digest('hex');

  it('returns the values when the sha256 ContentDigest matches', () => {
    expect(readReport(body, `sha256:${sha}`)).toEqual({ values: report });
  });

  it('accepts an upper-case digest', () => {
    expect(readReport(body, `SHA256:${sha.toUpperCase()}`)).toEqual({ values: report });
  });

  it('returns the values when there is no ContentDigest', () => {
    expect(readReport(body, undefined)).toEqual({ values: report });
  });

  it('is unreadable when the digest does not match, naming both digests', () => {
    const other = createHash('sha256').update('something else').digest('hex');
    const r = readReport(body, `sha256:${other}`);
    expect(r).toEqual({ unreadable: `ContentDigest mismatch (expected sha256:${other}, got sha256:${sha})` });
  });

  it('is unreadable when a single byte of the body changed', () => {
    const edited = new TextEncoder().encode(JSON.stringify({ binary_classification_metrics: { auc: { value: 0.99 } } }));
    const r = readReport(edited, `sha256:${sha}`);
    expect('unreadable' in r && r.unreadable).toMatch(/mismatch/);
  });

  it.each([`md5:${'a'.repeat(32)}`, `sha1:${'a'.repeat(40)}`, 'sha256:xyz', `sha256:${sha}00`, sha])(
    'is unreadable for the unsupported digest %p',
    (digest) => {
      expect(readReport(body, digest)).toEqual({ unreadable: `unsupported ContentDigest ${digest}` });
    },
  );

  it('is unreadable when the body is not JSON', () => {
    expect(readReport(new TextEncoder().encode('auc=0.91'), undefined)).toEqual({ unreadable: 'not valid JSON' });
  });

  it('checks the digest before parsing', () => {
    const notJson = new TextEncoder().encode('{');
    const digest = `sha256:${createHash('sha256').update(notJson).digest('hex')}`;
    expect(readReport(notJson, digest)).toEqual({ unreadable: 'not valid JSON' });
  });
});

describe('clientToken', () => {
  const arn = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1';

  it('is deterministic for the same cause', () => {
    expect(clientToken(arn, 'Rejected', 1795770852000)).toBe(clientToken(arn, 'Rejected', 1795770852000));
  });

  it('is 36 characters that UpdateModelPackage accepts', () => {
    const t = clientToken(arn, 'Rejected', 1795770852000);
    expect(t).toHaveLength(36);
    expect(t).toMatch(/^[a-zA-Z0-9-]{1,36}$/);
  });

  it('differs for different causes', () => {
    const tokens = new Set([
      clientToken(arn, 'Rejected', 1795770852000),
      clientToken(arn, 'Approved', 1795770852000),
      clientToken(arn, 'Rejected', 1795770852001),
      clientToken(arn.replace(/1$/, '2'), 'Rejected', 1795770852000),
      clientToken(arn, 'Rejected'),
    ]);
    expect(tokens.size).toBe(5);
  });

  it('does not let adjacent parts run together', () => {
    expect(clientToken('ab', 'c')).not.toBe(clientToken('a', 'bc'));
  });
});

describe('fitDescription', () => {
  it('keeps a text of up to 1024 characters as it is', () => {
    const text = 'x'.repeat(1024);
    expect(fitDescription(text)).toBe(text);
    expect(fitDescription('short')).toBe('short');
  });

  it('caps a longer text at 1024 characters and says it was cut', () => {
    const fitted = fitDescription(`${'Rejected: '.repeat(200)}end`);
    expect(fitted.length).toBeLessThanOrEqual(1024);
    expect(fitted.length).toBeGreaterThan(1000);
    expect(fitted.startsWith('Rejected: Rejected: ')).toBe(true);
    expect(fitted.endsWith('…(truncated)')).toBe(true);
  });

  it('honours a smaller maximum', () => {
    const fitted = fitDescription('y'.repeat(200), 100);
    expect(fitted.length).toBeLessThanOrEqual(100);
    expect(fitted.endsWith('(truncated)')).toBe(true);
  });
});
