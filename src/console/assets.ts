import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Route } from '../server/router.js';

/**
 * The console's stylesheet and script, served from this origin (the CSP allows no other). Read once
 * at start; their URLs carry a hash of their content, so browsers may cache them for good.
 */

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly hash: string;
}

function load(file: string, type: string): Asset {
  const body = readFileSync(new URL(`./assets/${file}`, import.meta.url));
  return { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) };
}

const assets = {
  'console.css': load('console.css', 'text/css; charset=utf-8'),
  'console.js': load('console.js', 'text/javascript; charset=utf-8'),
} as const;

type AssetName = keyof typeof assets;

/** The versioned URL a page links the asset at. */
export function assetUrl(name: AssetName): string {
  return `/assets/${name}?v=${assets[name].hash}`;
}

export const assetRoutes: Route[] = [
  {
    name: 'console-asset',
    pattern: /^\/assets\/(?<file>console\.(?:css|js))$/,
    methods: {
      GET: {
        action: 'none',
        handler: async ({ res, params }) => {
          const asset = assets[params.file as AssetName];
          res.writeHead(200, {
            'Content-Type': asset.type,
            'Content-Length': asset.body.length,
            'Cache-Control': 'public, max-age=31536000, immutable',
            'X-Content-Type-Options': 'nosniff',
          });
          res.end(asset.body);
        },
      },
    },
  },
];
