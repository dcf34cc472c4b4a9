import { resolve } from 'node:path';
import { ConfigError } from '../util/errors.js';
import { readYamlFile } from '../util/yaml-file.js';
import type { LoadedProfile } from './load-profile.js';

/** A state's published descriptor code list (profiles/<name>/descriptors.yaml). */
export interface DescriptorList {
  descriptor: string;
  namespace: string;
  values: Array<{ codeValue: string; description?: string }>;
}

/** The descriptor URIs a profile publishes, by descriptor name: namespace#codeValue. */
export function profileDescriptors(profile: LoadedProfile): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const rel of profile.def.descriptors ?? []) {
    const file = readYamlFile(resolve(profile.root, rel), rel);
    const lists = (file.data as { descriptors?: DescriptorList[] }).descriptors;
    if (!Array.isArray(lists)) throw new ConfigError([{ file: rel, line: 1, message: "expected a top-level 'descriptors' list" }]);
    for (const l of lists) {
      const uris = l.values.map((v) => `${l.namespace.replace(/\/+$/, '')}#${v.codeValue}`);
      out.set(l.descriptor, [...(out.get(l.descriptor) ?? []), ...uris]);
    }
  }
  return out;
}
