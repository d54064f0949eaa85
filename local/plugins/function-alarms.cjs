'use strict';
/* global module */
/**
 * Serverless plugin: an Errors alarm and a Throttles alarm (AWS/Lambda, Sum > 0 over 5 minutes)
 * for every function of the service, so that none is forgotten when a function is added.
 *
 * It runs offline, inside `serverless package` (and `deploy`): in
 * `before:aws:package:finalize:saveServiceState`, after `resources:` is merged into the compiled
 * template and before the template is written. The alarms' actions are the ones serverless.yml
 * gives `DeadLetterQueueAlarm` (the alarm topic, `${param:alarmTopicArn}`): one place says where
 * alarms go. Each description names the README's runbook section.
 * CommonJS on purpose: every Serverless Framework line loads a local plugin (`./path`) with require.
 */
const ACTIONS_FROM = 'DeadLetterQueueAlarm';

const ALARMS = [
  {
    metric: 'Errors',
    suffix: 'ErrorsAlarm',
    name: 'errors',
    what: (fn) =>
      `modelgate ${fn}: an invocation failed (an error thrown, a timeout or a crash). ` +
      `Read its error in the function's log and act on the error's name: README, Operator runbook, Alarms, "Function errors".`,
  },
  {
    metric: 'Throttles',
    suffix: 'ThrottlesAlarm',
    name: 'throttles',
    what: (fn) =>
      `modelgate ${fn}: Lambda refused an invocation for lack of concurrency. ` +
      `Check the account's concurrency and the function's reserved concurrency: README, Operator runbook, Alarms, "Function throttles".`,
  },
];

class FunctionAlarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () => this.addAlarms(),
    };
  }

  addAlarms() {
    const service = this.serverless.service;
    const template = service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources;
    const ServerlessError = (this.serverless.classes && this.serverless.classes.Error) || Error;
    const source = resources[ACTIONS_FROM];
    if (!source || !source.Properties || !Array.isArray(source.Properties.AlarmActions)) {
      throw new ServerlessError(`function-alarms: resources.Resources.${ACTIONS_FROM} with AlarmActions is missing from serverless.yml; the function alarms take their actions from it`);
    }
    const { AlarmActions, OKActions } = source.Properties;
    const naming = this.serverless.getProvider('aws').naming;
    const stage = this.serverless.getProvider('aws').getStage();
    for (const fn of service.getAllFunctions()) {
      const logicalId = naming.getLambdaLogicalId(fn);
      if (!resources[logicalId]) continue; // a function without code of its own (none today)
      const base = logicalId.replace(/LambdaFunction$/, '');
      for (const alarm of ALARMS) {
        const id = `${base}${alarm.suffix}`;
        if (resources[id]) throw new ServerlessError(`function-alarms: ${id} is already in the template`);
        resources[id] = {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmName: `modelgate-${stage}-${fn}-${alarm.name}`,
            AlarmDescription: alarm.what(fn),
            Namespace: 'AWS/Lambda',
            MetricName: alarm.metric,
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId } }],
            Statistic: 'Sum',
            Period: 300,
            EvaluationPeriods: 1,
            Threshold: 0,
            ComparisonOperator: 'GreaterThanThreshold',
            // No invocation, no datapoint: nothing failed.
            TreatMissingData: 'notBreaching',
            AlarmActions,
            ...(OKActions ? { OKActions } : {}),
          },
        };
      }
    }
  }
}

module.exports = FunctionAlarms;
