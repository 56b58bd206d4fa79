/**
 * `npm run -s deploy:rbac -- --config FILE`: prints the RoleBindings granting Prescaler's ClusterRole
 * in every namespace FILE's targets name (deploy/base/rbac.yaml says why per namespace). Kustomize cannot
 * make one object per list entry of a config file; this does, and test/deploy.test.ts checks each
 * overlay's rolebindings.yaml is exactly this output.
 */
import * as fs from 'node:fs';
import { DEFAULT_RBAC, roleBindingsYaml, targetsOf } from '../actuate/rbac';
import { fail, parseCli } from './args';

const NAME = 'deploy:rbac';
const USAGE = `usage: npm run -s deploy:rbac -- --config FILE [--service-account NAME] [--namespace NS] [--cluster-role NAME]

  --config FILE          PRESCALER_CONFIG YAML whose targets' namespaces get a RoleBinding
  --service-account NAME the backend's ServiceAccount (default ${DEFAULT_RBAC.serviceAccount})
  --namespace NS         the namespace the backend runs in (default ${DEFAULT_RBAC.serviceAccountNamespace})
  --cluster-role NAME    the ClusterRole bound (default ${DEFAULT_RBAC.clusterRole})
`;

const args = parseCli(NAME, USAGE, {
  config: { type: 'string' },
  'service-account': { type: 'string' },
  namespace: { type: 'string' },
  'cluster-role': { type: 'string' },
});
if (!args.config) fail(NAME, `--config is required\n\n${USAGE}`);
let text: string;
try {
  text = fs.readFileSync(args.config, 'utf8');
} catch (e) {
  fail(NAME, `cannot read ${args.config}: ${(e as Error).message}`);
}
let targets;
try {
  targets = targetsOf(text);
} catch (e) {
  fail(NAME, `${args.config}: ${(e as Error).message}`);
}
process.stdout.write(
  roleBindingsYaml(
    targets,
    {
      clusterRole: args['cluster-role'] ?? DEFAULT_RBAC.clusterRole,
      serviceAccount: args['service-account'] ?? DEFAULT_RBAC.serviceAccount,
      serviceAccountNamespace: args.namespace ?? DEFAULT_RBAC.serviceAccountNamespace,
    },
    args.config
  )
);
