import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestServerOptions } from '../../src/testserver/server.js';

/** A scratch folder and a local Ed-Fi test server, with the sync credentials set in the environment for the test. */
export interface ServerWorld {
  dir: string;
  server: TestServer;
}

/**
 * Registers mocha hooks (around each test, or around the whole describe block) that start the world and take it
 * down again, restoring EDFI_CLIENT_ID / EDFI_CLIENT_SECRET as they were.
 */
export function useServerWorld(scope: 'each' | 'all', name: string, clientId: string, clientSecret: string, options: TestServerOptions = {}): ServerWorld {
  const world = {} as ServerWorld;
  const saved = { id: process.env.EDFI_CLIENT_ID, secret: process.env.EDFI_CLIENT_SECRET };
  const up = async (): Promise<void> => {
    world.dir = mkdtempSync(join(tmpdir(), `edfi-${name}-`));
    world.server = await startTestServer({ ...options, clientId, clientSecret });
    process.env.EDFI_CLIENT_ID = clientId;
    process.env.EDFI_CLIENT_SECRET = clientSecret;
  };
  const down = async (): Promise<void> => {
    await world.server?.close();
    if (world.dir) rmSync(world.dir, { recursive: true, force: true });
    if (saved.id === undefined) delete process.env.EDFI_CLIENT_ID;
    else process.env.EDFI_CLIENT_ID = saved.id;
    if (saved.secret === undefined) delete process.env.EDFI_CLIENT_SECRET;
    else process.env.EDFI_CLIENT_SECRET = saved.secret;
  };
  if (scope === 'each') {
    beforeEach(up);
    afterEach(down);
  } else {
    before(up);
    after(down);
  }
  return world;
}
