import { lambdaHandler } from '#shared/handler.js';
import { sweepReviews } from '#shared/usecases/sweep.js';
import { wire } from '#shared/wire/deps.js';
import { keysPort } from '#shared/wire/keys.js';
import { reportsPort } from '#shared/wire/reports.js';
import { registryPort } from '#shared/wire/sagemaker.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** Reminders and expiry (messages, signed links), pending side effects, and the versions waiting for a job (the gate's ports). */
const deps = wire('sweepReviews', { store: storePort, registry: registryPort, reports: reportsPort, notifier: notifierPort, keys: keysPort });

/** EventBridge schedule, hourly: reminders, expiry, and side effects left pending. */
export const handler = lambdaHandler('sweepReviews', { subject: 'sweep' }, async () => sweepReviews(deps));
