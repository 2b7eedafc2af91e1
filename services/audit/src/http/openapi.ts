import { applyDecorators, type INestApplication } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiQuery,
  ApiUnauthorizedResponse,
  DocumentBuilder,
  SwaggerModule,
} from '@nestjs/swagger';

export const ApiAuthResponses = () =>
  applyDecorators(
    ApiUnauthorizedResponse({ description: 'no bearer token, or one the Kubernetes API server rejects' }),
    ApiForbiddenResponse({
      description: 'the caller may not `get` `decisions.audit.capstan.dev` in the namespace asked about',
    }),
  );

export const BAD_PARAMETER = ApiBadRequestResponse({
  description: 'a parameter is invalid; `parameter` names it and `message` says why',
});

/** Documents optional query parameters, `[name, description]` each. */
export const ApiQueries = (params: readonly (readonly [string, string])[]) =>
  applyDecorators(...params.map(([name, description]) => ApiQuery({ name, required: false, description })));

/**
 * Serves the OpenAPI document generated from the controllers: UI at /api/docs, JSON at
 * /api/docs-json. Must run before the app starts listening (routes added later sit behind
 * Nest's 404 handler).
 */
export function setupApiDocs(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Capstan audit API')
    .setDescription(
      'Who deployed what, when and why: the hash-chained decision log of Capstan. Every request ' +
        'needs a Kubernetes bearer token; access is RBAC `get` on `decisions` in API group ' +
        '`audit.capstan.dev`, per namespace or cluster-wide.',
    )
    .setVersion('v1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: 'api/docs-json',
  });
}
