/**
 * Serverless adds `DependsOn: <role>` to a function whose `role` is one of the template's own
 * roles, although its `Role: Fn::GetAtt` already orders them (cfn-lint W3005). This drops that one
 * entry; every other DependsOn (log groups, an event source mapping's role) is kept.
 */
class RedundantRoleDependsOn {
  constructor(serverless) {
    this.hooks = {
      'before:package:finalize': () => prune(serverless.service.provider.compiledCloudFormationTemplate),
    };
  }
}

function prune(template) {
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function' || !Array.isArray(resource.DependsOn)) continue;
    const role = resource.Properties?.Role?.['Fn::GetAtt']?.[0];
    if (role) resource.DependsOn = resource.DependsOn.filter((d) => d !== role);
  }
}

module.exports = RedundantRoleDependsOn;
