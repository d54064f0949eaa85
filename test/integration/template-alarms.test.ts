// Packages the service offline once (`serverless package --stage test`, its own work folder) and
// checks the alarms in the CloudFormation template: each alarm's metric, threshold, comparison and
// missing-data rule, its actions (the alarm topic), its description (what to do, and where in the
// README), and an Errors and a Throttles alarm for every function.
import { METRICS } from '../../shared/metrics.js';
import { packageStage, type PackagedStage } from '../support/lambda-bundles.js';

interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, unknown>;
}
interface FullTemplate {
  Resources: Record<string, Resource>;
  Conditions?: Record<string, unknown>;
  Outputs?: Record<string, { Value: unknown }>;
}

const STAGE = 'test';
const ALARM_ACTIONS = [{ 'Fn::If': ['UseStackAlarmTopic', { Ref: 'AlarmTopic' }, ''] }];
const METRIC_DIMENSIONS = [
  { Name: 'service', Value: 'modelgate' },
  { Name: 'stage', Value: STAGE },
];

let pkg: PackagedStage;
let template: FullTemplate;

beforeAll(async () => {
  pkg = await packageStage(STAGE, 'template-alarms');
  template = pkg.template as unknown as FullTemplate;
}, 180_000);
afterAll(() => pkg?.remove());

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const alarm = (id: string) => {
  const r = template.Resources[id];
  expect(r?.Type).toBe('AWS::CloudWatch::Alarm');
  return (r as Resource).Properties;
};

describe('the alarm topic', () => {
  it('is a topic of the stack unless alarmTopicArn names one (empty by default)', () => {
    expect(template.Conditions?.UseStackAlarmTopic).toStrictEqual({ 'Fn::Equals': ['', ''] });
    const topic = template.Resources.AlarmTopic;
    expect(topic).toMatchObject({ Type: 'AWS::SNS::Topic', Condition: 'UseStackAlarmTopic', Properties: { TopicName: `modelgate-${STAGE}-alarms` } });
    expect(template.Outputs?.AlarmTopicArn?.Value).toStrictEqual(ALARM_ACTIONS[0]);
  });

  it('every alarm sends its alarm and its return to OK there, and says what to do, naming its README section', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(5);
    for (const [id, a] of alarms) {
      expect({ id, actions: a.Properties.AlarmActions, ok: a.Properties.OKActions }).toStrictEqual({ id, actions: ALARM_ACTIONS, ok: ALARM_ACTIONS });
      const description = a.Properties.AlarmDescription as string;
      expect(description).toMatch(/^modelgate\b/);
      expect(description).toMatch(/README, Operator runbook, Alarms, "[^"]+"\.$/);
      expect(description.length).toBeLessThanOrEqual(1024);
      expect(a.Properties.AlarmName).toMatch(new RegExp(`^modelgate-${STAGE}-`));
      expect(['breaching', 'notBreaching']).toContain(a.Properties.TreatMissingData);
    }
    const names = alarms.map(([, a]) => a.Properties.AlarmName);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('alarms on the stack', () => {
  it('dead-letter queue: any visible message', () => {
    expect(alarm('DeadLetterQueueAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm('DeadLetterQueueAlarm').AlarmDescription).toContain('"Dead letters"');
  });

  it.each([
    // id, metric, statistic, period, evaluation periods, datapoints to alarm, threshold, missing data, README section
    ['OldestPendingSideEffectAlarm', 'SideEffectOldestPendingAge', 3600, 2, 2, 3600, 'breaching', 'Side effects pending'],
    ['ReviewsExpiringAlarm', 'ReviewsExpiringWithoutQuorum', 3600, 1, undefined, 0, 'notBreaching', 'Reviews expiring without quorum'],
    ['AuditUnsequencedAlarm', 'AuditUnsequencedAge', 300, 2, 2, 900, 'breaching', 'Audit window: unsequenced entries'],
    ['AuditUncheckpointedAlarm', 'AuditUncheckpointedAge', 300, 2, 2, 1800, 'breaching', 'Audit window: unsigned entries'],
  ] as const)('%s: modelgate %s (Maximum over %i s)', (id, metric, period, evaluationPeriods, datapointsToAlarm, threshold, missing, section) => {
    const a = alarm(id);
    expect(a).toMatchObject({
      Namespace: 'modelgate',
      MetricName: metric,
      Dimensions: METRIC_DIMENSIONS,
      Statistic: 'Maximum',
      Period: period,
      EvaluationPeriods: evaluationPeriods,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: missing,
    });
    expect(a.DatapointsToAlarm).toBe(datapointsToAlarm);
    expect(a.AlarmDescription).toContain(`"${section}"`);
    // The metric is one the functions publish, with the unit its threshold is in.
    expect(METRICS[metric].unit).toBe(metric.endsWith('Age') ? 'Seconds' : 'Count');
  });
});

describe('alarms per function', () => {
  it('every function has an Errors and a Throttles alarm on its own name, Sum > 0 over 5 minutes', () => {
    const functions = ofType('AWS::Lambda::Function').map(([id]) => id);
    expect(functions.length).toBe(22);
    const lambdaAlarms = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.Namespace === 'AWS/Lambda');
    expect(lambdaAlarms).toHaveLength(functions.length * 2);
    for (const fn of functions) {
      const base = fn.replace(/LambdaFunction$/, '');
      for (const metric of ['Errors', 'Throttles']) {
        expect({ fn, ...alarm(`${base}${metric}Alarm`) }).toMatchObject({
          fn,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
          AlarmDescription: expect.stringContaining(metric === 'Errors' ? '"Function errors"' : '"Function throttles"'),
        });
      }
    }
  });
});
