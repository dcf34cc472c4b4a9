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

/** The profile whose connections a profile serves (`connectionProfile`, e.g. of a variant for another Data Standard). */
export function connectionProfileOf(name: string): string {
  return loadProjectProfile(name).def.connectionProfile ?? name;
}

/** Profiles that have connections of their own (not a variant serving another profile's). */
export function connectionOwners(): string[] {
  return projectProfiles().filter((name) => connectionProfileOf(name) === name);
}
