/**
 * The signing-key adapter (shared/aws/signing-keys.ts) against aws-sdk-client-mock. Assertions read
 * `mock.commandCalls(...)` (see adapters.test.ts for why not aws-sdk-client-mock-jest).
 */
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { LOCAL_KEY_RING, signingKeys } from '../../shared/aws/signing-keys.js';
import { signReviewToken, verifyReviewToken, type ReviewTokenClaims } from '../../shared/domain/token.js';

const NAME = '/modelgate/prod/review-signing-keys';
const CURRENT_SECRET = randomBytes(32);
const PREVIOUS_SECRET = randomBytes(48);
const VALUE = JSON.stringify({
  current: { kid: '2026-11', secret: CURRENT_SECRET.toString('base64') },
  previous: { kid: '2026-08', secret: PREVIOUS_SECRET.toString('base64') },
});

const CLAIMS: ReviewTokenClaims = {
  linkId: 'k3J9x2QvT1mB8sLw0aZyPg',
  reviewId: 'Hq7vN2cR5tYb1LmK9pXs4w',
  modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/12',
  version: 12,
  reviewer: 'jane.doe@example.com',
  expiresAt: 1_796_031_842,
};

const ssm = mockClient(SSMClient);
const answer = (value: string) => ({ Parameter: { Name: NAME, Type: 'SecureString' as const, Value: value, Version: 3 } });

beforeEach(() => {
  ssm.reset();
  clearCaches();
});
afterEach(() => jest.restoreAllMocks());
afterAll(() => ssm.restore());

/** The error `keyRing()` rejects with, for a parameter holding `value`. */
async function failureFor(value: string): Promise<Error> {
  ssm.on(GetParameterCommand).resolves(answer(value));
  const error = await signingKeys({ parameterName: NAME, stage: 'prod' })
    .keyRing()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  if (!(error instanceof Error)) throw new Error('keyRing() did not reject with an Error');
  return error;
}

describe('signingKeys with a parameter', () => {
  it('reads the SecureString by its exact name, with decryption, and decodes both keys', async () => {
    ssm.on(GetParameterCommand).resolves(answer(VALUE));
    const ring = await signingKeys({ parameterName: NAME, stage: 'prod' }).keyRing();

    const calls = ssm.commandCalls(GetParameterCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ Name: NAME, WithDecryption: true });
    expect(ring.current.kid).toBe('2026-11');
    expect(Buffer.from(ring.current.secret).equals(CURRENT_SECRET)).toBe(true);
    expect(ring.previous?.kid).toBe('2026-08');
    expect(Buffer.from(ring.previous?.secret ?? []).equals(PREVIOUS_SECRET)).toBe(true);
  });

  it('accepts a value without previous', async () => {
    ssm.on(GetParameterCommand).resolves(answer(JSON.stringify({ current: { kid: 'k1', secret: CURRENT_SECRET.toString('base64') } })));
    const ring = await signingKeys({ parameterName: NAME, stage: 'prod' }).keyRing();
    expect(ring.previous).toBeUndefined();
    expect(Object.keys(ring)).toEqual(['current']);
  });

  it('gives a ring that signs and verifies, with the previous key too', async () => {
    ssm.on(GetParameterCommand).resolves(answer(VALUE));
    const ring = await signingKeys({ parameterName: NAME, stage: 'prod' }).keyRing();
    const now = CLAIMS.expiresAt - 60;
    expect(verifyReviewToken(signReviewToken(CLAIMS, ring.current), ring, now).ok).toBe(true);
    const old = ring.previous;
    if (!old) throw new Error('no previous key');
    expect(verifyReviewToken(signReviewToken(CLAIMS, old), ring, now)).toMatchObject({ ok: true, claims: { kid: '2026-08' } });
  });

  it('does not call SSM again within maxAge (default 300 s): the cached value serves', async () => {
    ssm.on(GetParameterCommand).resolves(answer(VALUE));
    const keys = signingKeys({ parameterName: NAME, stage: 'prod' });
    const first = await keys.keyRing();
    const second = await keys.keyRing();
    const third = await keys.keyRing();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    // The decoded ring is kept with the cached string, not decoded again.
    expect(second).toBe(first);
    expect(third).toBe(first);

    // Powertools' cache entry expires by Date.now(): 299 s on it still serves, 301 s on it does not.
    const start = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(start + 299_000);
    await keys.keyRing();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    jest.spyOn(Date, 'now').mockReturnValue(start + 301_000);
    await keys.keyRing();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('reads SSM again once maxAge has passed, and picks up a rotation', async () => {
    const rotated = JSON.stringify({
      current: { kid: '2027-02', secret: randomBytes(32).toString('base64') },
      previous: { kid: '2026-11', secret: CURRENT_SECRET.toString('base64') },
    });
    ssm.on(GetParameterCommand).resolvesOnce(answer(VALUE)).resolves(answer(rotated));
    const keys = signingKeys({ parameterName: NAME, stage: 'prod', maxAgeSeconds: 60 });
    expect((await keys.keyRing()).current.kid).toBe('2026-11');

    const start = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(start + 59_000);
    expect((await keys.keyRing()).current.kid).toBe('2026-11');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);

    jest.spyOn(Date, 'now').mockReturnValue(start + 61_000);
    const ring = await keys.keyRing();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
    expect(ring.current.kid).toBe('2027-02');
    expect(ring.previous?.kid).toBe('2026-11');
  });

  it('reads SSM on every call with maxAgeSeconds 0', async () => {
    ssm.on(GetParameterCommand).resolves(answer(VALUE));
    const keys = signingKeys({ parameterName: NAME, stage: 'prod', maxAgeSeconds: 0 });
    await keys.keyRing();
    await keys.keyRing();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('keeps its own cache: a read of the same name without decryption elsewhere cannot feed it ciphertext', async () => {
    // Powertools' default provider (behind getParameter) keys its cache by name and transform only.
    const CIPHERTEXT = 'AQICAHhAbCdEfGh+ciphertext==';
    ssm.on(GetParameterCommand, { Name: NAME, WithDecryption: false }).resolves(answer(CIPHERTEXT));
    ssm.on(GetParameterCommand, { Name: NAME, WithDecryption: true }).resolves(answer(VALUE));
    expect(await getParameter(NAME)).toBe(CIPHERTEXT);
    expect(await getParameter(NAME, { decrypt: true })).toBe(CIPHERTEXT); // the pitfall, shown

    const ring = await signingKeys({ parameterName: NAME, stage: 'prod' }).keyRing();
    expect(ring.current.kid).toBe('2026-11');
  });

  it('uses the parameter when one is given, even on stage local', async () => {
    ssm.on(GetParameterCommand).resolves(answer(VALUE));
    const ring = await signingKeys({ parameterName: NAME, stage: 'local' }).keyRing();
    expect(ring.current.kid).toBe('2026-11');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });
});

describe('signingKeys with a bad parameter value', () => {
  const secret = CURRENT_SECRET.toString('base64');
  const short = randomBytes(31).toString('base64');
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', `{"current":{"kid":"k1","secret":"${secret}"`, /not valid JSON/],
    ['the bare secret', secret, /not valid JSON/],
    // JSON.parse's own message would quote the first characters of this one.
    ['key=value text', `secret=K${secret}`, /not valid JSON/],
    ['a JSON string', JSON.stringify(secret), /\(root\): expected object/],
    ['no current key', JSON.stringify({ previous: { kid: 'k1', secret } }), /current: expected object/],
    ['a short secret', JSON.stringify({ current: { kid: 'k1', secret: short } }), /current\.secret: secret must decode to at least 32 bytes/],
    ['a short previous secret', JSON.stringify({ current: { kid: 'k1', secret }, previous: { kid: 'k0', secret: short } }), /previous\.secret: .*32 bytes/],
    ['a secret that is not base64', JSON.stringify({ current: { kid: 'k1', secret: `${secret.slice(0, -2)}!!` } }), /current\.secret: secret must be base64/],
    ['a numeric secret', JSON.stringify({ current: { kid: 'k1', secret: 1234567890123456 } }), /current\.secret: expected string/],
    ['a kid with a dot', JSON.stringify({ current: { kid: 'k.1', secret } }), /current\.kid: kid must match/],
    ['the same kid twice', JSON.stringify({ current: { kid: 'k1', secret }, previous: { kid: 'k1', secret: PREVIOUS_SECRET.toString('base64') } }), /previous\.kid: previous\.kid must differ/],
    ['an unexpected field', JSON.stringify({ current: { kid: 'k1', secret, secret2: secret } }), /current: unexpected field/],
  ];

  it.each(cases)('%s: an Error naming the parameter and the problem, not the value', async (_name, value, problem) => {
    const error = await failureFor(value);
    expect(error.message).toContain(NAME);
    expect(error.message).toMatch(problem);
    const everything = `${error.message}\n${error.stack ?? ''}\n${JSON.stringify(error)}\n${String(error.cause ?? '')}`;
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(secret.slice(0, 8));
    expect(everything).not.toContain(short.slice(0, 8));
    expect(everything).not.toContain(value.slice(0, 8));
  });

  it('does not cache a bad value into a good ring: the next read after maxAge may succeed', async () => {
    ssm.on(GetParameterCommand).resolvesOnce(answer('{oops')).resolves(answer(VALUE));
    const keys = signingKeys({ parameterName: NAME, stage: 'prod', maxAgeSeconds: 0 });
    await expect(keys.keyRing()).rejects.toThrow('not valid JSON');
    expect((await keys.keyRing()).current.kid).toBe('2026-11');
  });

  it('names the parameter when it does not exist', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: '', $metadata: { httpStatusCode: 400 } }));
    const error = signingKeys({ parameterName: NAME, stage: 'prod' }).keyRing();
    await expect(error).rejects.toThrow(`cannot read the signing-key parameter ${NAME}: ParameterNotFoundError`);
  });

  it('passes on a read failure (access denied) with the parameter named, for a retry', async () => {
    const denied = Object.assign(new Error(`User: arn:aws:sts::123456789012:assumed-role/modelgate-prod-review/fn is not authorized to perform: ssm:GetParameter`), {
      name: 'AccessDeniedException',
    });
    ssm.on(GetParameterCommand).rejects(denied);
    await expect(signingKeys({ parameterName: NAME, stage: 'prod' }).keyRing()).rejects.toThrow(
      new RegExp(`^cannot read the signing-key parameter ${NAME}: GetParameterError: User: .* ssm:GetParameter$`),
    );
  });
});

describe('signingKeys without a parameter', () => {
  it('gives the public LOCAL_KEY_RING on stage local, without calling SSM', async () => {
    const ring = await signingKeys({ stage: 'local' }).keyRing();
    expect(ring).toBe(LOCAL_KEY_RING);
    expect(ring.current.kid).toBe('local');
    expect(ring.current.secret.byteLength).toBe(32);
    expect(ring.previous).toBeUndefined();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
    expect(verifyReviewToken(signReviewToken(CLAIMS, ring.current), ring, CLAIMS.expiresAt - 1).ok).toBe(true);
  });

  it('treats an empty parameter name as none', async () => {
    expect(await signingKeys({ parameterName: '', stage: 'local' }).keyRing()).toBe(LOCAL_KEY_RING);
  });

  it.each(['prod', 'dev', 'staging', 'Local'])('throws on stage %s, at construction', (stage) => {
    expect(() => signingKeys({ stage })).toThrow(/parameter is required outside stage local/);
    expect(() => signingKeys({ stage, parameterName: '' })).toThrow(stage);
  });

  it('LOCAL_KEY_RING cannot be changed in place', () => {
    expect(Object.isFrozen(LOCAL_KEY_RING)).toBe(true);
    expect(Object.isFrozen(LOCAL_KEY_RING.current)).toBe(true);
  });
});
