import { InputError } from './errors.ts';

/** One line of `require-permissions`: what the minted token must be allowed to do. */
export interface PermissionRequirement {
  readonly line: string;
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource: string;
  /** undefined = the ServiceAccount's own namespace. */
  readonly namespace: string | undefined;
}

const EXPECTED =
  "Expected 'VERB RESOURCE[.GROUP][/SUBRESOURCE] [-n NAMESPACE]', for example 'get pods', 'create deployments.apps' or 'get pods/log -n other'.";

/** Parses `get pods`, `create deployments.apps`, `get pods/log -n other`, the shape of `kubectl auth can-i`. */
export function parsePermission(line: string): PermissionRequirement {
  const words = line.split(/\s+/).filter((word) => word !== '');
  let namespace: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '-n' || word === '--namespace') {
      namespace = words[++i];
      if (namespace === undefined) throw new InputError(`Invalid require-permissions line '${line}': ${word} needs a namespace. ${EXPECTED}`);
    } else if (word.startsWith('--namespace=')) {
      namespace = word.slice('--namespace='.length);
    } else {
      positional.push(word);
    }
  }
  const [verb, target, ...extra] = positional;
  if (verb === undefined || target === undefined || extra.length > 0 || !/^[a-z*]+$/i.test(verb)) {
    throw new InputError(`Invalid require-permissions line '${line}'. ${EXPECTED}`);
  }
  const [resourceAndGroup = '', subresource = ''] = target.split('/', 2);
  const dot = resourceAndGroup.indexOf('.');
  const resource = dot === -1 ? resourceAndGroup : resourceAndGroup.slice(0, dot);
  const group = dot === -1 ? '' : resourceAndGroup.slice(dot + 1);
  if (!/^[a-z0-9*-]+$/.test(resource) || !/^[a-z0-9.*-]*$/.test(group) || !/^[a-z0-9*-]*$/.test(subresource)) {
    throw new InputError(`Invalid require-permissions line '${line}'. ${EXPECTED}`);
  }
  return { line, verb: verb.toLowerCase(), group, resource, subresource, namespace };
}

/** The RBAC rule that would grant a missing permission, as a Role's rules entry in YAML flow style. */
export function ruleFor(requirement: PermissionRequirement): string {
  const resource = requirement.subresource ? `${requirement.resource}/${requirement.subresource}` : requirement.resource;
  return `{apiGroups: ["${requirement.group}"], resources: ["${resource}"], verbs: ["${requirement.verb}"]}`;
}
