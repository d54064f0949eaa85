import { randomBytes } from 'node:crypto';
import { config, requiredSetting } from '../config.js';
import type { Deps } from '../ports.js';

/** 128 random bits, URL-safe: review ids and link ids. */
export const newId = (): string => randomBytes(16).toString('base64url');

/** The ports that hold an AWS client (each built by a module of shared/wire/). */
export type AwsPort = 'store' | 'keys' | 'registry' | 'notifier' | 'subscriptions' | 'modelCards' | 'reports';

/** What a function builds: one builder per port it uses, each called once, on first use. */
export type PortBuilders = { [K in AwsPort]?: () => Deps[K] };

/**
 * A function's `Deps`, with only the ports it was given. Each function's handler imports the
 * builders of the ports its use case needs (shared/wire/<port>.ts) and nothing else, so its bundle
 * holds only those SDK clients. A port it was not given is a stand-in whose every method fails
 * with the function's and the port's names: a use case that starts needing a port fails its first
 * call to it, loudly, instead of a bundle silently growing every client back.
 *
 * The stand-in is an object, not a throwing getter: use cases copy `Deps` (`{ ...deps }`), which
 * reads every property, and a copy must not fail for a port the copy never calls.
 */
export function wire(functionName: string, builders: PortBuilders): Deps {
  const built: Partial<Deps> = {};
  const port = <K extends AwsPort>(name: K): Deps[K] => {
    const builder = builders[name];
    if (!builder) return unwired(functionName, name) as Deps[K];
    return (built[name] ??= builder());
  };
  return {
    get store() {
      return port('store');
    },
    get keys() {
      return port('keys');
    },
    get registry() {
      return port('registry');
    },
    get notifier() {
      return port('notifier');
    },
    get subscriptions() {
      return port('subscriptions');
    },
    get modelCards() {
      return port('modelCards');
    },
    get reports() {
      return port('reports');
    },
    clock: { now: () => Date.now() },
    newId,
    get reviewBaseUrl() {
      return config().REVIEW_BASE_URL;
    },
    // Read when a page or message is made: only the functions that make them are given the
    // organisation (serverless.yml), so another one starts without it, and one that was left out
    // by mistake fails at its first page or message with the variable's name, sending nothing.
    organisation: {
      get name() {
        return requiredSetting('ORGANISATION_NAME');
      },
      get contact() {
        return requiredSetting('ORGANISATION_CONTACT');
      },
    },
  };
}

/** The error a port that a function was not wired with throws, on any use. */
export class PortNotWired extends Error {
  override readonly name = 'PortNotWired';
  constructor(functionName: string, port: AwsPort, member: string) {
    super(`${functionName} is not wired with the ${port} port (${port}.${member} was called): give it in functions/${functionName}/handler.ts (shared/wire/)`);
  }
}

function unwired(functionName: string, port: AwsPort): object {
  const cache = new Map<string, () => never>();
  return new Proxy(
    {},
    {
      get(_target, member) {
        // Not a method: `then` (await), symbols (inspection) and the like answer undefined.
        if (typeof member !== 'string' || member === 'then' || member === 'toJSON') return undefined;
        let fail = cache.get(member);
        if (!fail) {
          fail = () => {
            throw new PortNotWired(functionName, port, member);
          };
          cache.set(member, fail);
        }
        return fail;
      },
    },
  );
}
