import middy from '@middy/core';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { typedErrors } from '../shared/middleware.js';
import { logger } from '../shared/logger.js';
import { TrainingJobStateChangeSchema } from '../shared/schemas/events.js';
logger.setLogLevel('SILENT');
const h = middy().use(typedErrors('x')).use(parser({ schema: TrainingJobStateChangeSchema })).handler(async (e: unknown) => e);
for (const ev of [null, 5, 'str', [], {}, { detail: { HyperParameters: { a: 1 } } }]) {
  try { await h(ev as never, {} as never); console.log('ok'); } catch (e) { console.log((e as Error).name, (e as { problems?: string[] }).problems?.slice(0, 3)); }
}
