// The profile-facing tests (spec/profiles/) run over whatever profiles the project has: a new state's folder is
// tested like the shipped ones, with no change to any test.
import { loadProfile, type LoadedProfile } from '../../src/profile/load-profile.js';
import { repoRoot } from '../../src/util/repo-root.js';
import { listProfiles } from '../../src/validate/discover-profiles.js';

/** The names of the project's profiles (profiles/<name>/profile.yaml). */
export function projectProfiles(): string[] {
  return listProfiles(repoRoot());
}

export function loadProjectProfile(name: string): LoadedProfile {
  return loadProfile(name, repoRoot());
}
