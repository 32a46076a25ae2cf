/**
 * Several invocations in one job with ambient credentials (the downscope
 * pattern): the first exports KUBECONFIG pointing at its ServiceAccount's
 * kubeconfig, and the second must not take that narrow identity for its
 * bootstrap. So the action remembers, in two variables it exports beside
 * KUBECONFIG, which file it exported and what KUBECONFIG was before. A KUBECONFIG
 * a later step sets to something else is taken as it is.
 */
export const EXPORTED_VARIABLE = 'SA_KUBECONFIG_EXPORTED';
export const PREVIOUS_VARIABLE = 'SA_KUBECONFIG_PREVIOUS_KUBECONFIG';

type Environment = Readonly<Record<string, string | undefined>>;

/** KUBECONFIG as the job had it before any invocation of this action exported its own. */
export function ambientKubeconfig(env: Environment): string | undefined {
  const exported = env[EXPORTED_VARIABLE];
  if (exported && env.KUBECONFIG === exported) return env[PREVIOUS_VARIABLE] || undefined;
  return env.KUBECONFIG;
}

/** The environment with KUBECONFIG restored to its ambient value. */
export function withAmbientKubeconfig(env: Environment): Record<string, string | undefined> {
  return { ...env, KUBECONFIG: ambientKubeconfig(env) };
}

/** The variables to export with a new KUBECONFIG, so the next invocation can see past it. */
export function exportsFor(file: string, env: Environment): Record<string, string> {
  return { KUBECONFIG: file, [EXPORTED_VARIABLE]: file, [PREVIOUS_VARIABLE]: ambientKubeconfig(env) ?? '' };
}
