/**
 * The demo app on the shared test Redis with a private key prefix, for the in-process demo tests.
 */
import type { Cluster, Redis } from 'ioredis';
import { createDemoApp, type DemoAppOptions } from '../../demo-app/app';
import { TEST_SECRET } from '../helpers/app';
import { TARGETS, uniquePrefix } from '../helpers/targets';

/** What a demo test file works with; filled in by beforeAll. */
export interface DemoContext {
  redis: Redis | Cluster;
  app: ReturnType<typeof createDemoApp>['app'];
  /** Another demo app on the same Redis and prefix-free settings, e.g. a short idle timeout. */
  variant(options: Partial<DemoAppOptions>): ReturnType<typeof createDemoApp>['app'];
}

/** Registers beforeAll/afterAll that build the demo app on the shared single Redis. */
export function useDemoApp(): DemoContext {
  const ctx = {} as DemoContext;
  beforeAll(() => {
    ctx.redis = TARGETS[0].ioredis();
    ctx.variant = (options) => createDemoApp({ redis: ctx.redis, secret: TEST_SECRET, keyPrefix: uniquePrefix(), ...options }).app;
    ctx.app = ctx.variant({});
  });
  afterAll(async () => {
    await ctx.redis.quit();
  });
  return ctx;
}
