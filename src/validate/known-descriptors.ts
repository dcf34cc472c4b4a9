// Which descriptor values a profile can send: the Ed-Fi default lists (schemas/edfi/descriptors.json) for the
// uri://ed-fi.org namespace, and the state's own published lists (descriptors.yaml) for its namespaces.
import { loadDescriptors } from '../edfi/schemas.js';
import { descriptorUri } from '../mapping/functions.js';
import { profileDescriptors } from '../profile/descriptor-lists.js';
import type { LoadedProfile } from '../profile/load-profile.js';

const EDFI_NAMESPACE = 'uri://ed-fi.org';

export class KnownDescriptors {
  private readonly edfi = loadDescriptors();
  /** Namespace (uri://.../XDescriptor) -> the values the state publishes. */
  private readonly published = new Map<string, Set<string>>();

  constructor(private readonly profile: LoadedProfile) {
    for (const uris of profileDescriptors(profile).values()) {
      for (const uri of uris) {
        const ns = uri.slice(0, uri.indexOf('#'));
        let set = this.published.get(ns);
        if (!set) this.published.set(ns, (set = new Set()));
        set.add(uri);
      }
    }
  }

  /** The URI the profile sends for a code value (a value that already is a URI is kept). */
  uri(descriptor: string, code: string): string | undefined {
    return descriptorUri(this.profile.def.descriptorNamespaces ?? { default: EDFI_NAMESPACE }, descriptor, code);
  }

  /** true/false when a list covers the value's namespace; undefined when no list does (nothing to check against). */
  known(descriptor: string, uri: string): boolean | undefined {
    const ns = uri.includes('#') ? uri.slice(0, uri.indexOf('#')) : uri;
    const own = this.published.get(ns);
    if (own) return own.has(uri);
    const edfi = this.edfi.get(descriptor);
    if (edfi && ns === `${EDFI_NAMESPACE}/${descriptor}`) return edfi.has(uri);
    return undefined;
  }

  /**
   * A value the profile's mapping puts in a namespace the profile declares for its state (not Ed-Fi's) but no
   * published list covers: nothing can check it before the ODS does. (A full URI a district enters in Resource
   * Preferences is the district's own and is sent as entered.)
   */
  unchecked(descriptor: string, uri: string): boolean {
    if (this.known(descriptor, uri) !== undefined) return false;
    const declared = Object.values(this.profile.def.descriptorNamespaces ?? {}).map((n) => n.replace(/\/+$/, '')).filter((n) => n !== EDFI_NAMESPACE);
    return declared.some((n) => uri.startsWith(`${n}/${descriptor}#`));
  }

  /** The values a list offers for a descriptor's namespace, for messages. */
  listed(descriptor: string, uri: string): string[] {
    const ns = uri.includes('#') ? uri.slice(0, uri.indexOf('#')) : uri;
    return [...(this.published.get(ns) ?? (ns === `${EDFI_NAMESPACE}/${descriptor}` ? this.edfi.get(descriptor) : undefined) ?? [])].map((u) => u.slice(u.indexOf('#') + 1));
  }
}

/** Resource Preference element -> descriptor name: careerPathwayDescriptor -> CareerPathwayDescriptor. */
export function descriptorOfElement(element: string): string | undefined {
  return element.endsWith('Descriptor') ? element[0]!.toUpperCase() + element.slice(1) : undefined;
}
