import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from '../scripts/dynamodb-local.js';

/**
 * Where the local stack runs. Every port and the data folder can be moved with an environment
 * variable (the end-to-end test runs a stack of its own beside a developer's).
 */
export function localConfig(env: NodeJS.ProcessEnv = process.env) {
  const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
  const ports = {
    dynamodb: port('MODELGATE_DYNAMODB_PORT', 8000),
    sagemaker: port('MODELGATE_SAGEMAKER_PORT', 9101),
    sns: port('MODELGATE_SNS_PORT', 9102),
    s3: port('MODELGATE_S3_PORT', 9103),
    http: port('MODELGATE_HTTP_PORT', 3000),
    lambda: port('MODELGATE_LAMBDA_PORT', 3002),
    oidc: port('MODELGATE_OIDC_PORT', 9104),
  };
  const region = 'us-east-1';
  // The account of stage local's topic ARNs in serverless.yml.
  const account = '000000000000';
  const dir = env.MODELGATE_LOCAL_DIR ?? join(REPO_ROOT, '.local');
  const reviewBaseUrl = `http://127.0.0.1:${ports.http}`;
  const oidcIssuer = `http://127.0.0.1:${ports.oidc}`;
  // The review function's client at the local OpenID provider. Its secret is derived from the
  // data folder, so that the provider and the review function (two processes) agree on it with
  // nothing stored; it is local only and guards nothing (deployed stages read theirs from SSM).
  const oidcClient = {
    clientId: 'modelgate-review-local',
    clientSecret: createHmac('sha256', 'modelgate local OIDC client secret').update(dir).digest('base64url'),
    redirectUris: [`${new URL(reviewBaseUrl).origin}/auth/callback`],
  };
  return {
    dir,
    ports,
    region,
    account,
    table: 'modelgate-local-governance',
    lambdaUrl: `http://127.0.0.1:${ports.lambda}`,
    reviewersTopicArn: `arn:aws:sns:${region}:${account}:modelgate-local-reviewers`,
    // The audit log's checkpoints: the bucket in the S3 stand-in (no Object Lock there), the
    // local signing key (created on first use, mode 0600; it proves nothing off this machine)
    // and the folder exportAuditTrail writes into. serverless.yml's stage local reads the two
    // paths from MODELGATE_CHECKPOINT_KEY_FILE and MODELGATE_AUDIT_EXPORT_DIR.
    auditBucket: 'modelgate-local-audit',
    checkpointKeyFile: join(dir, 'checkpoint-key.pem'),
    auditExportDir: join(dir, 'exports'),
    reviewBaseUrl,
    // The local identity provider (local/oidc/provider.ts): the demo's reviewers can sign in, and
    // so can one address that no policy names, for the "wrong user" tests.
    oidc: {
      issuer: oidcIssuer,
      client: oidcClient,
      users: [
        { email: 'risk-officer@acme-bank.example', name: 'Risk Officer' },
        { email: 'ml-lead@acme-bank.example', name: 'ML Lead' },
        { email: 'model-risk@acme-bank.example', name: 'Model Risk' },
        { email: 'intruder@acme-bank.example', name: 'Not A Reviewer' },
      ],
      // What the review function's environment needs (the lead passes these on; serverless-offline
      // hands a function only AWS_* variables from its own environment, so stage local reads the
      // MODELGATE_OIDC_* copies that local/stack.ts sets).
      env: {
        OIDC_ISSUER: oidcIssuer,
        OIDC_CLIENT_ID: oidcClient.clientId,
        OIDC_CLIENT_SECRET: oidcClient.clientSecret,
      },
    },
    awsEnv: {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${ports.dynamodb}`,
      AWS_ENDPOINT_URL_SAGEMAKER: `http://127.0.0.1:${ports.sagemaker}`,
      AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${ports.sns}`,
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${ports.s3}`,
    },
  };
}
