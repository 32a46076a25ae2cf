import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  Observable,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { UserFacingError } from './errors.ts';
import { describeKubeError, transienceOfOneCall, type CallContext } from './kube-errors.ts';
import { withRetry, type RetryPolicy } from './retry.ts';

/** The narrow set of Kubernetes calls this action makes; everything else talks to this. */
export interface ClusterApi {
  requestToken(namespace: string, serviceAccount: string, spec: TokenSpec, context: CallDescription): Promise<IssuedToken>;
  ensureNamespace(name: string, context: CallDescription): Promise<boolean>;
  ensureServiceAccount(namespace: string, name: string, context: CallDescription): Promise<boolean>;
  ensureRoleBinding(namespace: string, name: string, clusterRole: string, serviceAccount: string, context: CallDescription): Promise<boolean>;
  createSecret(namespace: string, name: string, labels: Readonly<Record<string, string>>, context: CallDescription): Promise<string>;
  /** false when it was already gone. */
  deleteSecret(namespace: string, name: string, context: CallDescription): Promise<boolean>;
  /** Who the client's credentials are (SelfSubjectReview). */
  whoAmI(context: CallDescription): Promise<string>;
  /** May the client's credentials do this (SelfSubjectAccessReview)? */
  canI(attributes: AccessAttributes, context: CallDescription): Promise<boolean>;
}

/** The parts of CallContext a call site knows; the client adds server, credentials and limits. */
export type CallDescription = Pick<CallContext, 'action'> & Partial<Pick<CallContext, 'requiredRule' | 'notFound' | 'invalidHint'>>;

export interface TokenSpec {
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly boundObject: { readonly kind: 'Secret' | 'Pod'; readonly name: string; readonly uid: string | undefined } | undefined;
}

export interface IssuedToken {
  readonly token: string;
  readonly expirationTimestamp: Date;
  /** What the server granted; may be less than asked. */
  readonly expirationSeconds: number | undefined;
}

export interface AccessAttributes {
  readonly namespace: string | undefined;
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name?: string;
}

/** How every call behaves: limits, retries, and where notices go. */
export interface CallPolicy {
  readonly requestTimeoutSeconds: number;
  readonly timeoutSeconds: number;
  /** The step's deadline: aborts requests and waits between retries. */
  readonly deadline: AbortSignal;
  readonly retry: RetryPolicy;
  readonly onRetry: (message: string) => void;
  /** Kubernetes `Warning` response headers, e.g. a shortened token lifetime. */
  readonly onWarning: (warning: string) => void;
}

/** Who is calling and where, for messages: see CallContext. */
export type ClientIdentity = Pick<CallContext, 'server' | 'credentials' | 'trust' | 'proxy'>;

/** Marks every object this action creates, so they can be found and told apart from others. */
export const MANAGED_BY_LABEL = { 'app.kubernetes.io/managed-by': 'sa-kubeconfig' } as const;

const WARNING_TEXT = /\d{3} \S+ "((?:[^"\\]|\\.)*)"/g;

export function parseWarningHeader(header: string): string[] {
  return [...header.matchAll(WARNING_TEXT)].map((match) => (match[1] ?? '').replace(/\\(.)/g, '$1'));
}

function isConflict(error: unknown): boolean {
  return error instanceof ApiException && error.code === 409;
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export function createClusterApi(kubeConfig: KubeConfig, identity: ClientIdentity, policy: CallPolicy): ClusterApi {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  const authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
  const authorization = kubeConfig.makeApiClient(AuthorizationV1Api);

  // A fresh signal per attempt: the request timeout, or the step's deadline, whichever comes first.
  const perRequest: ObservableMiddleware = {
    pre: (request) => {
      request.setSignal(AbortSignal.any([AbortSignal.timeout(policy.requestTimeoutSeconds * 1000), policy.deadline]));
      return new Observable(Promise.resolve(request));
    },
    post: (response) => {
      const warning = response.headers.warning;
      if (warning !== undefined) for (const text of parseWarningHeader(warning)) policy.onWarning(text);
      return new Observable(Promise.resolve(response));
    },
  };
  // `append` keeps client-node's own User-Agent middleware.
  const options: ConfigurationOptions = { middleware: [perRequest], middlewareMergeStrategy: 'append' };

  async function call<T>(description: CallDescription, operation: () => Promise<T>): Promise<T> {
    const context: CallContext = {
      ...identity,
      ...description,
      requestTimeoutSeconds: policy.requestTimeoutSeconds,
      timeoutSeconds: policy.timeoutSeconds,
    };
    try {
      return await withRetry(operation, policy.retry, {
        classify: transienceOfOneCall(),
        signal: policy.deadline,
        onRetry: (attempt, maxAttempts, delayMs, reason) =>
          policy.onRetry(`Could not ${context.action} (${reason}); attempt ${attempt} of ${maxAttempts} in ${(delayMs / 1000).toFixed(1)}s.`),
      });
    } catch (error) {
      throw describeKubeError(error, context, policy.deadline);
    }
  }

  /** Create, treating "already exists" as success; true when this call created it. */
  async function ensure(description: CallDescription, create: () => Promise<unknown>): Promise<boolean> {
    return call(description, async () => {
      try {
        await create();
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    });
  }

  return {
    async requestToken(namespace, serviceAccount, spec, description) {
      const boundObjectRef = spec.boundObject === undefined
        ? undefined
        : { apiVersion: 'v1', kind: spec.boundObject.kind, name: spec.boundObject.name, ...(spec.boundObject.uid ? { uid: spec.boundObject.uid } : {}) };
      const response = await call(description, () =>
        core.createNamespacedServiceAccountToken(
          {
            name: serviceAccount,
            namespace,
            body: {
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'TokenRequest',
              spec: {
                audiences: [...spec.audiences],
                expirationSeconds: spec.expirationSeconds,
                ...(boundObjectRef ? { boundObjectRef } : {}),
              },
            },
          },
          options,
        ),
      );
      const token = response.status?.token;
      const expirationTimestamp = response.status?.expirationTimestamp;
      if (!token || !(expirationTimestamp instanceof Date)) {
        throw new UserFacingError(`Could not ${description.action}: the API server at ${identity.server} answered without a token.`);
      }
      return { token, expirationTimestamp, expirationSeconds: response.spec?.expirationSeconds };
    },

    ensureNamespace: (name, description) =>
      ensure(description, () => core.createNamespace({ body: { metadata: { name } } }, options)),

    ensureServiceAccount: (namespace, name, description) =>
      ensure(description, () => core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }, options)),

    ensureRoleBinding: (namespace, name, clusterRole, serviceAccount, description) =>
      ensure(description, () =>
        rbac.createNamespacedRoleBinding(
          {
            namespace,
            body: {
              metadata: { name, labels: { ...MANAGED_BY_LABEL } },
              roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
              subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
            },
          },
          options,
        ),
      ),

    async createSecret(namespace, name, labels, description) {
      const created = await call(description, async () => {
        try {
          return await core.createNamespacedSecret({ namespace, body: { metadata: { name, labels: { ...labels } }, type: 'Opaque' } }, options);
        } catch (error) {
          // A retried create whose first attempt landed: the name is ours and unique.
          if (isConflict(error)) return core.readNamespacedSecret({ namespace, name }, options);
          throw error;
        }
      });
      return created.metadata?.uid ?? '';
    },

    deleteSecret: (namespace, name, description) =>
      call(description, async () => {
        try {
          await core.deleteNamespacedSecret({ namespace, name }, options);
          return true;
        } catch (error) {
          if (isNotFound(error)) return false;
          throw error;
        }
      }),

    async whoAmI(description) {
      const review = await call(description, () =>
        authentication.createSelfSubjectReview(
          { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
          options,
        ),
      );
      return review.status?.userInfo?.username ?? '';
    },

    async canI(attributes, description) {
      const review = await call(description, () =>
        authorization.createSelfSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: {
                resourceAttributes: {
                  ...(attributes.namespace !== undefined ? { namespace: attributes.namespace } : {}),
                  verb: attributes.verb,
                  group: attributes.group,
                  resource: attributes.resource,
                  ...(attributes.subresource ? { subresource: attributes.subresource } : {}),
                  ...(attributes.name ? { name: attributes.name } : {}),
                },
              },
            },
          },
          options,
        ),
      );
      return review.status?.allowed === true;
    },
  };
}
