import { sageMakerClient } from '../aws/clients/sagemaker.js';
import { sageMakerModelCards } from '../aws/model-cards.js';
import { sageMakerRegistry } from '../aws/sagemaker.js';
import type { ModelCards, Registry } from '../ports.js';

let registry: Registry | undefined;
let modelCards: ModelCards | undefined;

/** The model registry and endpoints (SageMaker). */
export const registryPort = (): Registry => (registry ??= sageMakerRegistry(sageMakerClient()));

/** SageMaker Model Cards (exportModelCard). */
export const modelCardsPort = (): ModelCards => (modelCards ??= sageMakerModelCards(sageMakerClient()));
