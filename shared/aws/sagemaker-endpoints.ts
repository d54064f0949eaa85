import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointsCommand,
  type ContainerDefinition,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { endpointStatus, isServing, type ServedModel } from '../domain/deployment.js';
import { ValidationError } from '../domain/errors.js';
import type { Registry } from '../ports.js';

/** SageMaker answers an unknown endpoint, config or model with ValidationException "Could not find …". */
const isNotFound = (e: unknown): boolean => e instanceof Error && e.name === 'ValidationException' && /could not find|not found|does not exist/i.test(e.message);

/** The versioned model package ARN's group and version (the table key), when it is one. */
export function versionOfPackage(arn: string): { group: string; version: number } | undefined {
  const m = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/([^/]+)\/(\d+)$/.exec(arn);
  return m?.[1] && m[2] ? { group: m[1], version: Number(m[2]) } : undefined;
}

/**
 * The endpoint half of the SageMaker registry adapter: what an endpoint serves, read the only way
 * SageMaker says it (DescribeEndpoint → DescribeEndpointConfig → DescribeModel per distinct model).
 */
export function sageMakerEndpoints(client: SageMakerClient): Pick<Registry, 'describeEndpoint' | 'listEndpoints'> {
  return {
    async describeEndpoint(name) {
      let endpoint;
      try {
        endpoint = await client.send(new DescribeEndpointCommand({ EndpointName: name }));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      const status = endpointStatus(endpoint.EndpointStatus ?? '');
      if (!endpoint.EndpointName || !endpoint.EndpointArn || !status || !endpoint.EndpointConfigName) {
        throw new ValidationError(`DescribeEndpoint answer for ${name}`, ['EndpointName, EndpointArn, EndpointConfigName and a documented EndpointStatus are required']);
      }
      const observed = {
        name: endpoint.EndpointName,
        arn: endpoint.EndpointArn,
        status,
        configName: endpoint.EndpointConfigName,
        lastModified: (endpoint.LastModifiedTime ?? endpoint.CreationTime ?? new Date(0)).getTime(),
        ...(endpoint.CreationTime ? { createdAt: endpoint.CreationTime.getTime() } : {}),
      };
      if (!isServing(status)) return { ...observed, served: [] };
      const config = await client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }));
      const variants = (config.ProductionVariants ?? []).flatMap((v) => (v.VariantName && v.ModelName ? [{ variant: v.VariantName, model: v.ModelName }] : []));
      const models = new Map<string, ContainerDefinition[]>();
      for (const model of new Set(variants.map((v) => v.model))) {
        const described = await client.send(new DescribeModelCommand({ ModelName: model }));
        models.set(model, described.Containers?.length ? described.Containers : described.PrimaryContainer ? [described.PrimaryContainer] : []);
      }
      const served: ServedModel[] = variants.flatMap(({ variant, model }) => {
        const packages = (models.get(model) ?? []).flatMap((c) => (c.ModelPackageName ? [c.ModelPackageName] : []));
        if (packages.length === 0) return [{ variant, model }];
        return packages.map((arn) => ({ variant, model, modelPackageArn: arn, ...(versionOfPackage(arn) ?? {}) }));
      });
      return { ...observed, served };
    },

    async listEndpoints({ nextToken }) {
      const out = await client.send(
        new ListEndpointsCommand({ StatusEquals: 'InService', SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }),
      );
      const items = (out.Endpoints ?? []).flatMap((e) =>
        e.EndpointName && e.EndpointArn ? [{ name: e.EndpointName, arn: e.EndpointArn, lastModified: (e.LastModifiedTime ?? e.CreationTime ?? new Date(0)).getTime() }] : [],
      );
      return { items, ...(out.NextToken ? { nextToken: out.NextToken } : {}) };
    },
  };
}
