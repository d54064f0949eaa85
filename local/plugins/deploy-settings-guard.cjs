'use strict';
/* global module */
/**
 * Serverless plugin: packaging or deploying a stage that lacks a setting its messages and links
 * need fails at once, naming what to set; every other command (`invoke`, `info`, `logs`, `print`)
 * works without them.
 *
 * - The review base URL. Stage prod takes the review page's public origin from
 *   MODELGATE_REVIEW_BASE_URL (`params.prod.reviewBaseUrl: ${env:MODELGATE_REVIEW_BASE_URL, ''}`).
 * - The organisation (params organisationName and organisationContact, default empty): every
 *   page and message names who sends it, and no stage but local has a default.
 *
 * A variable with no fallback would stop every command on the stage, read-only ones included,
 * because the Framework resolves the whole file first; so the parameters fall back to empty, and
 * this plugin refuses the empty values where they matter: before anything is packaged (`package`,
 * and `deploy`, which packages first), before a prepared package is deployed (`deploy --package`),
 * and before `deploy function`, which sends the function's configuration (its environment) too.
 *
 * The check reads the resolved environment (`provider.environment.REVIEW_BASE_URL`, and each
 * function's ORGANISATION_NAME / ORGANISATION_CONTACT), so `--param=…` satisfies it as well, and a
 * stage that keeps the default review base URL (the HTTP API endpoint, a CloudFormation reference)
 * is never refused on that count. The functions check the values again at cold start
 * (shared/config.ts). CommonJS on purpose: every Serverless Framework line loads a local plugin
 * (`./path`) with require.
 */
const isEmpty = (value) => typeof value === 'string' && value.trim() === '';

class DeploySettingsGuard {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    const check = () => this.requireSettings();
    this.hooks = {
      'before:package:initialize': check,
      'before:deploy:deploy': check,
      'before:deploy:function:initialize': check,
    };
  }

  requireSettings() {
    const service = this.serverless.service;
    const stage = this.options.stage || service.provider.stage;
    const ServerlessError = (this.serverless.classes && this.serverless.classes.Error) || Error;
    const environment = (service.provider && service.provider.environment) || {};
    if (isEmpty(environment.REVIEW_BASE_URL)) {
      throw new ServerlessError(
        `Stage ${stage} has no review base URL: set MODELGATE_REVIEW_BASE_URL to the public origin of the review page ` +
          `(e.g. MODELGATE_REVIEW_BASE_URL=https://modelgate.example.com npx serverless deploy --stage ${stage} --region <region>), ` +
          `or pass --param="reviewBaseUrl=https://…". Reviewers' links point there; packaging without it would mail links to no host.`,
        'MODELGATE_REVIEW_BASE_URL_MISSING',
      );
    }
    const missing = [];
    for (const [name, fn] of Object.entries(service.functions || {})) {
      const env = (fn && fn.environment) || {};
      for (const [variable, param] of [['ORGANISATION_NAME', 'organisationName'], ['ORGANISATION_CONTACT', 'organisationContact']]) {
        if (isEmpty(env[variable])) missing.push({ name, variable, param });
      }
    }
    if (missing.length > 0) {
      const params = [...new Set(missing.map((m) => m.param))];
      throw new ServerlessError(
        `Stage ${stage} does not name the organisation that sends its pages and messages: set ${params.join(' and ')} ` +
          `(a section for the stage under params in serverless.yml, or ${params.map((p) => `--param="${p}=…"`).join(' ')}). ` +
          `Needed by ${missing.map((m) => `${m.name} (${m.variable})`).join(', ')}.`,
        'MODELGATE_ORGANISATION_MISSING',
      );
    }
  }
}

module.exports = DeploySettingsGuard;
