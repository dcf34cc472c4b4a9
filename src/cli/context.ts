import type { Database } from 'better-sqlite3';
import { loadProfile, type LoadedProfile } from '../profile/load-profile.js';
import { openSnapshot } from '../snapshot/open.js';
import { openStateFile } from './state-file.js';

/** What most commands open: the profile, the snapshot (checked) and the state file (or an empty one in memory). */
export interface RunContext {
  profile: LoadedProfile;
  snapshot: Database;
  state: Database;
  close(): void;
}

export function openContext(opts: { profile: string; snapshot: string; state?: string }): RunContext {
  const profile = loadProfile(opts.profile);
  const snapshot = openSnapshot(opts.snapshot);
  let state: Database;
  try {
    state = openStateFile(opts.state);
  } catch (err) {
    snapshot.close();
    throw err;
  }
  return {
    profile,
    snapshot,
    state,
    close() {
      snapshot.close();
      state.close();
    },
  };
}
