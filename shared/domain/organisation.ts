/**
 * Who sends modelgate's pages and messages (serverless.yml params `organisationName` and
 * `organisationContact`). Every review page and every SNS message carries the same line, so that
 * a reviewer can tell a real message from a phishing one and knows whom to ask.
 */
export interface Organisation {
  name: string;
  /** An email address or a URL; pages show it as text, never as a link (they have no href). */
  contact: string;
}

/** The one line every page and message carries: `Acme Bank model risk — questions about this message: model-risk@acme-bank.example`. */
export function trustLine(organisation: Organisation): string {
  return `${organisation.name} — questions about this message: ${organisation.contact}`;
}

/** A message that ends with the organisation's line, after a blank line. */
export function withTrustLine(message: string, organisation: Organisation): string {
  return `${message}\n\n${trustLine(organisation)}`;
}
