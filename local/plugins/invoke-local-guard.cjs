'use strict';
/* global module */
/**
 * Serverless plugin: `serverless invoke local` refuses, at once and with the way out, a stage whose
 * bundles are `.mjs` (every stage but `local`: what Lambda loads).
 *
 * osls's invoke local loads a Node.js handler with require() (`handler`, `handler.js`,
 * `handler.cjs`) and, for ES modules, import() of `handler.js`; it never tries `handler.mjs`.
 * Left alone, `serverless invoke local --stage dev` first resolves the functions' environment
 * (CloudFormation references: it calls CloudFormation, or fails on Fn::GetAtt), then bundles, then
 * fails to find the handler and hangs instead of exiting (esbuild's service is never stopped).
 * This plugin stops before any of that, in the `initialize` hook (which runs before every
 * command's lifecycle, osls's own `before:invoke:local:loadEnvVars` included).
 *
 * The bundle extension is read from the resolved `custom.esbuild.outputFileExtension`
 * (`${param:bundleExtension}`), so the rule follows serverless.yml rather than a stage name.
 * CommonJS on purpose: every Serverless Framework line loads a local plugin (`./path`) with require.
 */
class InvokeLocalGuard {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    this.hooks = {
      initialize: () => {
        const commands = (serverless.processedInput && serverless.processedInput.commands) || [];
        if (commands.join(' ') === 'invoke local') this.refuseMjsBundles();
      },
      // For a Framework whose `initialize` does not tell the command: later, still before bundling.
      'before:invoke:local:loadEnvVars': () => this.refuseMjsBundles(),
    };
  }

  refuseMjsBundles() {
    const service = this.serverless.service;
    const plugins = Array.isArray(service.plugins) ? service.plugins : (service.plugins && service.plugins.modules) || [];
    // Only serverless-esbuild's .mjs output is refused (upstream v4 users drop that plugin and bundle
    // with the Framework's own build, which this guard says nothing about).
    if (!plugins.includes('serverless-esbuild')) return;
    const extension = service.custom && service.custom.esbuild && service.custom.esbuild.outputFileExtension;
    if (extension !== '.mjs') return;
    const stage = this.options.stage || service.provider.stage;
    const fn = this.options.function || '<function>';
    const ServerlessError = (this.serverless.classes && this.serverless.classes.Error) || Error;
    throw new ServerlessError(
      `"serverless invoke local" cannot run stage ${stage}: its bundles are .mjs ES modules (what Lambda loads), ` +
        'and invoke local loads only .js and .cjs handlers. ' +
        `Run it on the local stage instead: serverless invoke local --stage local -f ${fn} (with the local stack's endpoints, see the README); ` +
        `or invoke the deployed function: serverless invoke --stage ${stage} -f ${fn}.`,
      'MODELGATE_INVOKE_LOCAL_NEEDS_STAGE_LOCAL',
    );
  }
}

module.exports = InvokeLocalGuard;
