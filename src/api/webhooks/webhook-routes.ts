import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pageQuery } from '../pagination.js';
import { pathParams, responseSchema } from '../schemas.js';
import {
  createdWebhookView,
  deliveryDetailView,
  deliveryView,
  newWebhook,
  type WebhookService,
  webhookView,
} from './webhook-service.js';

const projectParams = z.object({ project: pathParams.project });
const webhookParams = projectParams.extend({
  webhook: z.string().min(1).max(128).describe('The webhook ID'),
});
const deliveryParams = projectParams.extend({
  delivery: z.string().min(1).max(128).describe('The delivery ID'),
});

const webhookList = responseSchema(
  'WebhookList',
  z.object({ webhooks: z.array(webhookView), nextPageToken: z.string().optional() }),
);
const deliveryList = responseSchema(
  'WebhookDeliveryList',
  z.object({ deliveries: z.array(deliveryView), nextPageToken: z.string().optional() }),
);

export function webhookOperations(webhooks: WebhookService): ApiOperation[] {
  const base = '/api/v1/projects/{project}/webhooks';
  const one = `${base}/{webhook}`;
  const delivery = '/api/v1/projects/{project}/webhookDeliveries/{delivery}';
  const needs = 'Needs artifactstore.owner on the project.';
  const tag = 'Webhooks';
  return [
    operation({
      id: 'listWebhooks',
      method: 'GET',
      path: base,
      tag,
      summary: 'List the webhooks of a project',
      description: needs,
      params: projectParams,
      query: pageQuery,
      response: webhookList,
      handle: async ({ caller, params, query }) => {
        const page = await webhooks.list(caller, params.project, query);
        return { webhooks: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'createWebhook',
      method: 'POST',
      path: base,
      tag,
      summary: 'Register a webhook; the response carries its signing secret this once',
      description: `${needs} The URL must not reach loopback, private, link-local or metadata addresses unless the administrator allows them.`,
      params: projectParams,
      body: newWebhook,
      status: 201,
      response: createdWebhookView,
      handle: ({ caller, params, body }) => webhooks.create(caller, params.project, body),
    }),
    operation({
      id: 'getWebhook',
      method: 'GET',
      path: one,
      tag,
      summary: 'Get a webhook (never its secret)',
      description: needs,
      params: webhookParams,
      response: webhookView,
      handle: ({ caller, params }) => webhooks.get(caller, params.project, params.webhook),
    }),
    operation({
      id: 'deleteWebhook',
      method: 'DELETE',
      path: one,
      tag,
      summary: 'Delete a webhook with its delivery records',
      description: needs,
      params: webhookParams,
      handle: async ({ caller, params }) => webhooks.delete(caller, params.project, params.webhook),
    }),
    operation({
      id: 'listWebhookDeliveries',
      method: 'GET',
      path: `${one}/deliveries`,
      tag,
      summary: "List a webhook's deliveries, newest first, with their outcomes",
      description: needs,
      params: webhookParams,
      query: pageQuery,
      response: deliveryList,
      handle: async ({ caller, params, query }) => {
        const page = await webhooks.deliveries(caller, params.project, params.webhook, query);
        return { deliveries: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'getWebhookDelivery',
      method: 'GET',
      path: delivery,
      tag,
      summary: 'Get a delivery with its payload and every attempt',
      description: needs,
      params: deliveryParams,
      response: deliveryDetailView,
      handle: ({ caller, params }) => webhooks.delivery(caller, params.project, params.delivery),
    }),
    operation({
      id: 'redeliverWebhookDelivery',
      method: 'POST',
      path: `${delivery}/redeliver`,
      tag,
      summary: 'Send a delivery again, as a new delivery of the same event',
      description: needs,
      params: deliveryParams,
      status: 201,
      response: deliveryView,
      handle: ({ caller, params }) => webhooks.redeliver(caller, params.project, params.delivery),
    }),
  ];
}
