import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { tracer } from '../../tracer.js';

let sagemaker: SageMakerClient | undefined;

/** The SageMaker client (the registry, endpoints, model cards), built on first use, traced. */
export const sageMakerClient = (): SageMakerClient => (sagemaker ??= tracer.captureAWSv3Client(new SageMakerClient({})));
