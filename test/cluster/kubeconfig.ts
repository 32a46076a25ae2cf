// Kubeconfig files for the test cluster's users.

export type Credentials =
  | { token: string }
  | { certData: string; keyData: string }
  /** A client-go exec credential plugin: the command prints an ExecCredential. */
  | { exec: { command: string; args?: string[] } };

export interface KubeconfigSpec {
  server: string;
  /** base64 of the CA's PEM */
  caData: string;
  /** Names the user and the context (which becomes the current one). */
  user: string;
  credentials: Credentials;
}

/** A kubeconfig with the CA embedded, one cluster, one user and one current context. */
export function kubeconfigYaml({ server, caData, user, credentials }: KubeconfigSpec): string {
  // JSON strings are valid YAML scalars, so every value is quoted with JSON.stringify.
  const q = JSON.stringify;
  const userFields = 'token' in credentials
    ? [`    token: ${q(credentials.token)}`]
    : 'exec' in credentials
      ? [
          '    exec:',
          '      apiVersion: client.authentication.k8s.io/v1',
          '      interactiveMode: Never',
          `      command: ${q(credentials.exec.command)}`,
          `      args: ${q(credentials.exec.args ?? [])}`,
        ]
      : [`    client-certificate-data: ${q(credentials.certData)}`, `    client-key-data: ${q(credentials.keyData)}`];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sa-kubeconfig-test',
    '  cluster:',
    `    server: ${q(server)}`,
    `    certificate-authority-data: ${q(caData)}`,
    'users:',
    `- name: ${q(user)}`,
    '  user:',
    ...userFields,
    'contexts:',
    `- name: ${q(user)}`,
    '  context:',
    '    cluster: sa-kubeconfig-test',
    `    user: ${q(user)}`,
    `current-context: ${q(user)}`,
    '',
  ].join('\n');
}
