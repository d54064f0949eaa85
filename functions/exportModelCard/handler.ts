import { lambdaHandler } from '#shared/handler.js';
import { exportModelCard } from '#shared/usecases/model-card.js';
import { wire } from '#shared/wire/deps.js';
import { modelCardsPort } from '#shared/wire/sagemaker.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports exportModelCard uses (store, modelCards): its bundle holds no other AWS client. */
const deps = wire('exportModelCard', { store: storePort, modelCards: modelCardsPort });

/**
 * Operator: `serverless invoke -f exportModelCard --data '{"modelPackageArn":"…","pushToSageMaker":true}'`.
 * Returns the card as JSON and Markdown; with `pushToSageMaker`, also creates or updates the
 * SageMaker model card `<group>-v<version>`.
 */
export const handler = lambdaHandler('exportModelCard', { subject: 'exportModelCard request' }, async (payload: unknown) => exportModelCard(deps, payload));
